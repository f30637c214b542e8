"""Whole nights rehearsed headless: WAV answers through the real loop, steps in order, turns by
name, the journal, the fade-out; and the rules after goodnight."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from companion.audio.wav import read_wav, write_wav
from companion.config import parse_config
from companion.host import SLEEPING_TIME, Host
from companion.messages import Intent, Transcript
from companion.routine.plan import night_plan
from companion.state.store import Store
from companion.storytelling.format import parse_story
from tests.conftest import SHORT_STORY, daytime, headless, need

CONFIG = {
    "timezone": "Europe/London",
    "family": {
        "children": [{"name": "Mila", "age": 6}, {"name": "Leo", "age": 4}],
        "adults": ["Grandpa Bryan"],
    },
    "bedtime": {"friday": "19:30"},
    "sleep_sounds": {"sound": "rain", "minutes": 0.2, "fade_minutes": 0.1},
    "routine": {"reminders": ["pyjamas on", "teeth brushed"]},
}
FRIDAY = date(2026, 11, 20)


def answers_wav(speak: Callable[..., Path], tmp_path: Path, answers: list[str | None]) -> Path:
    parts = []
    rate = 22050
    for answer in answers:
        if answer is None:  # nobody answers: longer than two silence timeouts
            parts.append(np.zeros(int(17.5 * rate), np.float32))
            continue
        audio, rate = read_wav(speak(answer, lead_s=0.8, tail_s=1.2))
        parts.append(audio)
    path = tmp_path / "answers.wav"
    write_wav(path, np.concatenate(parts), rate)
    return path


def rehearse(mode: str, answers: Path, tmp_path: Path, recognizer, voice, **extra):
    config = parse_config(CONFIG | extra)
    story = parse_story(SHORT_STORY, "stories/owl-and-the-door.toml")
    store = Store(tmp_path / "state.db")
    host = Host(config, [story], store, random.Random(3), clock=daytime)
    companion = headless(config, answers, tmp_path / f"{mode}.wav", recognizer, voice, host)
    plan = night_plan(config, FRIDAY, mode)
    assert plan is not None
    host.post_night(plan, rehearsal=True)
    companion.run(drain=True)
    return host, store, tmp_path / f"{mode}.wav"


def said(host: Host, companion_turns) -> list[str]:
    return [t.reply.text() for t in companion_turns]


@pytest.mark.slow
def test_a_whole_shared_night(recognizer, voice, speak, tmp_path: Path) -> None:
    wav = answers_wav(
        speak,
        tmp_path,
        [
            "Everyone.",  # who's here tonight?
            "Playing in the snow.",  # Mila's best part
            "My cake.",  # Leo's
            None,  # Grandpa Bryan is quiet twice: skipped kindly
            "Purple.",
            "A tiger.",
            "Sail.",
            "Happy.",  # the story, asked round by name
        ],
    )
    host, store, out = rehearse("shared", wav, tmp_path, recognizer, voice)
    night = host.last_night
    assert night is not None
    assert night.done == [
        "announce",
        "roll_call",
        "reminders",
        "breathing",
        "gratitude",
        "story",
        "goodnight",
        "sleep_sounds",
    ]
    assert night.present == ("Mila", "Leo", "Grandpa Bryan")
    assert [who for who, _ in night.gratitude] == ["Mila", "Leo", "Grandpa Bryan"]
    assert "snow" in night.gratitude[0][1] and night.gratitude[2][1] == "(quiet)"
    (entry,) = store.journal()
    assert entry.mode == "shared"
    answered = [who for who, what in entry.exchanges if who != "Luma"]
    assert answered == ["Mila", "Leo", "Grandpa Bryan", "Mila"]
    assert "purple" in entry.text and "tiger" in entry.text
    audio, rate = read_wav(out)
    tail = audio[-int(6.5 * rate) :]
    levels = [float(np.sqrt(np.mean(tail[i * rate : (i + 1) * rate] ** 2))) for i in range(6)]
    assert levels[0] > 0.005 and levels[-1] < levels[0] / 3, levels  # the rain fades away
    assert all(a >= b * 0.8 for a, b in itertools.pairwise(levels)), levels


@pytest.mark.slow
def test_a_whole_freeform_night(recognizer, voice, speak, tmp_path: Path) -> None:
    wav = answers_wav(
        speak,
        tmp_path,
        ["A little dragon.", "The moon.", "A shiny key.", "An owl.", "They had hot chocolate."],
    )
    host, store, _ = rehearse("freeform", wav, tmp_path, recognizer, voice)
    night = host.last_night
    assert night is not None
    assert night.done == ["announce", "reminders", "story", "goodnight", "sleep_sounds"]
    (entry,) = store.journal()
    assert entry.mode == "freeform" and entry.title == "Our Own Story"
    heard = [what for who, what in entry.exchanges if who == "Mila" and not what.startswith("(")]
    assert len(heard) >= 4, entry.exchanges
    assert all(what in entry.text for what in heard)
    assert "moon" in entry.text and "owl" in entry.text


@pytest.mark.slow
@pytest.mark.parametrize("label", ["flite:kal16"])
def test_a_night_answered_in_a_child_voice_not_the_narrator(
    whisper, voice, tmp_path: Path, label: str
) -> None:
    """The whole loop by voice: a child-pitched voice of another synthesizer answers the
    routine and the story through the neural recognizer, and the story holds its words."""
    from companion import voicebank

    for tool in ("espeak-ng", "flite", "sox"):
        need(tool)
    (child,) = [v for v in voicebank.voices(held_out=False) if v.label == label]
    answers = ["Everyone.", "Playing in the snow.", "My cake.", None]
    answers += ["Purple.", "A tiger.", "Sail.", "Happy."]
    parts: list[np.ndarray] = []
    for answer in answers:
        if answer is None:
            parts.append(np.zeros(int(17.5 * voicebank.RATE), np.float32))
            continue
        said = voicebank.render(answer, child, "child", tmp_path, voice, lead_s=0.8, tail_s=1.2)
        parts.append(read_wav(said)[0])
    wav = tmp_path / "answers.wav"
    write_wav(wav, np.concatenate(parts), voicebank.RATE)
    host, store, _ = rehearse("shared", wav, tmp_path, whisper, voice)
    night = host.last_night
    assert night is not None and night.present == ("Mila", "Leo", "Grandpa Bryan")
    thanks = " ".join(what for _, what in night.gratitude).lower()
    assert "snow" in thanks or "cake" in thanks, night.gratitude
    (entry,) = store.journal()
    story = entry.text.lower()
    reached = [word for word in ("purple", "tiger", "sailed", "happy") if word in story]
    print(f"\n{label}: {reached} reached the story; exchanges {entry.exchanges}")
    assert len(reached) >= 3, entry.exchanges


def host_at_night(**extra) -> Host:
    config = parse_config(CONFIG | extra)
    story = parse_story(SHORT_STORY, "stories/owl-and-the-door.toml")
    return Host(config, [story], None, random.Random(1), clock=daytime)


def test_after_goodnight_only_sleep_sounds_bad_dreams_and_stop() -> None:
    host = host_at_night()
    host.after_goodnight = True
    ask = host.respond(Intent("story.start", 1), Transcript("tell me a story", 1, "t"))
    assert ask.lines == (SLEEPING_TIME,) and ask.cap == 0.5
    rain = host.respond(Intent("sleep_sounds", 1), Transcript("play the rain", 1, "t"))
    assert rain.sounds == ("rain",)
    stop = host.respond(Intent("stop", 1), Transcript("stop", 1, "t"))
    assert stop.stop_sounds
    dream = host.respond(Intent("bad_dream", 1), Transcript("i had a bad dream", 1, "t"))
    assert "breath" in dream.text()


def test_parents_may_allow_stories_after_goodnight() -> None:
    host = host_at_night(routine={"stories_after_goodnight": True})
    host.after_goodnight = True
    reply = host.respond(Intent("story.start", 1), Transcript("tell me a story", 1, "t"))
    assert "door" in reply.text()


@pytest.mark.parametrize(("allowed", "expected"), [(True, "freeform"), (False, "shared")])
def test_switching_tonight_by_voice(allowed: bool, expected: str) -> None:
    host = host_at_night(routine={"child_can_switch": allowed})
    plan = night_plan(host.config, FRIDAY, "shared")
    assert plan is not None
    host.post_night(plan, rehearsal=True)
    assert host.tick() is not None  # announce
    reply = host.respond(Intent("night.freeform", 1), Transcript("a freeform night", 1, "t"))
    assert host.night is not None and host.night.plan.mode == expected
    assert ("Okay!" in reply.text()) == allowed
    assert ("grown-ups planned" in reply.text()) == (not allowed)


def test_max_session_length_says_goodnight() -> None:
    from datetime import timedelta

    host = host_at_night(routine={"max_session_minutes": 10})
    plan = night_plan(host.config, FRIDAY, "shared")
    assert plan is not None
    now = [daytime()]
    host.clock = lambda: now[0]
    host.post_night(plan)
    host.tick()
    now[0] = now[0] + timedelta(minutes=11)
    reply = host.tick()
    assert reply is not None and "Goodnight" in reply.text() and host.night is None
