"""After a bad dream: the child's words said back, a reframe that fits, comfort, sleep sounds."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from companion.config import Config
from companion.host import Host
from companion.messages import Intent, Reply, Transcript
from companion.state.store import Store
from companion.storytelling.bad_dream import fear_family, fear_words
from tests.conftest import daytime

ANSWERS = {
    "feeling now": "a bit better",
    "really silly": "a rainbow tutu",
    "night light glow": "gold",
    "land on": "a giant marshmallow",
    "right beside you": "Dad",
    "what happens instead": "everyone had a picnic",
    "What would help most": "hug my teddy",
}
"""An answer to each question after the one about the dream, by words of the question."""


def night(
    tmp_path: Path, fear: str, answers: dict[str, str] = ANSWERS, silent: bool = False
) -> tuple[str, list[Reply], list[str]]:
    """A bad dream told through the host; everything said, the replies, the events fired."""
    events: list[str] = []
    host = Host(Config(), [], Store(tmp_path / "d.db"), random.Random(3), clock=daytime)
    host.on_event = events.append
    replies = [host.respond(Intent("bad_dream", 1), Transcript("I had a bad dream", 1, "t"))]
    said = fear
    for _ in range(12):
        if replies[-1].expect is None:
            break
        if said and not silent:
            replies.append(host.respond(Intent("none", 0), Transcript(said, 1, "t")))
        else:
            replies.append(host.silence() or Reply(()))
        asked = replies[-1].text()
        said = next((a for q, a in answers.items() if q in asked), "")
    return "\n".join(r.text() for r in replies), replies, events


FEARS = [
    # what the child says, words said back, a line of the fitting reframe
    ("I dreamed there was a zombie under my bed", "A zombie under your bed", "tiny zombie"),
    ("a big hairy spider", "A big hairy spider", "tiny spider"),
    ("um, spiders", "Spiders", "tiny spider"),
    ("a gruffalo chased me", "A gruffalo chased you", "tiny gruffalo"),
    ("it was really dark", "The dark can feel really big", "night light, glowing a soft"),
    ("I was falling off a cliff", "Falling in a dream feels so real", "you land, flump"),
    ("I was all alone and I couldn't find Mum", "all on your own", "beside you"),
    ("my grandma died", "a very sad dream", "grown-up who loves you"),
    ("a man hurt my dog", "really frightening", "tell a grown-up you trust"),
    ("I was late for school", "You were late for school", "a new, kind ending"),
]


@pytest.mark.parametrize(("said", "back", "reframe"), FEARS)
def test_the_childs_own_fear_is_said_back_and_reframed(
    tmp_path: Path, said: str, back: str, reframe: str
) -> None:
    text, replies, events = night(tmp_path, said)
    assert back in text and reframe in text
    assert "How are you feeling now" in text
    assert "call a grown-up, you can hug your teddy, or we can imagine a night light" in text
    assert "shadow" not in text.lower()  # never a fear it did not hear
    assert replies[-1].expect is None and replies[-1].sounds  # it ends in sleep sounds
    assert events == []


def test_words_about_death_or_harm_are_not_said_back(tmp_path: Path) -> None:
    for said in ("my grandma died", "someone was killed with a knife"):
        text, _, _ = night(tmp_path, said)
        assert "died" not in text and "killed" not in text and "knife" not in text
        assert "grown-up" in text


def test_silence_gets_comfort_not_a_made_up_fear(tmp_path: Path) -> None:
    text, replies, events = night(tmp_path, "", silent=True)
    assert "You don't have to tell me anything" in text and events == []
    assert "tiny" not in text and "shrink" not in text
    assert replies[-1].expect is None and replies[-1].sounds


def test_a_grown_up_is_called_when_the_child_wants_one(tmp_path: Path) -> None:
    wants = {**ANSWERS, "What would help most": "I want my mummy"}
    text, replies, events = night(tmp_path, "my grandma died", wants)
    assert events == ["asked_for_grownup"]
    assert "I'll let a grown-up know" in text and replies[-1].sounds


def test_rude_words_are_never_said_back(tmp_path: Path) -> None:
    text, replies, _ = night(tmp_path, "a fucking monster")
    assert "fucking" not in text.lower() and "monster" not in text.lower()
    assert replies[-1].expect is None


@pytest.mark.parametrize(
    ("said", "family"),
    [
        ("a zombie", "creature"),
        ("the dark", "dark"),
        ("falling", "falling"),
        ("being alone", "alone"),
        ("grandpa died", "loss"),
        ("a monster hurt me", "harm"),
        ("a test at school", "other"),
        ("", "quiet"),
    ],
)
def test_fear_families(said: str, family: str) -> None:
    assert fear_family(fear_words(said)) == family
