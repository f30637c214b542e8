"""`companion bench`: how well the whole loop hears voices not its own, and its speed and memory.

Hearing is judged on the voice bank's HELD-OUT voices and phrasings (companion/voicebank.py),
never on the narrator's own voice: requests through the real loop, story answers the way
`companion hear --expect KIND` hears them, the wake phrase, and false wakes in a recorded room.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from companion.config import Config

STORY_PARAGRAPH: Final = (
    "Mila tiptoed to the window. The moon was round and soft, like a pillow in the sky. "
    "Far away, a little owl said hoo, hoo, as if it were saying goodnight."
)
ROOM_MINUTES: Final = 20.0
QUICK_REQUESTS: Final = 8
QUICK_ANSWERS: Final = 4
"""`--quick` hears only the first few held-out requests and answers of each voice."""
STOP_TRIALS: Final = 50
STOP_NARRATION_MINUTES: Final = 10.0
"""Narration told with nobody saying stop, for the false stops per hour."""
ROOM_SEED: Final = 11
ROOM_FAN_BELOW_DB: Final = 20.0
"""The room's fan runs all the time, this far below the speech level of the voice bank."""
TV_BELOW_DB: Final = 18.0
TV_CUTOFF_HZ: Final = 1200.0
"""A television in the next room: its speech this much quieter, and the wall passes the lows."""
NIGHT_VOICE: Final = ("flite", "slt")
"""The held-out voice (family, name) whose child variant answers the rehearsed night."""
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


class _Progress:
    """One short line per stage on stderr, so a long bench shows it is alive."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    def __call__(self, message: str) -> None:
        print(f"bench {self.elapsed_s:5.0f} s  {message}", file=sys.stderr, flush=True)


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


# Hearing: the voice bank's held-out voices through the real loop ----------------------------


def requests_wav(
    voice: Any,
    variant: str,
    folder: Path,
    narrator: Any = None,
    bank: Path | None = None,
    count: int | None = None,
) -> tuple[Path, list[float]]:
    """The held-out requests (the first `count`, or all) said by a bank voice in one variant,
    one after another, as one WAV.

    Each request has 0.5 s of the recording's own silence (or fan, or room) before it and 1 s
    after it. Returns the file and where each request starts, in seconds. The single requests
    are rendered into (and reused from) `bank`, by default `folder`.
    """
    from companion import voicebank
    from companion.audio.wav import read_wav, write_wav

    parts: list[np.ndarray] = []
    starts: list[float] = []
    position = 0
    for text, _ in voicebank.REQUESTS.held_out[:count]:
        said = voicebank.render(text, voice, variant, bank or folder, narrator, lead_s=0.5)
        audio, _ = read_wav(said)
        starts.append(position / voicebank.RATE)
        parts.append(audio)
        position += len(audio)
    path = folder / f"requests-{voice.family}-{voice.name}-{variant}.wav"
    write_wav(path, np.concatenate(parts), voicebank.RATE)
    return path, starts


def _score(turns: list[Any], starts: list[float]) -> dict[int, str]:
    """The intent of each utterance that got a turn, each turn matched to the one it ended in."""
    got: dict[int, str] = {}
    for turn in turns:
        index = max((i for i, s in enumerate(starts) if s <= turn.at_s), default=0)
        got.setdefault(index, turn.intent.name)
    return got


def _idle_at(transitions: list[tuple[float, str, str]], starts: list[float]) -> list[bool]:
    """Whether the loop was idle (waiting for the wake phrase) when each utterance began."""
    idle = []
    for start in starts:
        state = "idle"
        for at, to, _ in transitions:
            if at > start:
                break
            state = to
        idle.append(state == "idle")
    return idle


def _woken_from_idle(transitions: list[tuple[float, str, str]]) -> list[float]:
    """When (in audio seconds) the loop went from idle, waiting for the wake phrase, to a reply."""
    steps = [(0.0, "idle"), *((at, to) for at, to, _ in transitions)]
    return [
        now[0]
        for before, then, now in zip(steps, steps[1:], steps[2:], strict=False)
        if (before[1], then[1], now[1]) == ("idle", "understanding", "replying")
    ]


def _during(turn: Any, events: list[tuple[float, str]]) -> str:
    """A turn in the room recording: when, what was heard, and what was going on then."""
    going_on = next((label for at, label in reversed(events) if at <= turn.at_s), "quiet")
    return f"{turn.at_s:.0f} s: {turn.transcript.text!r} ({going_on})"


def _heard_answer(path: Path, kind: str, config: Config, stt: Any, safety: Any) -> str | None:
    """An answer in a WAV heard as `companion hear F --expect KIND` hears it: the answer or None."""
    from companion.audio.files import WavInput
    from companion.audio.segmenter import Segmenter, VoiceDetector
    from companion.dialog.loop import first_utterance
    from companion.storytelling.safety import answer_grammar, answer_heard

    listening = config.listening
    audio = WavInput(path)
    try:
        heard = first_utterance(
            audio.chunks(),
            VoiceDetector().is_speech,
            Segmenter(listening.trailing_silence_s, listening.max_utterance_s),
            stt,
            answer_grammar(kind, config.family.names),
        )
    finally:
        audio.close()
    return answer_heard(kind, heard, safety) if heard is not None else None


def _fractions(scores: dict[tuple[str, str], list[bool]]) -> dict[str, dict[str, float]]:
    """{family: {variant: fraction}} from per-utterance results."""
    table: dict[str, dict[str, float]] = defaultdict(dict)
    for (family, variant), results in scores.items():
        table[family][variant] = round(sum(results) / max(1, len(results)), 3)
    return dict(table)


def _worst_family(
    scores: dict[tuple[str, str], list[bool]], variants: Sequence[str] | None = None
) -> float:
    """The lowest family's fraction, over the given variants (all by default)."""
    pooled: dict[str, list[bool]] = defaultdict(list)
    for (family, variant), results in scores.items():
        if variants is None or variant in variants:
            pooled[family] += results
    return round(min(sum(r) / max(1, len(r)) for r in pooled.values()), 3)


def _pooled(scores: dict[tuple[str, str], list[bool]], variants: Sequence[str]) -> float:
    results = [r for (_, variant), rs in scores.items() if variant in variants for r in rs]
    return round(sum(results) / max(1, len(results)), 3)


# The room: talk not meant for the companion, a fan, breathing, a television -----------------


def _low_pass(audio: np.ndarray, rate: int, cutoff_hz: float) -> np.ndarray:
    """A fourth-order low-pass response, applied in the frequency domain."""
    spectrum = np.fft.rfft(audio)
    freqs = np.fft.rfftfreq(len(audio), 1 / rate)
    spectrum /= np.sqrt(1.0 + (freqs / cutoff_hz) ** 8)
    return np.fft.irfft(spectrum, len(audio)).astype(np.float32)


def _breathing(rng: np.random.Generator, rate: int, level_dbfs: float) -> np.ndarray:
    """A few slow breaths close to the device: breathy noise swelling in and out."""
    parts = []
    for _ in range(int(rng.integers(3, 7))):
        for seconds, low, high, gain in (
            (rng.uniform(1.0, 1.6), 500.0, 3000.0, 0.7),  # in: thinner, softer
            (rng.uniform(1.5, 2.4), 200.0, 1800.0, 1.0),  # out: lower, fuller
        ):
            n = int(seconds * rate)
            spectrum = np.fft.rfft(rng.standard_normal(n))
            freqs = np.fft.rfftfreq(n, 1 / rate)
            spectrum *= np.exp(
                -0.5 * (np.log(np.maximum(freqs, 1.0) / np.sqrt(low * high)) / 0.6) ** 2
            )
            breath = np.fft.irfft(spectrum, n)
            envelope = np.sin(np.linspace(0.0, np.pi, n)) ** 2
            breath = breath * envelope / max(1e-9, float(np.sqrt(np.mean(breath**2))))
            parts.append(gain * breath)
        parts.append(np.zeros(int(rng.uniform(0.4, 1.2) * rate)))
    audio = np.concatenate(parts)
    active = audio[np.abs(audio) > 0]
    rms = float(np.sqrt(np.mean(active**2))) if active.size else 1.0
    return (audio / rms * 10 ** (level_dbfs / 20)).astype(np.float32)


def room_audio(
    minutes: float,
    bank: Path,
    narrator: Any = None,
    seed: int = ROOM_SEED,
    voices: Sequence[Any] | None = None,
    render: Callable[..., Path] | None = None,
) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """`minutes` of a child's bedroom with the companion waiting, and what happens when.

    People talking near it (the voice bank's sentences not meant for it, in its held-out
    voices and every variant), slow breathing, a television in the next room (a voice's
    sentences low-passed and quieter), separated by 2–10 s gaps, with a fan running all the
    time. The same `seed` gives the same audio (16 kHz float32, exactly `minutes` long).
    """
    from companion import voicebank
    from companion.audio.wav import read_wav

    rate = voicebank.RATE
    say = render or voicebank.render
    pool = tuple(voices) if voices is not None else voicebank.voices(held_out=True)
    sentences = (*voicebank.NOT_FOR_ME.test, *voicebank.NOT_FOR_ME.held_out)
    answers = (*voicebank.ANSWERS.test, *voicebank.ANSWERS.held_out)
    tv_lines = (*sentences, *(text for text, _, _ in answers))
    speech = 10 ** (voicebank.LEVEL_DBFS / 20)
    rng = np.random.default_rng(seed)
    total = round(minutes * 60 * rate)
    room = np.zeros(total, np.float32)
    events: list[tuple[float, str]] = []

    def said(text: str, voice: Any, variant: str) -> np.ndarray:
        audio, got = read_wav(say(text, voice, variant, bank, narrator=narrator))
        assert got == rate, f"{text!r}: rendered at {got} Hz"
        return audio

    position = int(rng.uniform(1.0, 4.0) * rate)
    while True:
        kind = ("talk", "tv", "breath")[int(rng.choice(3, p=(0.55, 0.25, 0.2)))]
        voice = pool[int(rng.integers(len(pool)))]
        if kind == "talk":
            variant = voicebank.VARIANTS[int(rng.integers(len(voicebank.VARIANTS)))]
            text = sentences[int(rng.integers(len(sentences)))]
            audio = said(text, voice, variant) * 10 ** (rng.uniform(-6.0, 0.0) / 20)
            label = f"talk, {voice.label} {variant}: {text}"
        elif kind == "tv":
            texts = [tv_lines[int(i)] for i in rng.integers(len(tv_lines), size=rng.integers(2, 5))]
            audio = np.concatenate([said(text, voice, "plain") for text in texts])
            audio = _low_pass(audio, rate, TV_CUTOFF_HZ) * 10 ** (-TV_BELOW_DB / 20)
            label = f"tv, {voice.label}: {' '.join(texts)}"
        else:
            audio = _breathing(rng, rate, voicebank.LEVEL_DBFS - rng.uniform(12.0, 20.0))
            label = "breathing"
        if position + len(audio) > total:
            break
        room[position : position + len(audio)] += audio
        events.append((round(position / rate, 2), label))
        position += len(audio) + int(rng.uniform(2.0, 10.0) * rate)
    # 64 s of fan, repeated: the noise is periodic by construction and the hum has whole cycles
    block = fan_noise(64 * rate, rate, seed)
    fan = np.tile(block, total // len(block) + 1)[:total]
    room += fan * speech * 10 ** (-ROOM_FAN_BELOW_DB / 20)
    return np.clip(room, -1.0, 1.0).astype(np.float32), events


# The whole bench ----------------------------------------------------------------------------


def _companion(
    config: Config, wav: Path, out: Path, stt: Any, voice: Any, cache: Any, brain: Any
) -> Any:
    """The loop as the bench runs it, its fixed lines warmed into one phrase cache for all runs
    (the same lines every time; warming them again for each recording would take 13 s)."""
    from companion.app import Companion
    from companion.audio.files import WavInput, WavOutput
    from companion.speech.tts import VoiceRole

    companion = Companion(
        config,
        WavInput(wav),
        WavOutput(out),
        stt=stt,
        voice=(voice, VoiceRole()),
        warm_all=False,
        wait_warm=True,
        brain=brain,
    )
    companion.speaker.cache = cache
    companion.speaker.warm(brain.fixed_lines(), background=False)
    return companion


def _answers(
    config: Config,
    stt: Any,
    voice: Any,
    bank: Path,
    progress: _Progress,
    held_out: Sequence[Any],
    variants: Sequence[str],
    count: int | None = None,
) -> dict[tuple[str, str], list[bool]]:
    """Every held-out answer in every held-out voice and variant: heard as the right word?"""
    from companion import voicebank
    from companion.storytelling.safety import WordSafety

    safety = WordSafety.with_words(config.safety.blocked_words)
    answers: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for v in held_out:
        for variant in variants:
            for text, kind, word in voicebank.ANSWERS.held_out[:count]:
                said = voicebank.render(text, v, variant, bank, narrator=voice)
                answer = _heard_answer(said, kind, config, stt, safety)
                answers[v.family, variant].append(answer is not None and word in answer.lower())
        progress(f"answers, {v.label}")
    return answers


def _room(
    config: Config,
    stt: Any,
    voice: Any,
    cache: Any,
    bank: Path,
    folder: Path,
    minutes: float,
    progress: _Progress,
) -> dict[str, Any]:
    """The loop left listening in the recorded room: the turns it started, and its CPU."""
    from companion import voicebank
    from companion.audio.wav import write_wav
    from companion.dialog.replies import SimpleBrain

    room, events = room_audio(minutes, bank, narrator=voice)
    path = folder / "room.wav"
    write_wav(path, room, voicebank.RATE)
    seconds = len(room) / voicebank.RATE
    del room
    progress(f"room recording, {seconds / 60:.0f} min, {len(events)} events: listening")
    brain = SimpleBrain(config.listener_name, config.speech.wake_name)
    companion = _companion(config, path, folder / "out.wav", stt, voice, cache, brain)
    cpu = time.process_time()
    companion.run()
    cpu = time.process_time() - cpu
    turns = companion.loop.turns
    woken = set(_woken_from_idle(companion.loop.transitions))
    wakes = [turn for turn in turns if round(turn.at_s, 3) in woken]
    hours = seconds / 3600
    return {
        "false_wakes_per_hour": round(len(turns) / hours, 2),
        "false_wakes_from_idle_per_hour": round(len(wakes) / hours, 2),
        "false_wakes_heard": [_during(turn, events) for turn in wakes][:30],
        "room_cpu_pct": round(100.0 * cpu / seconds, 1),
        "room_audio_s": round(seconds, 1),
        "room_events": len(events),
    }


def run_bench(
    config: Config, rounds: int = 2, room_minutes: float = ROOM_MINUTES, quick: bool = False
) -> dict[str, Any]:
    """Measure everything and return one JSON-ready dict.

    `rounds` repeats only the cheap measurements (the voice's speed and first audio); every
    held-out voice and variant is heard once. `quick`: one held-out voice per family, plain
    and child-pitched only, the first few requests and answers, a minute of room audio and
    three stops (a check that it all runs, not the figures to quote).
    """
    from companion import voicebank
    from companion.app import load_recognizer
    from companion.dialog.replies import SimpleBrain
    from companion.errors import CompanionError
    from companion.paths import cache_dir, data_dir
    from companion.speech.piper_engine import PiperEngine
    from companion.speech.tts import DEFAULT_VOICE, PhraseCache, voice_files

    missing = voicebank.missing_tools()
    if missing:
        raise CompanionError(
            f"the bench needs {', '.join(missing)} for its voice bank "
            f"(sudo apt-get install {' '.join(missing)})",
            code="missing_tool",
        )
    progress = _Progress()
    progress("start-up of a fresh process")
    startup = _startup_s()
    model = voice_files(data_dir("voices"))[DEFAULT_VOICE]
    voice = PiperEngine(model, DEFAULT_VOICE, deterministic=True, cache=cache_dir() / "voices")
    stt = load_recognizer(config)
    bank = cache_dir() / "voicebank"
    held_out = voicebank.voices(held_out=True)
    variants: tuple[str, ...] = voicebank.VARIANTS
    request_count = answer_count = None
    if quick:
        request_count, answer_count = QUICK_REQUESTS, QUICK_ANSWERS
        held_out = tuple({v.family: v for v in reversed(held_out)}.values())
        variants, room_minutes = ("plain", "child"), min(room_minutes, 1.0)

    progress("voice speed")
    voice.warm()
    factors = []
    for _ in range(3 * rounds):
        t = time.perf_counter()
        audio = np.concatenate(list(voice.synthesize(STORY_PARAGRAPH)))
        factors.append((time.perf_counter() - t) / (len(audio) / voice.sample_rate))
    tts_rtf = statistics.median(factors)

    intents: dict[tuple[str, str], list[bool]] = defaultdict(list)
    wakes: dict[tuple[str, str], list[bool]] = defaultdict(list)
    from_idle: list[bool] = []
    latencies: list[float] = []
    timed = _Timed(stt)
    cache = PhraseCache()
    expected = [intent for _, intent in voicebank.REQUESTS.held_out[:request_count]]
    with tempfile.TemporaryDirectory(prefix="companion-bench-") as tmp:
        folder = Path(tmp)
        for v in held_out:
            for variant in variants:
                # the speech loop alone: every request is said to the idle companion and
                # answered with a short reply (no story starts, nothing is written)
                wav, starts = requests_wav(v, variant, folder, voice, bank, request_count)
                brain = SimpleBrain(config.listener_name, config.speech.wake_name)
                companion = _companion(config, wav, folder / "out.wav", timed, voice, cache, brain)
                companion.run()
                turns = companion.loop.turns
                got = _score(turns, starts)
                intents[v.family, variant] += [got.get(i) == x for i, x in enumerate(expected)]
                wakes[v.family, variant] += [i in got for i in range(len(starts))]
                idle = _idle_at(companion.loop.transitions, starts)
                from_idle += [i in got for i in range(len(starts)) if idle[i]]
                if variant in ("plain", "child"):
                    latencies += [turn.latency_s for turn in turns]
                wav.unlink()
            row = ", ".join(
                f"{var} {sum(intents[v.family, var][-len(expected) :])}/{len(expected)}"
                for var in variants
            )
            progress(f"requests, {v.label}: {row}")
        # the night's memory does not depend on the CPU it gets: it runs alongside what follows
        progress("a rehearsed night in a fresh process, in the background")
        night_voice = next(v for v in held_out if (v.family, v.name) == NIGHT_VOICE)
        night = _Night(
            lambda text: voicebank.render(text, night_voice, "child", bank, narrator=voice),
            folder / "night",
        )
        try:
            answers = _answers(
                config, stt, voice, bank, progress, held_out, variants, answer_count
            )
            room = _room(config, stt, voice, cache, bank, folder, room_minutes, progress)
        except BaseException:
            night.stop()
            raise
        progress("waiting for the rehearsed night")
        rss_mb, night_s = night.result()
    from companion.bench_stop import run_false_stops, run_stop_trials, summary

    progress("stop over a story, in a simulated room")
    stops = summary(
        run_stop_trials(config, stt, voice, 3 if quick else STOP_TRIALS, progress=progress)
    )
    progress("a story with nobody saying stop, in a simulated room")
    no_stop = run_false_stops(config, stt, voice, 0.5 if quick else STOP_NARRATION_MINUTES)
    progress("first audio of a story, idle CPU")
    first_audio = _story_first_audio(voice, 5 * rounds)
    idle_cpu = _idle_cpu_pct(config, stt, voice)
    progress("done")
    by_variant = {variant: _worst_family(intents, (variant,)) for variant in variants}
    return {
        "intent_accuracy": _worst_family(intents),
        "intent_accuracy_by_variant": by_variant,
        "intent_accuracy_by_family": _fractions(intents),
        "answer_accuracy": _worst_family(answers),
        "answer_accuracy_child": _worst_family(answers, ("child",)),
        "answer_accuracy_by_family": _fractions(answers),
        "wake_accepted": _pooled(wakes, variants),
        "wake_accepted_child": _pooled(wakes, ("child",)),
        "wake_accepted_from_idle": round(sum(from_idle) / max(1, len(from_idle)), 3),
        "wake_accepted_by_family": _fractions(wakes),
        **room,
        **stops,
        **no_stop,
        "latency_p50_s": round(statistics.median(latencies), 3),
        "latency_p95_s": round(float(np.percentile(latencies, 95)), 3),
        "story_first_audio_s": round(first_audio, 3),
        "tts_rtf": round(tts_rtf, 4),
        "stt_rtf": round(timed.seconds / max(timed.audio_s, 1e-9), 4),
        "startup_s": round(startup, 3),
        "idle_cpu_pct": round(idle_cpu, 2),
        "peak_rss_mb": round(rss_mb, 1),
        "night_audio_s": round(night_s, 1),
        "night_voice": f"{night_voice.label} child",
        "utterances": len(latencies),
        "voices": {
            family: [v.name for v in held_out if v.family == family]
            for family in voicebank.FAMILIES
        },
        "engine": stt.name,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "bench_s": round(progress.elapsed_s, 1),
    }


def answers_wav(voice: Any, answers: Sequence[str | Path], path: Path, gap_s: float = 4.0) -> Path:
    """A child's answers, each after `gap_s` of silence, as one WAV.

    `voice` says each text answer: a voice engine (its `synthesize`, at 0.8 of its level, as
    the narrator's voice stands in for a child), or a function from the text to a WAV file
    (a voice-bank voice: `lambda text: voicebank.render(text, v, "child", folder)`). An answer
    that is a `Path` is a recording already made, used as it is (`voice` may then be None).
    """
    from companion.audio.resample import resample
    from companion.audio.wav import read_wav, write_wav

    rate = int(getattr(voice, "sample_rate", 0) or 16_000)
    gap = np.zeros(int(gap_s * rate), np.float32)
    parts = [gap]
    for answer in answers:
        if isinstance(answer, Path) or not hasattr(voice, "synthesize"):
            recorded, got = read_wav(answer if isinstance(answer, Path) else voice(answer))
            parts.append(resample(recorded, got, rate))
        else:
            parts.append(np.concatenate(list(voice.synthesize(answer))) * 0.8)
        parts.append(gap)
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


class _Night:
    """`companion run --now` rehearsing a whole shared night in a fresh process, as the service
    runs it: the routine's steps, a story from stories/, the goodnight and a minute of sleep
    sounds, answered by a child's recorded voice (`voice` says the answers, as `answers_wav`
    takes it). It runs in the background from `__init__` on; `result()` waits for it.

    Only its peak memory and the length of what it said are measured, and neither depends on
    what else the machine is doing, so the bench goes on with other work meanwhile.
    """

    def __init__(self, voice: Any, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        answers_wav(voice, NIGHT_ANSWERS, folder / "answers.wav")
        (folder / "companion.toml").write_text(NIGHT_CONFIG, encoding="utf-8")
        self.peak = folder / "peak-kb"
        command = [sys.executable, "-c", _PEAK_REPORTER, str(self.peak), "run", "--now"]
        command += ["--mode", "shared", "--config", str(folder / "companion.toml")]
        command += ["--input-wav", str(folder / "answers.wav")]
        command += ["--output-wav", str(folder / "night.wav")]
        env = dict(os.environ, COMPANION_STATE_DIR=str(folder / "state"))
        self._log = (folder / "stderr.txt").open("w+", encoding="utf-8")
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=self._log, text=True
        )

    def stop(self) -> None:
        """Stop the night if it is still running (the bench failed on the way)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def result(self) -> tuple[float, float]:
        """The peak resident memory in MB, and the length of what the companion said in s."""
        from companion.audio.wav import read_wav

        code = self.process.wait()
        self._log.seek(0)
        said_on_stderr = self._log.read()
        self._log.close()
        if code != 0 or not self.peak.is_file():
            raise RuntimeError(f"the rehearsed night failed: {said_on_stderr.strip()[-500:]}")
        said, said_rate = read_wav(self.folder / "night.wav")
        peak_kb = int(self.peak.read_text(encoding="utf-8"))
        return peak_kb / 1024, len(said) / said_rate


def _night_peak_rss_mb(voice: Any) -> tuple[float, float]:
    """Peak resident memory (MB) of a whole rehearsed night, and how long it spoke (s)."""
    with tempfile.TemporaryDirectory(prefix="companion-bench-") as tmp:
        return _Night(voice, Path(tmp)).result()


def _story_first_audio(voice: Any, times_run: int = 5) -> float:
    """A story paragraph: from the request to say it to its first audio, the median."""
    times = []
    for _ in range(times_run):
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
    """Wraps a recognizer to count its time and the audio it was fed.

    Everything else the loop asks of a recognizer (`partial_is_final`, `recheck`, ...) is the
    inner one's, so the loop behaves as it does with the bare recognizer.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.seconds = 0.0
        self.audio_s = 0.0

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if name != "recheck":
            return value

        def recheck(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t

        return recheck

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
        t = time.perf_counter()
        text = self.inner.partial()
        self.seconds += time.perf_counter() - t
        return text

    def finish(self) -> Any:
        t = time.perf_counter()
        result = self.inner.finish()
        self.seconds += time.perf_counter() - t
        return result
