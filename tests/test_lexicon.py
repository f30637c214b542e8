"""The lexicon, yes-and answers, and story passages that change with an answer (format 2)."""

from __future__ import annotations

import random

import pytest

from companion.storytelling.engine import Storyteller
from companion.storytelling.format import StoryFileError, parse_story
from companion.storytelling.lexicon import LexiconError, lexicon, parse_lexicon
from companion.storytelling.safety import WordSafety, answer_for

YES_AND = [
    # kind, said, taken (None: asked again)
    ("animal", "an axolotl", "axolotl"),
    ("animal", "um, a shark", "shark"),
    ("animal", "it was a T-rex", "T-rex"),
    ("animal", "a monster truck", None),  # a thing: asked again for an animal
    ("object", "a monster truck", "monster truck"),
    ("animal", "um, a spaceship", None),
    ("animal", "a flibberjib", "flibberjib"),
    ("animal", "my grandma", None),
    ("animal", "purple", None),
    ("animal", "I dont know", None),
    ("animal", "yes", None),
    ("colour", "an owl", None),
    ("colour", "banana", None),
    ("colour", "periwinkle", "periwinkle"),
    ("feeling", "I felt like a jelly.", "like a jelly"),
    ("feeling", "butterflies in my tummy", "butterflies in my tummy"),
    ("feeling", "it felt sad", "sad"),
    ("feeling", "a tiger", None),
    ("object", "my grandma", None),
    ("sound", "my grandma", None),
    ("object", "the second one", None),
    ("animal", "a stupid shark", None),
]


@pytest.mark.parametrize(("kind", "said", "taken"), YES_AND)
def test_yes_and(kind: str, said: str, taken: str | None) -> None:
    assert answer_for(kind, said, WordSafety()) == taken


def test_the_lexicon_knows_what_stories_vary_on() -> None:
    words = lexicon()
    assert words.of("animal", "owl")["moves"] == "flies"
    assert words.of("animal", "whale") == {"moves": "swims", "size": "big", "sound": "song"}
    assert words.of("feeling", "grumpy") == {"family": "cross"}
    assert "shells" in words.of("place", "beach")["has"]
    assert "axolotl" in words.understood["animal"] and "axolotl" not in words.listed["animal"]
    assert words.of("animal", "flibberjib") == {}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('format = 1\n[animals]\nowl = { moves = "floats" }\n', "lexicon.toml:3: owl: moves must be"),
        ('format = 1\n[animals]\nowl = { colour = "red" }\n', "lexicon.toml:3: owl: 'colour' is not one of"),
        ("format = 3\n", "lexicon.toml:1: format: format must be 1"),
        ('format = 1\nanimal = ["owl"]\n', "lexicon.toml:2: animal: unknown key"),
        ("format = 1\ncolours = 5\n", "lexicon.toml:2: colours: must be a list of words"),
    ],
)
def test_lexicon_mistakes_name_the_line(text: str, problem: str) -> None:
    with pytest.raises(LexiconError) as err:
        parse_lexicon(text)
    assert str(err.value).startswith(problem) and "\n" not in str(err.value)


STORY = """
format = 2
id = "the-way-home"
title = "The Way Home"
seed = "000_03c8bcb27e73f801.txt"
ages = [4, 9]
minutes = 3
characters = ["Mila"]

[[step]]
say = "Mila was far from home."

[[step]]
ask = "Who came to help, {listener}?"
slot = "helper"
kind = "animal"
defaults = ["owl"]
reply = "A {helper}! Hello there."

[[step]]
choose = "Should they take the moon path or the river path?"
slot = "path"

[[step.option]]
label = "the moon path"
say = "They took the moon path."

[[step.option]]
label = "the river path"
say = "They took the river path."

[[step]]
ask = "What did they find on the moon path?"
slot = "moon_find"
kind = "object"
defaults = ["a silver bell"]
reply = "{moon_find:a}! On the moon!"

[step.if]
slot = "path"
is = "the moon path"

[[step]]
say = "Mila put the {moon_find} in her pocket."

[step.if]
slot = "path"
is = "the moon path"

[[step]]
ask = "How did Mila feel?"
slot = "feeling"
kind = "feeling"
defaults = ["sleepy"]
reply = "{feeling}. That's a good way to feel."

[[step.when]]
slot = "feeling"
family = "sad"
reply = "Oh, Mila. Let's find some comfort."

[[step]]
say = "The {helper} walked Mila home, one slow step at a time."

[[step.when]]
slot = "helper"
moves = "flies"
say = "The {helper} spread its wings and carried Mila home over the rooftops."

[[step.when]]
slot = "helper"
moves = "swims"
say = "The {helper} swam Mila home along the silver river."

[[step]]
ask = "What did Mila hold?"
slot = "thing"
kind = "object"
defaults = ["a lantern"]

[[step]]
say = "Home at last."

[[step.when]]
slot = "path"
is = "the moon path"
say = "Home at last, with moon dust still on her boots."

[ending]
say = "Goodnight, {listener}."
"""


def told(answers: list[str]) -> tuple[str, list[str]]:
    teller = Storyteller(parse_story(STORY, "way.toml"), ("Ivy",), rng=random.Random(1))
    said: list[str] = []
    feed = iter(answers)
    while teller.advance().question is not None:
        lines, _ = teller.answer(next(feed))
        said += lines
    return teller.final_text(), said


def test_answers_change_what_happens() -> None:
    owl, said_owl = told(["an owl", "the moon path", "an acorn", "happy", "a lamp"])
    whale, _ = told(["a whale", "the river path", "it felt sad", "a lamp"])
    shark, _ = told(["a shark", "the river path", "sleepy", "a lamp"])
    fox, _ = told(["a fox", "the moon path", "a key", "sleepy", "a lamp"])
    assert "The owl spread its wings and carried Mila home" in owl
    assert "The whale swam Mila home" in whale and "The shark swam Mila home" in shark
    assert "The fox walked Mila home" in fox
    assert "moon dust" in owl and "moon dust" not in whale
    assert "Mila put the acorn in her pocket." in owl and "An acorn! On the moon!" in said_owl
    assert "pocket" not in whale and "pocket" not in shark
    _, said_whale = told(["a whale", "the river path", "it felt sad", "a lamp"])
    assert "Oh, Mila. Let's find some comfort." in said_whale
    assert "Happy. That's a good way to feel." in said_owl


@pytest.mark.parametrize(
    ("change", "at", "problem"),
    [
        (("format = 2", "format = 1"), "[[step.when]]", "'when' needs format = 2"),
        (('family = "sad"', 'family = "blue"'), 'family = "blue"', "family must be one of"),
        (('moves = "flies"', 'wings = "two"'), 'wings = "two"', "unknown key 'wings'"),
        (('is = "the moon path"', 'is = "sky"'), 'is = "sky"', "'sky' is not one of path's"),
        (
            ('slot = "helper"\nmoves = "swims"', 'slot = "nobody"\nmoves = "swims"'),
            'slot = "nobody"',
            "'slot' must name an answer",
        ),
        (
            ('say = "Home at last."', 'say = "Home at last, with the {moon_find}."'),
            'say = "Home at last, with',
            "{moon_find} is only answered on one path",
        ),
        (("format = 2", "format = 1"), "[step.if]", "'if' needs format = 2"),
        (('slot = "path"\nis = "the moon path"', 'slot = "path"\nsize = "big"'), 'size = "big"', "unknown key 'size'"),
    ],
)
def test_when_mistakes_name_the_line(change: tuple[str, str], at: str, problem: str) -> None:
    broken = STORY.replace(*change)
    assert broken != STORY
    line = broken[: broken.index(at)].count("\n") + 1
    with pytest.raises(StoryFileError) as err:
        parse_story(broken, "way.toml")
    assert any(p.startswith(f"way.toml:{line}: {problem}") for p in err.value.problems), (
        line,
        err.value.problems,
    )
