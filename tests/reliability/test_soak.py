"""A 7-night soak on a fast clock: the real scheduler, host, loop and engines, with seeded faults
(restarts mid-night, a broken config edit, the microphone failing or ending early, a silent child,
"stop" mid-story)."""

from __future__ import annotations

import logging
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from companion.audio.files import WavInput
from companion.audio.wav import write_wav
from companion.config import Config, load_config
from companion.host import Host
from companion.messages import AudioChunk
from companion.routine.plan import night_plan
from companion.routine.scheduler import ConfigWatcher, RoutineScheduler
from companion.state.store import Store
from companion.storytelling.format import parse_story
from tests.conftest import SHORT_STORY, headless

SEED = 7
NIGHTS = 7
FIRST_NIGHT = date(2026, 11, 23)
SPEED = 240.0
"""Simulated seconds per second of microphone audio: the 30-minute wind-down in 7.5 s."""
GOOD = """\
timezone = "Europe/London"
[family]
children = [{ name = "Mila", age = 6 }]
[bedtime]
monday = "19:30"
tuesday = "19:30"
wednesday = "19:30"
thursday = "19:30"
friday = "19:30"
saturday = "19:30"
sunday = "19:30"
[routine]
steps = ["announce", "gratitude", "story", "goodnight", "sleep_sounds"]
max_session_minutes = 240
[listening]
silence_timeout_s = 3.0
[sleep_sounds]
minutes = 0.2
fade_minutes = 0.1
"""
BROKEN = GOOD.replace('monday = "19:30"', 'monday = "25:99"')
ANSWERS = ("Everyone.", "Playing in the snow.", "Purple.", "A tiger.", "Sail.", "Happy.")
FAULTS = ("restart", "input error", "input ends early", "bad config", "silent child", "stop")
SAVED = re.compile(r"journal entry (\d+) saved")


class InputFailed(OSError):
    """The injected microphone failure."""


@dataclass
class FastClock:
    """Simulated time driven by the audio the loop has taken: `start` + SPEED x audio seconds."""

    start: datetime
    offset_s: float = 0.0
    position_s: float = 0.0

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(self.offset_s + self.position_s) * SPEED)

    def restart(self) -> None:
        """A new process: its audio starts at 0, time goes on."""
        self.offset_s += self.position_s
        self.position_s = 0.0


@dataclass
class FaultyInput:
    """A WAV microphone that moves the clock, and may fail or end at `cut_s`, or call `at`."""

    wav: WavInput
    clock: FastClock
    cut_s: float | None = None
    fail: bool = False
    at: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
    name: str = "faulty wav"

    def chunks(self) -> Iterator[AudioChunk]:
        for chunk in self.wav.chunks():
            self.clock.position_s = chunk.start_s
            while self.at and chunk.start_s >= self.at[0][0]:
                self.at.pop(0)[1]()
            if self.cut_s is not None and chunk.start_s >= self.cut_s:
                if self.fail:
                    raise InputFailed("the microphone stopped answering")
                return
            yield chunk

    def close(self) -> None:
        self.wav.close()


@dataclass
class Night:
    faults: tuple[str, ...]
    verdicts: list[str] = field(default_factory=list)
    segments: int = 0
    completed: bool = False
    unfinished: bool = False
    resumed: bool = False


def _phrases(voice, texts: set[str]) -> dict[str, np.ndarray]:
    return {t: np.concatenate(list(voice.synthesize(t))) * 0.8 for t in sorted(texts)}


def _wav(path: Path, parts: list[str | None], audio: dict[str, np.ndarray], rate: int) -> Path:
    """Answers 2 s apart (None: a silent child, longer than two timeouts), then 15 s of quiet."""
    gap = np.zeros(int(2.0 * rate), np.float32)
    chunks = [np.zeros(int(1.0 * rate), np.float32)]
    for part in parts:
        quiet = np.zeros(int(6.5 * rate), np.float32)
        chunks += [quiet if part is None else audio[part], gap]
    chunks.append(np.zeros(int(15.0 * rate), np.float32))
    write_wav(path, np.concatenate(chunks), rate)
    return path


def _answers(faults: tuple[str, ...], rng: random.Random) -> list[str | None]:
    parts: list[str | None] = list(ANSWERS)
    if "silent child" in faults:
        for i in rng.sample(range(len(parts)), 2):
            parts[i] = None
    if "stop" in faults:
        parts.insert(rng.choice((3, 4)), "Stop.")
    return parts


@pytest.mark.slow
def test_seven_nights_with_faults(
    voice,
    recognizer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    figure: Callable[[str, object], None],
) -> None:
    caplog.set_level(logging.INFO)
    rng = random.Random(SEED)
    path = tmp_path / "companion.toml"
    path.write_text(GOOD)
    good = load_config(path)
    story = parse_story(SHORT_STORY, "stories/owl-and-the-door.toml")
    store = Store(tmp_path / "state.db")
    audio = _phrases(voice, {*ANSWERS, "Stop.", "Hey Luma, tell me a story."})
    rate = voice.sample_rate
    crashes: list[str] = []
    nights: dict[date, Night] = {}
    seen: set[int] = set()
    lost = integrity_failures = 0
    started = time.monotonic()
    for n in range(NIGHTS):
        day = FIRST_NIGHT + timedelta(days=n)
        night = nights[day] = Night(tuple(rng.sample(FAULTS, rng.choice((1, 2, 2, 3)))))
        plan = night_plan(good, day)
        assert plan is not None
        clock = FastClock(plan.wind_down_at)
        wav = _wav(tmp_path / f"night{n}.wav", _answers(night.faults, rng), audio, rate)
        cut = (
            rng.uniform(4.0, 16.0)
            if {"restart", "input error", "input ends early"} & set(night.faults)
            else None
        )
        for segment in range(2 if cut is not None else 1):
            night.segments += 1
            host = Host(good, [story], store, random.Random(n * 10 + segment), clock=clock)
            scheduler = RoutineScheduler(good, store, host.post_night, clock)

            def apply(config: Config, scheduler=scheduler, host=host) -> None:
                scheduler.replan(config)
                host.update_config(config)

            watcher = ConfigWatcher(path, apply)
            night.verdicts.append(scheduler.fire())
            source = wav
            if segment == 1:
                night.unfinished = bool(store.unfinished())
                source = _wav(
                    tmp_path / f"night{n}b.wav",
                    ["Hey Luma, tell me a story.", *ANSWERS[2:]],
                    audio,
                    rate,
                )
            out = tmp_path / f"said{n}-{segment}.wav"
            companion = headless(good, source, out, recognizer, voice, host)
            faulty = FaultyInput(companion.audio_in, clock)
            companion.audio_in = faulty
            if segment == 0 and cut is not None:
                faulty.cut_s, faulty.fail = cut, "input error" in night.faults
            if "bad config" in night.faults and segment == 0:

                def broken_edit(watcher: ConfigWatcher = watcher) -> None:
                    path.write_text(BROKEN)
                    assert watcher.reload() is False

                faulty.at.append((rng.uniform(2.0, 10.0), broken_edit))
            try:
                companion.run(drain=True)
            except InputFailed:
                if companion.loop._in_utterance:  # a new process would load a fresh recognizer
                    recognizer.finish()
            except AssertionError:
                raise
            except Exception as err:  # a crash: counted, and the soak goes on
                crashes.append(f"night {day} segment {segment}: {err!r}")
            finally:
                scheduler.shutdown()
            assert host.config is good and scheduler.config is good
            path.write_text(GOOD)
            if segment == 1 and night.unfinished:
                first = [t.reply.text() for t in companion.loop.turns if t.reply.lines]
                night.resumed = any("Last time" in text for text in first[:2])
            night.completed |= host.last_night is not None and "goodnight" in host.last_night.done
            clock.restart()
            ids = {e.id for e in store.journal()}
            lost += len(seen - ids)
            seen |= ids
            integrity_failures += not store.integrity_ok()
    reported = {int(m) for r in caplog.records for m in SAVED.findall(r.getMessage())}
    lost += len(reported - seen)
    ran = Counter(v for nt in nights.values() for v in nt.verdicts)
    once = sum(nt.verdicts.count("run") == 1 for nt in nights.values())
    faults = Counter(f for nt in nights.values() for f in nt.faults)
    unfinished = [nt for nt in nights.values() if nt.unfinished]
    figure(
        "7-night soak",
        f"{len(crashes)} crashes, {lost} lost journal entries ({len(reported)} saved), "
        f"{integrity_failures} integrity failures; {once}/{NIGHTS} nights' routine ran once "
        f"({ran['done']} restarts said done); faults: "
        + ", ".join(f"{k} x{v}" for k, v in sorted(faults.items()))
        + f"; {sum(nt.completed for nt in nights.values())}/{NIGHTS} reached goodnight, "
        f"{sum(nt.resumed for nt in unfinished)}/{len(unfinished)} stories cut by a restart "
        f'resumed with "Last time"; '
        f"{time.monotonic() - started:.0f} s",
    )
    assert crashes == [] and lost == 0 and integrity_failures == 0
    assert once == NIGHTS and ran["run"] == NIGHTS, {d: nt.verdicts for d, nt in nights.items()}
    assert len(reported) >= 3
    assert all(nt.resumed for nt in unfinished), {d: nt.faults for d, nt in nights.items()}
    unbroken = [nt for nt in nights.values() if nt.segments == 1]
    assert all(nt.completed for nt in unbroken), {d: nt.faults for d, nt in nights.items()}
