"""The surface realiser: answers go into every story so that each sentence reads right."""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

import inflect
import pytest

from companion.storytelling.bad_dream import bad_dream_story
from companion.storytelling.engine import Storyteller, pick_option
from companion.storytelling.format import (
    Ask,
    Choose,
    Story,
    StoryFileError,
    load_library,
    parse_story,
)
from companion.storytelling.freeform import freeform_story
from companion.storytelling.realise import Filled, realise, settle, template_problems

ROOT = Path(__file__).resolve().parent.parent
_INFLECT = inflect.engine()

# answers no story was written around: vowel sounds, plurals, names in lower case, whole
# sentences, places said with a preposition, things said with "my"
AWKWARD: dict[str, tuple[str, ...]] = {
    "colour": ("orange", "um, it was golden", "indigo", "a sort of emerald"),
    "animal": ("an owl", "a elephant", "a unicorn", "it was a T-rex", "um, hedgehogs"),
    "name": ("zog", "her name is rosie", "ellie may", "Oscar"),
    "place": ("under the sea", "the moon", "space", "an island", "to the old oak tree"),
    "object": ("an umbrella", "my teddy bear", "some bubbles", "a egg", "the second one"),
    "sound": ("a soft hum", "it went whoosh", "ding dong", "an echo"),
    "feeling": ("it felt sad", "excited", "um, a bit sleepy"),
    "free": ("a little fox", "zog", "me", "an old owl who loves cocoa", "my cat Whiskers"),
    "choice": ("the second one", "um, the first one", "the last one", "number two"),
    "fear": ("a zombie under my bed", "the dark", "I was falling", "grandma died", "", "spiders"),
}


ANSWER_NAMES = ("Zog", "Rosie", "Ellie May", "Oscar")


def glitches(text: str, names: set[str]) -> list[str]:
    """What a careful reader would mark in a telling."""
    found: list[str] = []
    for match in re.finditer(r"\b([Aa]n?) ([A-Za-z][\w'-]*)", text):
        article, word = match.groups()
        if word.lower() in ("few", "little", "lot", "bit") or (word[0].isupper() and word in names):
            continue
        right = _INFLECT.a(word).split()[0]
        if article.lower() != right:
            found.append(match.group(0))
        if _INFLECT.singular_noun(word) and word.lower().endswith(
            ("bubbles", "socks", "hedgehogs")
        ):
            found.append(match.group(0))
    for name in names:
        found += re.findall(rf"\b(?:[Aa]n?|[Tt]he) {re.escape(name)}\b", text)
    for name in ANSWER_NAMES:
        found += re.findall(rf"\b{re.escape(name.lower())}\b", text)
    found += re.findall(r"\b(\w+) \1\b", text.replace("Beep, beep", ""))
    found += re.findall(r"(?<!\.\.)[.!?] +(?!went\b)[a-z]\w*", text)  # "Boing! went the dreams"
    found += re.findall(
        r"\blet's (?:the|a|an|my)\b|\bwe the\b|\bthe under\b|\bgo to the home\b", text
    )
    found += re.findall(r"[{}]|something wonderful|\bsecond one\b", text)
    return [g for g in found if g.lower() not in ("ding dong",)]


def tell(story: Story, answers: dict[str, tuple[str, ...]], turn: int) -> tuple[str, list[str]]:
    """The whole telling with these answers, and every line the companion said in reply."""
    teller = Storyteller(story, ("Mila",), rng=random.Random(turn))
    said: list[str] = []
    counts = itertools.count(turn)
    while True:
        segment = teller.advance()
        if segment.question is None:
            break
        said.append(segment.question.text)
        kind = "choice" if segment.question.kind == "choice" else segment.question.kind
        table = answers[kind]
        for _ in range(3):
            lines, again = teller.answer(table[next(counts) % len(table)])
            said += lines
            if not again:
                break
    return teller.final_text(), said


@pytest.fixture(scope="module")
def library() -> list[Story]:
    stories, problems = load_library(ROOT / "stories", log=False)
    assert not problems
    return stories


def _names(story: Story) -> set[str]:
    return {"Mila", *ANSWER_NAMES, *story.characters}


def test_every_story_reads_right_with_awkward_answers(library: list[Story]) -> None:
    for story, turn in itertools.product(library, range(4)):
        text, said = tell(story, AWKWARD, turn)
        problems = glitches(text + "\n" + "\n".join(said), _names(story))
        assert not problems, (story.id, turn, problems)


def test_made_up_stories_read_right() -> None:
    for seed in range(20):
        for story in (
            freeform_story(random.Random(seed), "Mila"),
            bad_dream_story(random.Random(seed), "Mila"),
        ):
            text, said = tell(story, AWKWARD, seed)
            problems = glitches(text + "\n" + "\n".join(said), _names(story))
            assert not problems, (story.id, seed, problems)


def test_made_up_story_templates_pass_the_loader_checks() -> None:
    for story in (
        freeform_story(random.Random(3), "Mila"),
        bad_dream_story(random.Random(3), "Mila"),
    ):
        kinds = {"listener": "listener", **story.slot_kinds}
        texts = [t for step in story.steps for t in _texts(step)] + list(story.ending)
        for text in texts:
            assert template_problems(text, kinds) == [], text


def _texts(step: object) -> list[str]:
    if isinstance(step, Ask):
        return [step.question, step.reply]
    if isinstance(step, Choose):
        return [step.question, *(p for o in step.options for p in (o.label, *o.paragraphs))]
    return [*step.paragraphs, step.recap]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ("A {c} lantern.", {"c": Filled("orange", "colour")}, "An orange lantern."),
        (
            "a {a} and an {b}",
            {"a": Filled("owl", "animal"), "b": Filled("unicorn", "animal")},
            "an owl and a unicorn",
        ),
        ("{a:a}! How lovely.", {"a": Filled("elephant", "animal")}, "An elephant! How lovely."),
        ("It was {a:a}.", {"a": Filled("bubbles", "object")}, "It was some bubbles."),
        ("the {n} smiled", {"n": Filled("Zog", "name")}, "Zog smiled"),
        ("The {n} smiled", {"n": Filled("Zog", "name")}, "Zog smiled"),
        ("off to the {p}", {"p": Filled("space", "place")}, "off to space"),
        ("Hello. {h:the} waved.", {"h": Filled("little fox")}, "Hello. The little fox waved."),
        ("Hello. {h:the} waved.", {"h": Filled("Pip")}, "Hello. Pip waved."),
        (
            "{h:a} came. {h:the} sat.",
            {"h": Filled("girl called Pip")},
            "A girl called Pip came. Pip sat.",
        ),
        ("{h:the} sat.", {"h": Filled("old owl who loves cocoa")}, "The old owl sat."),
        ("I think... {a:a}!", {"a": Filled("owl", "animal")}, "I think... an owl!"),
        ("It was {a}.", {}, "It was something wonderful."),
    ],
)
def test_realise(template: str, values: dict[str, Filled], expected: str) -> None:
    assert realise(template, values) == expected


@pytest.mark.parametrize(
    ("kind", "heard", "value", "expected"),
    [
        ("sound", "it was a soft hum", "soft hum", "hum"),
        ("sound", "ding dong", "ding dong", "ding dong"),
        ("place", "under the sea", "under the sea", "place under the sea"),
        ("place", "to the moon", "to the moon", "moon"),
        ("free", "zog", "zog", "Zog"),
        ("free", "a little fox", "little fox", "little fox"),
        ("free", "dragon", "dragon", "dragon"),
        ("free", "me!", "me", "Mila"),
        ("name", "ellie may", "ellie may", "Ellie May"),
    ],
)
def test_settle(kind: str, heard: str, value: str, expected: str) -> None:
    assert settle(kind, heard, value, "Mila") == expected


def test_loader_refuses_a_template_that_cannot_take_an_answer() -> None:
    text = (ROOT / "stories" / "s004-ava-and-the-shy-shadow.toml").read_text()
    broken = text.replace(
        "In its place sat a small {shadow_animal}.", "In its place sat {shadow_animal}."
    )
    assert broken != text
    with pytest.raises(StoryFileError) as err:
        parse_story(
            broken, "stories/s004-ava-and-the-shy-shadow.toml", "s004-ava-and-the-shy-shadow"
        )
    [problem] = err.value.problems
    line = broken[: broken.index("In its place sat {shadow_animal}.")].count("\n") + 1
    assert problem.startswith("stories/s004-ava-and-the-shy-shadow.toml:")
    assert "{shadow_animal} is an animal answer with no article before it" in problem
    assert abs(int(problem.split(":")[1]) - line) <= 3


def test_pointing_at_an_option() -> None:
    story = next(s for s in load_library(ROOT / "stories", log=False)[0] if "pillow-maze" in s.id)
    choose = next(s for s in story.steps if isinstance(s, Choose))
    labels = [o.label for o in choose.options]
    assert pick_option(choose, "the second one") == 1
    assert pick_option(choose, "number three") == 2
    assert pick_option(choose, "the first one") == 0
    last_word = labels[2].split()[-1]
    assert pick_option(choose, f"the {last_word} one") == 2


def test_the_second_one_is_no_thing() -> None:
    story = next(
        s
        for s in load_library(ROOT / "stories", log=False)[0]
        if any(isinstance(x, Ask) and x.kind == "object" for x in s.steps)
    )
    teller = Storyteller(story, ("Mila",), rng=random.Random(0))
    while True:
        segment = teller.advance()
        assert segment.question is not None
        if segment.question.kind == "object":
            break
        teller.answer("blue" if segment.question.kind == "colour" else "um, the first one")
    lines, again = teller.answer("the second one")
    assert again and lines and "second one" not in " ".join(lines)
