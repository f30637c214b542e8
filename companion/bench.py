"""`companion bench`: latency, speed and memory of the whole loop with the real engines."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from companion.config import Config

# The bench's own set: what children say, with the intent it should give.
BENCH_SET: Final = (
    ("tell me a story", "story.start"),
    ("could you tell me a bedtime story", "story.start"),
    ("what happens next", "story.continue"),
    ("keep going please", "story.continue"),
    ("let's have a shared night", "night.shared"),
    ("everyone together tonight", "night.shared"),
    ("can we make up a story", "night.freeform"),
    ("let's have a freeform night", "night.freeform"),
    ("be quiet", "stop"),
    ("stop", "stop"),
    ("sleep tight", "goodnight"),
    ("night night", "goodnight"),
    ("i had a bad dream", "bad_dream"),
    ("i had a nightmare", "bad_dream"),
    ("say that again", "repeat"),
    ("what did you say", "repeat"),
    ("play sleep sounds", "sleep_sounds"),
    ("can i have the rain", "sleep_sounds"),
)
STORY_PARAGRAPH: Final = (
    "Mila tiptoed to the window. The moon was round and soft, like a pillow in the sky. "
    "Far away, a little owl said hoo, hoo, as if it were saying goodnight."
)
GAP_S: Final = 1.5
NOISE_SNR_DB: Final = 10.0
"""Speech to fan-noise ratio of the noisy variant (a fan on a bedside table, a metre away)."""
NIGHT_ANSWERS: Final = (
    "Everyone.",
    "Playing in the snow.",
    "My cake.",
    "Purple.",
    "A tiger.",
    "Sail.",
    "Happy.",
    "A little dragon.",
    "The moon.",
)
NIGHT_CONFIG: Final = """\
[family]
children = [{ name = "Mila", age = 6 }, { name = "Leo", age = 4 }]
[bedtime]
monday = "19:30"
tuesday = "19:30"
wednesday = "19:30"
thursday = "19:30"
friday = "19:30"
saturday = "19:30"
sunday = "19:30"
[routine]
reminders = ["pyjamas on", "teeth brushed"]
"""


def _startup_s() -> float:
    """Fresh process: imports, recognizer, voice warmed, grammars ready."""
    code = (
        "import time, sys; t = float(sys.argv[1])\n"
        "from companion.app import Companion\n"
        "from companion.audio.files import WavOutput\n"
        "from companion.config import Config\n"
        "from companion.state.store import Store\n"
        "class Silence:\n"
        "    name = 'silence'\n"
        "    def chunks(self): return iter(())\n"
        "    def close(self): pass\n"
        "from pathlib import Path\n"
        "store = Store(Path(sys.argv[2]))\n"
        "c = Companion(Config(), Silence(), WavOutput('/dev/null'), store=store)\n"
        "print(time.time() - t)\n"
        "c.speaker.close()\n"
    )
    with tempfile.TemporaryDirectory(prefix="companion-bench-") as tmp:
        started = time.time()
        out = subprocess.run(
            [sys.executable, "-c", code, repr(started), f"{tmp}/state.db"],
            check=True,
            capture_output=True,
            text=True,
        )
    return float(out.stdout.strip().splitlines()[-1])


def fan_noise(samples: int, rate: int, seed: int = 5) -> np.ndarray:
    """A bedroom fan: broadband noise falling ~6 dB per octave, a low hum, RMS 1."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    freqs = np.fft.rfftfreq(samples, 1 / rate)
    spectrum /= np.maximum(freqs, 60.0) / 60.0
    noise = np.fft.irfft(spectrum, samples)
    t = np.arange(samples) / rate
    noise = noise / np.sqrt(np.mean(noise**2))
    hum = 0.3 * np.sin(2 * np.pi * 100 * t) + 0.15 * np.sin(2 * np.pi * 200 * t)
    mixed = noise + hum
    return (mixed / np.sqrt(np.mean(mixed**2))).astype(np.float32)


def _utterances(
    voice: Any, prefix: str, pitch_cents: int, folder: Path, snr_db: float | None = None
) -> tuple[Path, list[float]]:
    """All bench phrases after the wake phrase, separated by silence, as one WAV; and starts.

    With `snr_db`, fan noise runs through the whole recording at that level below the speech.
    """
    from companion.audio.wav import write_wav

    rate = voice.sample_rate
    gap = np.zeros(int(GAP_S * rate), np.float32)
    parts = [gap]
    starts: list[float] = []
    position = len(gap)
    for text, _ in BENCH_SET:
        speech = np.concatenate(list(voice.synthesize(f"{prefix}, {text}."))) * 0.8
        starts.append(position / rate)
        parts += [speech, gap]
        position += len(speech) + len(gap)
    audio = np.concatenate(parts)
    path = folder / f"bench-{pitch_cents}.wav"
    if snr_db is not None:
        voiced = np.concatenate([p for p in parts if p.any()])
        level = float(np.sqrt(np.mean(voiced**2))) / 10 ** (snr_db / 20)
        audio = np.clip(audio + level * fan_noise(len(audio), rate), -1.0, 1.0)
        path = folder / f"bench-noisy-{snr_db:.0f}dB.wav"
    write_wav(path, audio, rate)
    if pitch_cents:
        raised = folder / f"bench-{pitch_cents}-raised.wav"
        subprocess.run(["sox", str(path), str(raised), "pitch", str(pitch_cents)], check=True)
        return raised, starts
    return path, starts


def _score(turns: list[Any], starts: list[float]) -> int:
    """Correct intents, each turn matched to the utterance it ended in."""
    got: dict[int, str] = {}
    for turn in turns:
        index = max((i for i, s in enumerate(starts) if s <= turn.at_s), default=0)
        got.setdefault(index, turn.intent.name)
    return sum(got.get(i) == intent for i, (_, intent) in enumerate(BENCH_SET))


def run_bench(config: Config, rounds: int = 2) -> dict[str, Any]:
    """Measure everything and return one flat JSON-ready dict."""
    from companion.app import Companion, load_recognizer
    from companion.audio.files import WavInput, WavOutput
    from companion.dialog.replies import SimpleBrain
    from companion.paths import cache_dir, data_dir
    from companion.speech.piper_engine import PiperEngine
    from companion.speech.tts import DEFAULT_VOICE, VoiceRole, voice_files

    startup = _startup_s()
    model = voice_files(data_dir("voices"))[DEFAULT_VOICE]
    voice = PiperEngine(model, DEFAULT_VOICE, deterministic=True, cache=cache_dir() / "voices")
    stt = load_recognizer(config)

    # TTS real-time factor on a story paragraph, with the voice warmed as the companion warms it
    voice.warm()
    factors = []
    for _ in range(3):
        t = time.perf_counter()
        audio = np.concatenate(list(voice.synthesize(STORY_PARAGRAPH)))
        factors.append((time.perf_counter() - t) / (len(audio) / voice.sample_rate))
    tts_rtf = statistics.median(factors)

    latencies: list[float] = []
    accuracy: dict[str, float] = {}
    stt_time = 0.0
    stt_audio = 0.0
    with tempfile.TemporaryDirectory(prefix="companion-bench-") as tmp:
        folder = Path(tmp)
        variants = (("plain", 0, None), ("raised_pitch", 400, None), ("noise", 0, NOISE_SNR_DB))
        for label, cents, snr in variants:
            wav, starts = _utterances(voice, config.speech.wake_phrase, cents, folder, snr)
            correct = total = 0
            for _ in range(rounds if label == "plain" else 1):
                # the speech loop alone: every request is said to the idle companion and
                # answered with a short reply (no story starts, nothing is written)
                host = SimpleBrain(config.listener_name, config.speech.wake_name)
                companion = Companion(
                    config,
                    WavInput(wav),
                    WavOutput(folder / "out.wav"),
                    stt=_Timed(stt),
                    voice=(voice, VoiceRole()),
                    wait_warm=True,
                    brain=host,
                )
                companion.run()
                turns = companion.loop.turns
                if label == "plain":
                    latencies += [turn.latency_s for turn in turns]
                correct += _score(turns, starts)
                total += len(BENCH_SET)
                timed = companion.stt
                assert isinstance(timed, _Timed)
                stt_time += timed.seconds
                stt_audio += timed.audio_s
            accuracy[label] = round(correct / total, 3)

    first_audio = _story_first_audio(voice)
    idle_cpu = _idle_cpu_pct(config, stt, voice)
    rss_mb, night_s = _night_peak_rss_mb(voice)
    return {
        "story_first_audio_s": round(first_audio, 3),
        "idle_cpu_pct": round(idle_cpu, 2),
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p95_s": round(float(np.percentile(latencies, 95)), 3),
        "tts_rtf": round(tts_rtf, 4),
        "stt_rtf": round(stt_time / max(stt_audio, 1e-9), 4),
        "startup_s": round(startup, 3),
        "peak_rss_mb": round(rss_mb, 1),
        "intent_accuracy": accuracy,
        "night_audio_s": round(night_s, 1),
        "utterances": len(latencies),
        "engine": stt.name,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
    }


def answers_wav(voice: Any, answers: Sequence[str], path: Path, gap_s: float = 4.0) -> Path:
    """A child's answers in the default voice, each after `gap_s` of silence, as one WAV."""
    from companion.audio.wav import write_wav

    rate = voice.sample_rate
    gap = np.zeros(int(gap_s * rate), np.float32)
    parts = [gap]
    for answer in answers:
        parts += [np.concatenate(list(voice.synthesize(answer))) * 0.8, gap]
    write_wav(path, np.concatenate(parts), rate)
    return path


_PEAK_REPORTER: Final = """\
import atexit, runpy, sys
def report(path=sys.argv.pop(1)):
    with open("/proc/self/status") as status, open(path, "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM")).split()[1])
atexit.register(report)
runpy.run_module("companion", run_name="__main__", alter_sys=True)
"""
"""Runs the companion and writes its own peak resident memory (kB) when it exits. The kernel's
figure for a child (wait4's ru_maxrss) also counts its parent's memory when the child was
started by vfork, as subprocess does; VmHWM counts the companion's own pages alone."""


def _night_peak_rss_mb(voice: Any) -> tuple[float, float]:
    """Peak resident memory of `companion run --now` rehearsing a whole shared night.

    A fresh process, as the service runs: the routine's steps, a story from stories/, the
    goodnight and a minute of sleep sounds, answered by the child's recorded voice.
    Returns the peak in MB and the length of what the companion said, in seconds.
    """
    from companion.audio.wav import read_wav

    with tempfile.TemporaryDirectory(prefix="companion-bench-") as tmp:
        folder = Path(tmp)
        answers_wav(voice, NIGHT_ANSWERS, folder / "answers.wav")
        (folder / "companion.toml").write_text(NIGHT_CONFIG, encoding="utf-8")
        peak = folder / "peak-kb"
        command = [sys.executable, "-c", _PEAK_REPORTER, str(peak), "run", "--now"]
        command += ["--mode", "shared", "--config", str(folder / "companion.toml")]
        command += ["--input-wav", str(folder / "answers.wav")]
        command += ["--output-wav", str(folder / "night.wav")]
        env = dict(os.environ, COMPANION_STATE_DIR=str(folder / "state"))
        done = subprocess.run(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        if done.returncode != 0 or not peak.is_file():
            raise RuntimeError(f"the rehearsed night failed: {done.stderr.strip()[-500:]}")
        said, said_rate = read_wav(folder / "night.wav")
        peak_kb = int(peak.read_text(encoding="utf-8"))
    return peak_kb / 1024, len(said) / said_rate


def _story_first_audio(voice: Any) -> float:
    """A story paragraph: from the request to say it to its first audio, median of 5."""
    times = []
    for _ in range(5):
        t = time.perf_counter()
        next(iter(voice.synthesize(STORY_PARAGRAPH)))
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _idle_cpu_pct(config: Config, stt: Any, voice: Any, seconds: float = 60.0) -> float:
    """CPU per second of quiet room noise while waiting for the wake phrase, as % of one core.

    The loop is fed the audio as fast as it takes it; CPU time over audio time is what the
    same loop costs in real time.
    """
    from companion.app import Companion
    from companion.audio.files import WavOutput
    from companion.dialog.replies import SimpleBrain
    from companion.messages import SAMPLE_RATE, AudioChunk
    from companion.speech.tts import VoiceRole

    rng = np.random.default_rng(3)
    step = int(SAMPLE_RATE * 0.03)
    noise = (rng.standard_normal(int(seconds * SAMPLE_RATE)) * 30).astype(np.int16)  # ~ -60 dBFS
    chunks = [
        AudioChunk(noise[i : i + step], SAMPLE_RATE, i / SAMPLE_RATE)
        for i in range(0, len(noise) - step, step)
    ]

    class Quiet:
        name = "quiet room"

        def chunks(self) -> Iterator[AudioChunk]:
            return iter(chunks)

        def close(self) -> None:
            return None

    with tempfile.TemporaryDirectory(prefix="companion-bench-") as tmp:
        companion = Companion(
            config,
            Quiet(),
            WavOutput(Path(tmp) / "idle.wav"),
            stt=stt,
            voice=(voice, VoiceRole()),
            wait_warm=True,
            brain=SimpleBrain(),
        )
        start = time.process_time()
        companion.run()
        used = time.process_time() - start
    return 100.0 * used / seconds


class _Timed:
    """Wraps a recognizer to count its time and the audio it was fed."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.seconds = 0.0
        self.audio_s = 0.0

    def prepare(self, grammar: Any) -> None:
        if hasattr(self.inner, "prepare"):
            self.inner.prepare(grammar)

    def start(self, grammar: Any) -> None:
        t = time.perf_counter()
        self.inner.start(grammar)
        self.seconds += time.perf_counter() - t

    def feed(self, samples: np.ndarray) -> None:
        t = time.perf_counter()
        self.inner.feed(samples)
        self.seconds += time.perf_counter() - t
        self.audio_s += len(samples) / 16_000

    def partial(self) -> str:
        return self.inner.partial()

    def finish(self) -> Any:
        t = time.perf_counter()
        result = self.inner.finish()
        self.seconds += time.perf_counter() - t
        return result
