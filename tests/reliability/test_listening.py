"""Listening over long stretches, with the real engines wired as the app wires them.

An hour of night-time sound (a fan, a sleeping child's breathing, adults talking in the next
room) must not wake the companion; nor must ten minutes of the fan alone. A child talking
without a pause for five minutes is cut at `max_utterance_s`, and the companion carries on.
A minute of silence after a question times out after `silence_timeout_s`.

The night audio is made with numpy from a seed, ten seconds at a time, and reaches the loop as
a microphone does: float blocks → `to_chunks` (as `WavInput` does) → `Companion.run`.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from companion.app import Companion
from companion.audio.base import to_chunks
from companion.audio.files import WavOutput
from companion.audio.resample import resample
from companion.audio.segmenter import Event, Segmenter
from companion.audio.wav import write_wav
from companion.config import Config
from companion.host import Host
from companion.messages import SAMPLE_RATE, AudioChunk, Grammar, Transcript
from companion.speech.grammar import words
from companion.speech.piper_engine import PiperEngine
from companion.speech.pocketsphinx_engine import PocketsphinxEngine
from companion.speech.tts import VoiceRole
from companion.state.store import Store
from companion.storytelling.format import parse_story
from tests.conftest import SHORT_STORY, daytime, headless

pytestmark = [pytest.mark.slow]

CONFIG = Config()
LISTENING = CONFIG.listening
RATE = SAMPLE_RATE
BLOCK_S = 10.0
"""The night is made this much at a time: an hour never sits in memory."""
CHILD_DBFS = -24.0
"""RMS of a child's sentence as the `speak` fixture makes it (piper at 0.8)."""
FAN_DBFS = -54.0
"""The fan at the microphone, drifting ±3 dB over minutes."""
HUM_DBFS = -63.0
BREATH_DBFS = -56.0
"""The loudest part of an out-breath."""
BREATHS_HZ = 0.3
TALK_BELOW_DB = (20.0, 25.0)
"""How much quieter than the child the adults next door are (before the wall's low-pass)."""
WALL_CUTOFF_HZ = 900.0

ADULT_SENTENCES = (
    "Did you remember to put the bins out before dinner?",
    "I think the meeting tomorrow starts at half past nine.",
    "Hey, have you seen my phone charger anywhere?",
    "We need to buy milk and bread on the way home.",
    "The car is making that strange noise again.",
    "Can you call your mother back when you get a chance?",
    "I'll finish the washing up and then watch the news.",
    "It's supposed to rain all weekend, so we should stay in.",
    "Let's leave the heating on low tonight.",
    "Work was busy today, but the new project is going well.",
)
CHILD_SENTENCES = (
    "My best friend has a brown puppy called Biscuit",
    "We built a tower out of blocks at school today",
    "The tower was taller than the teacher",
    "Then it fell down with a big crash",
    "I like pancakes with lots of syrup on top",
    "My brother can whistle but I can only hum",
    "At the park there was a giant slide",
    "I went down it ten times really fast",
    "Grandma has a garden with tomatoes and beans",
    "When I grow up I want to drive a fire engine",
    "Fire engines are red and they are very loud",
    "I can count all the way to one hundred",
)
"""Said without a breath between them; none of them asks the companion for anything."""


# -- making sound ------------------------------------------------------------------------


def _db(level: float) -> float:
    return float(10.0 ** (level / 20.0))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def shaped_noise(
    rng: np.random.Generator, n: int, shape: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """`n` samples of noise whose amplitude spectrum is `shape(frequency)`, at unit RMS."""
    freqs = np.fft.rfftfreq(n, 1.0 / RATE)
    spectrum = rng.standard_normal(len(freqs)) + 1j * rng.standard_normal(len(freqs))
    out = np.fft.irfft(spectrum * shape(freqs), n)
    return (out / _rms(out)).astype(np.float32)


def fan_spectrum(f: np.ndarray) -> np.ndarray:
    """Mostly brown (1/f² power), some pink (1/f): a fan's rumble and hiss."""
    f = np.maximum(f, 20.0)
    return 1.0 / f + 0.15 / np.sqrt(f) / np.sqrt(20.0)


def breath_spectrum(f: np.ndarray) -> np.ndarray:
    """Breath is a soft hiss: 300 Hz to 3 kHz."""
    return np.where((f > 300.0) & (f < 3000.0), 1.0 / np.sqrt(np.maximum(f, 1.0)), 0.0)


def wall(samples: np.ndarray, cutoff: float = WALL_CUTOFF_HZ) -> np.ndarray:
    """Speech heard through a wall or a door: a second-order low-pass."""
    freqs = np.fft.rfftfreq(len(samples), 1.0 / RATE)
    gain = 1.0 / np.sqrt(1.0 + (freqs / cutoff) ** 4)
    return np.fft.irfft(np.fft.rfft(samples) * gain, len(samples)).astype(np.float32)


def trim(samples: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """Without the leading and trailing silence piper puts around a sentence."""
    loud = np.flatnonzero(np.abs(samples) > threshold)
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples


def synthesize(voice: PiperEngine, text: str) -> np.ndarray:
    """One sentence at 16 kHz, at the level of a child talking to the companion."""
    audio = np.concatenate(list(voice.synthesize(text)))
    audio = resample(audio, voice.sample_rate, RATE)
    return (audio * (_db(CHILD_DBFS) / _rms(audio))).astype(np.float32)


@dataclass(frozen=True)
class Said:
    """One sentence of the adults' talk, placed in the night."""

    start: int
    """First sample."""
    samples: np.ndarray


def talk_next_door(
    sentences: list[np.ndarray], seconds: float, rng: np.random.Generator
) -> list[Said]:
    """Now and then a few sentences between two adults, far off, with gaps between them.

    Two voices: the synthesized one, and the same read a little lower and slower.
    """
    deeper = [resample(s, RATE, round(RATE * 1.12)) for s in sentences]
    placed: list[Said] = []
    t = rng.uniform(120.0, 300.0)
    while t < seconds - 60.0:
        for _ in range(int(rng.integers(2, 6))):
            voice = deeper if rng.random() < 0.5 else sentences
            quieter = rng.uniform(*TALK_BELOW_DB)
            audio = wall(voice[int(rng.integers(len(voice)))]) * _db(-quieter)
            placed.append(Said(int(t * RATE), audio.astype(np.float32)))
            t += len(audio) / RATE + rng.uniform(0.4, 3.0)
        t += rng.uniform(360.0, 720.0)
    return placed


def night(
    seconds: float,
    seed: int,
    talk: Sequence[Said] = (),
    breathing: bool = True,
) -> Iterator[np.ndarray]:
    """Night-time sound, BLOCK_S at a time: a fan with a motor hum, breathing, talk next door.

    Each block of fan noise is made on its own and cross-faded (equal power) into the last, so
    the noise runs on without a seam; the fan's level drifts slowly (±3 dB over minutes).
    """
    rng = np.random.default_rng(seed)
    total = int(seconds * RATE)
    block = int(BLOCK_S * RATE)
    fade = int(0.05 * RATE)
    ramp = np.linspace(0.0, np.pi / 2, fade, dtype=np.float32)
    knots = np.arange(0.0, seconds + 60.0, 30.0)
    drift = np.clip(np.cumsum(rng.normal(0.0, 1.0, len(knots))), -3.0, 3.0)
    wander = rng.uniform(0, 2 * np.pi)
    tail: np.ndarray | None = None
    for start in range(0, total, block):
        n = min(block, total - start)
        t = (start + np.arange(n)) / RATE
        fan = shaped_noise(rng, n + fade, fan_spectrum)
        if tail is not None:
            fan[:fade] = tail * np.cos(ramp) + fan[:fade] * np.sin(ramp)
        tail = fan[n:].copy()
        level = np.interp(t, knots, drift) + FAN_DBFS
        out = fan[:n] * (10.0 ** (level / 20.0))
        for harmonic, db in ((100.0, 0.0), (200.0, -6.0), (300.0, -12.0)):
            out += np.sqrt(2) * _db(HUM_DBFS + db) * np.sin(2 * np.pi * harmonic * t)
        if breathing:
            # ~0.3 Hz, wandering a little; a louder out-breath, a softer in-breath
            phase = 2 * np.pi * BREATHS_HZ * t + 0.6 * np.sin(2 * np.pi * t / 97.0 + wander)
            cycle = np.sin(phase)
            envelope = np.maximum(cycle, 0.0) ** 2 + 0.4 * np.maximum(-cycle, 0.0) ** 2
            hiss = shaped_noise(rng, n, breath_spectrum)
            out += hiss * envelope * _db(BREATH_DBFS)
        for said in talk:
            begin, end = max(said.start, start), min(said.start + len(said.samples), start + n)
            if begin < end:
                out[begin - start : end - start] += said.samples[
                    begin - said.start : end - said.start
                ]
        yield out.astype(np.float32)


@dataclass
class Microphone:
    """Generated blocks heard as a microphone: the same float → 16 kHz chunks as `WavInput`."""

    blocks: Iterator[np.ndarray]
    name: str = "generated night"
    heard_s: float = 0.0
    """How much of the audio the loop took."""

    def chunks(self) -> Iterator[AudioChunk]:
        for chunk in to_chunks(self.blocks, RATE):
            self.heard_s = chunk.start_s + chunk.duration_s
            yield chunk

    def close(self) -> None:
        return None


@dataclass
class Noting:
    """The session's recognizer, noting what it made of every utterance it was given."""

    stt: PocketsphinxEngine
    heard: list[Transcript] = field(default_factory=list)
    name: str = "pocketsphinx"

    def __getattr__(self, attribute: str) -> object:
        return getattr(self.stt, attribute)

    def start(self, grammar: Grammar) -> None:
        self.stt.start(grammar)

    def feed(self, samples: np.ndarray) -> None:
        self.stt.feed(samples)

    def partial(self) -> str:
        return self.stt.partial()

    def finish(self) -> Transcript:
        transcript = self.stt.finish()
        self.heard.append(transcript)
        return transcript


def at_night() -> datetime:
    """Half past eleven: quiet hours, when a false wake would be worst."""
    return datetime(2026, 11, 20, 23, 30, tzinfo=UTC)


def host(tmp_path: Path, clock: Callable[[], datetime] = daytime) -> Host:
    story = parse_story(SHORT_STORY, "stories/owl-and-the-door.toml")
    return Host(CONFIG, [story], Store(tmp_path / "state.db"), random.Random(1), clock=clock)


def listen_to(
    blocks: Iterator[np.ndarray], recognizer, voice, tmp_path: Path
) -> tuple[Companion, Noting, float]:
    """The companion, idle at night, listening to `blocks` until they end; and the wall time."""
    noting = Noting(recognizer)
    companion = Companion(
        CONFIG,
        Microphone(blocks),
        WavOutput(tmp_path / "said.wav"),
        stt=noting,
        voice=(voice, VoiceRole()),
        warm_all=False,
        brain=host(tmp_path, at_night),
    )
    started = time.perf_counter()
    companion.run()
    return companion, noting, time.perf_counter() - started


def woke(transcript: Transcript) -> bool:
    wake = words(CONFIG.speech.wake_phrase)
    return words(transcript.text)[: len(wake)] == wake


# -- the tests ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def adult_talk(voice: PiperEngine) -> list[np.ndarray]:
    for sentence in ADULT_SENTENCES:
        assert CONFIG.speech.wake_name.lower() not in words(sentence)
    return [synthesize(voice, s) for s in ADULT_SENTENCES]


@pytest.mark.parametrize("engine", ["whisper"])
def test_an_hour_of_night_sounds_wakes_nothing(
    adult_talk: list[np.ndarray],
    engine: str,
    request: pytest.FixtureRequest,
    voice: PiperEngine,
    tmp_path: Path,
    figure: Callable[[str, object], None],
) -> None:
    """A fan (-54 dBFS, drifting ±3 dB) with a motor hum, breathing at 0.3 Hz, and every 6-12
    minutes two to five sentences from next door, 20-25 dB below a child and through a wall.

    Decoding faint talk is the slow part (about real time), so the hour holds about a minute of
    it; with the wake phrase taken on the restricted model's word alone, it woke 3 times.
    """
    seconds = 3600.0
    talk = talk_next_door(adult_talk, seconds, np.random.default_rng(11))
    talk_s = sum(len(s.samples) for s in talk) / RATE
    recognizer = request.getfixturevalue("whisper" if engine == "whisper" else "recognizer")
    companion, noting, wall_s = listen_to(night(seconds, 12, talk), recognizer, voice, tmp_path)
    loop = companion.loop
    print(f"\nheard while idle: {[t.text for t in noting.heard]}")
    assert companion.audio_in.heard_s == pytest.approx(seconds, abs=0.05)
    figure(
        f"night false wakes, {engine} (1 h: fan, breathing, talk next door)",
        f"{len(loop.turns)} activations in 1 h; {len(talk)} sentences ({talk_s:.0f} s) of talk "
        f"next door, {len(noting.heard)} utterances decoded, "
        f"{sum(woke(t) for t in noting.heard)} heard as the wake phrase "
        f"(listened in {wall_s:.0f} s)",
    )
    assert not loop.turns, [(t.at_s, t.transcript.text, t.reply.text()) for t in loop.turns]
    assert not any(state == "replying" for _, state, _ in loop.transitions)


def test_ten_minutes_of_fan_alone_wakes_nothing(
    recognizer: PocketsphinxEngine,
    voice: PiperEngine,
    tmp_path: Path,
    figure: Callable[[str, object], None],
) -> None:
    """The fan and its hum alone (the hour's night test has them too, with more)."""
    seconds = 600.0
    companion, noting, wall_s = listen_to(
        night(seconds, 21, breathing=False), recognizer, voice, tmp_path
    )
    assert companion.audio_in.heard_s == pytest.approx(seconds, abs=0.05)
    figure(
        "fan noise alone (10 min)",
        f"{len(companion.loop.turns)} activations; {len(noting.heard)} utterances decoded "
        f"(listened in {wall_s:.0f} s)",
    )
    assert not companion.loop.turns
    assert not noting.heard, [t.text for t in noting.heard]


@dataclass
class Measured(Segmenter):
    """The app's segmenter, noting each utterance's length when it ended or was cut."""

    utterances: list[tuple[Event, float, float]] = field(default_factory=list)
    """(how it ended, length in seconds, where in the input)"""
    position_s: float = 0.0

    def process(self, is_speech: bool, seconds: float, trailing_s: float | None = None) -> Event:
        self.position_s += seconds
        event = super().process(is_speech, seconds, trailing_s)
        if event in (Event.ENDED, Event.TOO_LONG):
            self.utterances.append((event, self.length_s, self.position_s))
        return event


def test_a_five_minute_monologue_is_cut_at_max_utterance(
    voice: PiperEngine,
    recognizer: PocketsphinxEngine,
    tmp_path: Path,
    figure: Callable[[str, object], None],
) -> None:
    """ "Hey Luma." → "Yes?" → five minutes of chatter without a pause → "Hey Luma, tell me a
    story." The chatter is cut every max_utterance_s; the request after it is still understood.
    """
    rng = np.random.default_rng(5)
    sentences = [trim(synthesize(voice, s)) for s in CHILD_SENTENCES]
    wake = synthesize(voice, "Hey Luma.")
    parts = [np.zeros(int(0.5 * RATE), np.float32), wake, np.zeros(int(1.5 * RATE), np.float32)]
    begins = sum(len(p) for p in parts) / RATE
    talked = 0.0
    while talked < 300.0:  # sentence after sentence, a short breath between them
        sentence = sentences[int(rng.integers(len(sentences)))]
        gap = np.zeros(int(rng.uniform(0.12, 0.3) * RATE), np.float32)
        parts += [sentence, gap]
        talked += (len(sentence) + len(gap)) / RATE
    ends = begins + talked
    request = synthesize(voice, "Hey Luma, tell me a story.")
    parts += [np.zeros(int(2.0 * RATE), np.float32), request]
    path = tmp_path / "monologue.wav"
    write_wav(path, np.concatenate(parts), RATE)

    companion = headless(CONFIG, path, tmp_path / "out.wav", recognizer, voice, host(tmp_path))
    measured = Measured(LISTENING.trailing_silence_s, LISTENING.max_utterance_s)
    companion.loop.segmenter = measured
    started = time.perf_counter()
    companion.run()
    wall_s = time.perf_counter() - started
    loop = companion.loop
    print(f"\nturns: {[(round(t.at_s, 2), t.transcript.text, t.reply.text()) for t in loop.turns]}")
    print(
        f"utterances: {[(e.value, round(n, 2), round(at, 2)) for e, n, at in measured.utterances]}"
    )

    during = [(e, n) for e, n, at in measured.utterances if begins < at <= ends + 1.0]
    cuts = [n for e, n in during if e is Event.TOO_LONG]
    first_event, first_length = during[0]
    replies = [t for t in loop.turns if begins < t.at_s <= ends + 1.0]
    last = loop.turns[-1]
    figure(
        "5-minute monologue",
        f"cut at {first_length:.2f} s (max_utterance_s {LISTENING.max_utterance_s}); "
        f"{len(cuts)} of {len(during)} utterances in the {talked:.0f} s cut, at "
        f"{min(cuts):.2f}-{max(cuts):.2f} s; {len(replies)} replies during it "
        f"({' / '.join(t.reply.text()[:20] for t in replies)}); then "
        f"'{last.transcript.text}' → {last.intent.name} (ran in {wall_s:.0f} s)",
    )
    assert loop.turns[0].reply.expect is not None, "the wake reply should wait for an answer"
    assert first_event is Event.TOO_LONG
    assert first_length == pytest.approx(LISTENING.max_utterance_s, abs=0.05)
    assert max(n for _, n in during) <= LISTENING.max_utterance_s + 0.05
    assert len(cuts) >= 0.8 * talked / LISTENING.max_utterance_s
    assert replies and replies[0].at_s == pytest.approx(begins + first_length, abs=0.1)
    assert last.at_s > ends and last.intent.name == "story.start", "the companion did not carry on"


def test_a_minute_of_silence_after_a_question_times_out(
    voice: PiperEngine,
    recognizer: PocketsphinxEngine,
    tmp_path: Path,
    figure: Callable[[str, object], None],
) -> None:
    """ "Hey Luma." → "Yes?" → a minute of quiet; then a story's question → a minute of quiet."""
    rng = np.random.default_rng(8)

    def quiet(seconds: float) -> np.ndarray:  # a very quiet room: hiss at -66 dBFS
        return (rng.standard_normal(int(seconds * RATE)) * _db(-66.0)).astype(np.float32)

    wake = synthesize(voice, "Hey Luma.")
    request = synthesize(voice, "Hey Luma, tell me a story.")
    parts = [quiet(0.5), wake, quiet(60.0)]
    second = sum(len(p) for p in parts) / RATE
    parts += [request, quiet(60.0)]
    path = tmp_path / "quiet.wav"
    write_wav(path, np.concatenate(parts), RATE)

    companion = headless(CONFIG, path, tmp_path / "out.wav", recognizer, voice, host(tmp_path))
    companion.run()
    loop = companion.loop
    turns = [(round(t.at_s, 2), t.transcript.engine, t.reply.text()[:40]) for t in loop.turns]
    print(f"\nturns: {turns}\ntransitions: {loop.transitions}")

    yes, *story = loop.turns
    assert yes.reply.expect is not None, "the wake reply should wait for an answer"
    gave_up = [at for at, state, why in loop.transitions if why == "nobody answered"]
    assert gave_up, "the silence after 'Yes?' never timed out"
    back_to_idle = gave_up[0] - yes.at_s
    assert back_to_idle == pytest.approx(LISTENING.silence_timeout_s, abs=0.1)
    assert not [t for t in story if t.at_s < second], "something was said in the quiet minute"

    assert story and story[0].intent.name == "story.start" and story[0].reply.expect is not None
    waits = [
        after.at_s - before.at_s
        for before, after in itertools.pairwise(story)
        if before.reply.expect is not None and after.transcript.engine == "silence"
    ]
    assert waits, "the story's question never timed out"
    assert max(abs(w - LISTENING.silence_timeout_s) for w in waits) < 0.1, waits
    ended = loop.state.value
    figure(
        "a minute of silence after a question",
        f"'Yes?' → back to idle after {back_to_idle:.2f} s (silence_timeout_s "
        f"{LISTENING.silence_timeout_s}), nothing said in the rest of the minute; a story's "
        f"questions timed out {len(waits)} times in the next minute, each after "
        f"{min(waits):.2f}-{max(waits):.2f} s, the story carrying on with its defaults "
        f"({ended} at the end)",
    )
