"""A story told by voice: answers spoken by piper go through the real input path and recognizer,
and the child's words come back in the spoken story (transcribed from the output)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from companion.audio.wav import read_wav, write_wav
from companion.cli import main
from companion.config import Child, Config, Family
from companion.host import Host
from companion.state.store import Store
from companion.storytelling.format import parse_story
from tests.conftest import SHORT_STORY, daytime, headless

pytestmark = pytest.mark.slow


def test_spoken_answers_become_the_spoken_story(
    recognizer,
    voice,
    speak: Callable[..., Path],
    transcribe: Callable[[Path], str],
    tmp_path: Path,
) -> None:
    story = parse_story(SHORT_STORY, "stories/owl-and-the-door.toml", "owl-and-the-door")
    parts = []
    for answer in ("purple", "a tiger", "sail", "happy"):
        audio, rate = read_wav(speak(answer, lead_s=1.0, tail_s=1.2))
        parts.append(audio)
    answers = tmp_path / "answers.wav"
    write_wav(answers, np.concatenate(parts), rate)
    config = Config(family=Family((Child("Mila", 6),)))
    store = Store(tmp_path / "state.db")
    host = Host(config, [story], store, random.Random(1), clock=daytime)
    companion = headless(config, answers, tmp_path / "story.wav", recognizer, voice, host)
    companion.loop.begin(host.start_story(story))
    companion.run()
    entry = store.journal()[-1]
    assert [what for who, what in entry.exchanges if who == "Mila"] == [
        "purple",
        "tiger",
        "sail",
        "happy",
    ]
    assert "purple door closed softly" in entry.text and "happy tiger" in entry.text
    assert "They sailed in a little boat." in entry.text
    said = transcribe(tmp_path / "story.wav")
    for word in ("purple", "tiger", "happy"):
        assert word in said, (word, said)


@pytest.mark.parametrize(
    ("kind", "text", "answer"),
    [
        ("colour", "It was purple.", "purple"),
        ("animal", "A tiger!", "tiger"),
        ("yes/no", "Yes please.", "yes"),
    ],
)
def test_hear_expect_kind(
    speak: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    kind: str,
    text: str,
    answer: str,
) -> None:
    assert main(["hear", str(speak(text)), "--expect", kind, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["answer"] == answer


def test_hear_expect_unknown_kind_is_one_line(
    speak: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hear", str(speak("purple")), "--expect", "smell"]) == 2
    assert "--expect: 'smell' is not one of" in capsys.readouterr().err
