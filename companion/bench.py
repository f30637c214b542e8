"""`companion bench`: latency, speed and memory of the whole loop with the real engines."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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


def _utterances(
    voice: Any, prefix: str, pitch_cents: int, folder: Path
) -> tuple[Path, list[float]]:
    """All bench phrases after the wake phrase, separated by silence, as one WAV; and starts."""
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
    path = folder / f"bench-{pitch_cents}.wav"
    write_wav(path, np.concatenate(parts), rate)
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
    from companion.paths import data_dir
    from companion.speech.piper_engine import PiperEngine
    from companion.speech.tts import DEFAULT_VOICE, VoiceRole, voice_files

    startup = _startup_s()
    voice = PiperEngine(
        voice_files(data_dir("voices"))[DEFAULT_VOICE], DEFAULT_VOICE, deterministic=True
    )
    stt = load_recognizer(config)

    # TTS real-time factor on a story paragraph
    t = time.perf_counter()
    audio = np.concatenate(list(voice.synthesize(STORY_PARAGRAPH)))
    tts_rtf = (time.perf_counter() - t) / (len(audio) / voice.sample_rate)

    latencies: list[float] = []
    accuracy: dict[str, float] = {}
    stt_time = 0.0
    stt_audio = 0.0
    with tempfile.TemporaryDirectory(prefix="companion-bench-") as tmp:
        folder = Path(tmp)
        for label, cents in (("plain", 0), ("raised_pitch", 400)):
            wav, starts = _utterances(voice, config.speech.wake_phrase, cents, folder)
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
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
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
        "utterances": len(latencies),
        "engine": stt.name,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
    }


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
