""" "Stop" said over the companion's own story, in a simulated bedroom.

Each trial tells a real story's first passage into a `SimulatedRoom`: the narration comes
back into the microphone with the room's delay and reverb, and a child's "stop" (a held-out
voice of the voice bank, child-pitched, in the same room, 6 dB below the echo) is said over
it. The room says when the narration fell silent; time is seconds of input audio, paced at
real time, and a decode that holds the microphone's reader up counts as the time it took.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from companion.config import Config

SAID: Final = (
    "stop",
    "stop please",
    "Luma, stop.",
    "um, stop",
    "okay, stop it",
    "be quiet",
    "that's enough",
    "no more",
    "please stop",
    "stop, stop",
)
"""What the child says, in turn (the stop phrase and its family)."""
ECHO_DB: Final = -6.0
"""The companion's own voice in its microphone, against what it plays."""
CHILD_BELOW_ECHO_DB: Final = 6.0
WITHIN_S: Final = 1.0
"""A stop counts when the narration is silent this soon after the end of the word."""
SAY_FROM_S: Final = 2.5
SAY_UNTIL_S: Final = 6.0
"""The child speaks this far into the narration (drawn per trial)."""
AFTER_S: Final = 2.5
STORY: Final = "s000-mila-and-the-secret-dream-door"
"""The story whose first passage is told in every trial (long enough to talk over)."""


@dataclass(frozen=True, slots=True)
class StopTrial:
    voice: str
    said: str
    said_from_s: float
    said_end_s: float
    silent_at_s: float | None
    over_narration: bool
    ducked_at_s: float | None = None

    @property
    def duck_latency_s(self) -> float | None:
        """Start of the child's voice → narration lowered."""
        if self.ducked_at_s is None or self.ducked_at_s < self.said_from_s:
            return None
        return self.ducked_at_s - self.said_from_s

    @property
    def latency_s(self) -> float | None:
        """End of the word → narration silent; None when it never stopped."""
        if self.silent_at_s is None or self.silent_at_s < self.said_from_s:
            return None
        return self.silent_at_s - self.said_end_s

    @property
    def stopped(self) -> bool:
        latency = self.latency_s
        return latency is not None and latency <= WITHIN_S

    @property
    def too_early(self) -> bool:
        """Stopped before the child spoke: its own voice or the room did it."""
        return self.silent_at_s is not None and self.silent_at_s < self.said_from_s


def child_clip(text: str, voice: Any, bank: Path, narrator: Any) -> np.ndarray:
    """`text` in `voice`, child-pitched, heard in the bedroom (16 kHz float32)."""
    from companion import voicebank
    from companion.audio.room import bedroom_reverb
    from companion.audio.wav import read_wav

    path = voicebank.render(text, voice, "child", bank, narrator=narrator, lead_s=0.0, tail_s=0.0)
    samples, _ = read_wav(path)
    return bedroom_reverb(samples.astype(np.float32))


def narration_rms(config: Config, voice: Any, role: Any, text: str) -> float:
    """How loud the narration leaves the speaker (RMS of its voiced frames)."""
    from companion.audio.base import apply_cap
    from companion.audio.resample import resample
    from companion.voicebank import speech_rms

    audio = np.concatenate(list(voice.synthesize(text, role.rate)))
    audio = resample(audio * role.volume, voice.sample_rate, 16_000)
    played = apply_cap(audio, 1.0, config.volume.day)
    return speech_rms(played)


def run_stop_trials(
    config: Config,
    stt: Any,
    voice: Any,
    count: int,
    seed: int = 7,
    progress: Callable[[str], None] | None = None,
    paced: bool = True,
) -> list[StopTrial]:
    """`count` trials in held-out voices, each child-pitched, over the story's first passage."""
    from companion import voicebank
    from companion.app import make_host
    from companion.audio.room import SimulatedRoom
    from companion.audio.wav import read_wav, write_wav
    from companion.paths import cache_dir, data_dir
    from companion.speech.tts import VoiceRole, load_voice_roles
    from companion.state.store import Store

    rng = np.random.default_rng(seed)
    bank = cache_dir() / "voicebank"
    voices = voicebank.voices(held_out=True)
    role = load_voice_roles(data_dir("voices")).get("narrator", VoiceRole())
    level: float | None = None
    trials: list[StopTrial] = []
    with tempfile.TemporaryDirectory(prefix="companion-stop-") as tmp:
        folder = Path(tmp)
        for number in range(count):
            store = Store(folder / f"state-{number}.db")
            host = make_host(config, store)
            story = host.stories[STORY]
            first = host.start_story(story)
            said = SAID[number % len(SAID)]
            test_voice = voices[number % len(voices)]
            clip = child_clip(said, test_voice, bank, voice)
            if level is None:
                level = narration_rms(config, voice, role, _text(first)[:200])
            echo = level * 10 ** (ECHO_DB / 20)
            clip *= echo * 10 ** (-CHILD_BELOW_ECHO_DB / 20) / max(voicebank.speech_rms(clip), 1e-9)
            at = float(rng.uniform(SAY_FROM_S, SAY_UNTIL_S))
            rate = voicebank.RATE
            audio = np.zeros(round((at + AFTER_S) * rate) + len(clip), np.float32)
            start = round(at * rate)
            audio[start : start + len(clip)] = clip
            heard_from, heard_end = _voiced_span(clip, rate)
            inp, out = folder / f"in-{number}.wav", folder / f"out-{number}.wav"
            write_wav(inp, audio, rate)
            # the microphone ends with the input: a missed stop need not play the passage out
            until = len(audio) / rate
            room = SimulatedRoom(
                inp, out, ECHO_DB, cap=config.volume.day, paced=paced, until_s=until
            )
            _in_room(config, room, stt, voice, role, host).run(first=first)
            played, _ = read_wav(out)
            said_from, said_end = at + heard_from, at + heard_end
            before = played[max(0, round((said_from - 0.6) * rate)) : round(said_from * rate)]
            over = bool(before.size) and float(np.sqrt(np.mean(before**2))) > 1e-3
            silent = room.stopped_at[0] if room.stopped_at else None
            ducked = room.ducked_at[0] if room.ducked_at else None
            trial = StopTrial(test_voice.label, said, said_from, said_end, silent, over, ducked)
            trials.append(trial)
            store.close()
            if progress is not None:
                latency = trial.latency_s
                shown = f"{latency:.2f} s" if latency is not None else "not stopped"
                progress(f"stop {number + 1}/{count}: {test_voice.label} {said!r}: {shown}")
    return trials


def summary(trials: list[StopTrial]) -> dict[str, Any]:
    """The bench's stop figures."""
    over = [t for t in trials if t.over_narration]
    latencies = sorted(t.latency_s for t in over if t.stopped and t.latency_s is not None)
    ducks = sorted(d for t in over if (d := t.duck_latency_s) is not None)
    return {
        "stop_trials": len(over),
        "stop_heard": int(sum(t.stopped for t in over)),
        "stop_too_early": int(sum(t.too_early for t in over)),
        "stop_latency_p50_s": _quantile(latencies, 0.5),
        "stop_latency_p95_s": _quantile(latencies, 0.95),
        "duck_latency_s": _quantile(ducks, 0.5),
        "duck_latency_p95_s": _quantile(ducks, 0.95),
        "stop_missed": [f"{t.voice}: {t.said!r}" for t in over if not t.stopped],
    }


class _Narrator:
    """Tells real stories' passages one after another, with nobody answering."""

    def __init__(self, passages: list[Any], until: Callable[[], bool]) -> None:
        self.passages = passages
        self.until = until
        self.told = 0

    def tick(self) -> Any:
        if self.until():
            return None
        reply = self.passages[self.told % len(self.passages)]
        self.told += 1
        return reply

    def wake(self) -> Any:
        from companion.messages import Reply

        return Reply(())

    def respond(self, intent: Any, transcript: Any) -> Any:
        from companion.messages import Reply

        return Reply(())

    def silence(self) -> Any:
        return None


def run_false_stops(
    config: Config, stt: Any, voice: Any, minutes: float, seed: int = 5, paced: bool = True
) -> dict[str, Any]:
    """Narration for `minutes` in a room with a TV, a sibling chatting and breathing, and
    nobody saying stop: how often it stopped itself."""
    from companion import voicebank
    from companion.app import make_host
    from companion.audio.room import SimulatedRoom
    from companion.audio.wav import write_wav
    from companion.bench import room_audio
    from companion.messages import Reply
    from companion.paths import cache_dir, data_dir
    from companion.speech.tts import VoiceRole, load_voice_roles
    from companion.state.store import Store

    role = load_voice_roles(data_dir("voices")).get("narrator", VoiceRole())
    with tempfile.TemporaryDirectory(prefix="companion-stop-") as tmp:
        folder = Path(tmp)
        host = make_host(config, Store(folder / "state.db"))
        passages = []
        for story in host.stories.values():
            opening = host.start_story(story)
            passages.append(Reply(opening.lines))  # told without waiting for an answer
        host.store.close()
        audio, _ = room_audio(minutes, cache_dir() / "voicebank", narrator=voice, seed=seed)
        inp = folder / "room.wav"
        write_wav(inp, audio, voicebank.RATE)
        end_s = len(audio) / voicebank.RATE
        room = SimulatedRoom(inp, None, ECHO_DB, cap=config.volume.day, paced=paced, until_s=end_s)
        brain = _Narrator(passages, lambda: room.clock_s >= end_s - 1.0)
        companion = _in_room(config, room, stt, voice, role, brain)
        companion.run()
        barge = companion.barge_in
        assert barge is not None
        stops = len(barge.heard)
        return {
            "listening_cpu_pct_while_speaking": round(
                100 * barge.cpu_s / max(barge.audio_s, 1e-9), 2
            ),
            "false_stops": stops,
            "false_stops_minutes": round(room.played_s / 60, 2),
            "false_stops_per_hour": round(stops / max(room.played_s / 3600, 1e-9), 2),
            "false_stops_heard": [t.text for t in barge.heard],
        }


def _in_room(config: Config, room: Any, stt: Any, voice: Any, role: Any, brain: Any) -> Any:
    """The companion in the simulated room, listening for stop while it speaks."""
    from companion.app import Companion

    return Companion(
        config,
        room,
        room,
        half_duplex=True,
        stt=stt,
        voice=(voice, role),
        brain=brain,
        warm_all=False,
    )


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(float(values[0]), 3)
    return round(
        float(statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]), 3
    )


def _voiced_span(clip: np.ndarray, rate: int) -> tuple[float, float]:
    """Where the voice starts and ends in a clip, in seconds."""
    loud = np.flatnonzero(np.abs(clip) > 0.05 * float(np.abs(clip).max()))
    return float(loud[0] / rate), float((loud[-1] + 1) / rate)


def _text(reply: Any) -> str:
    return " ".join(getattr(line, "text", line) for line in reply.lines)
