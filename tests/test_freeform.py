"""Freeform nights: real plot shapes a child leads, never the same shape twice in a week."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from companion.config import parse_config
from companion.host import Host
from companion.messages import Intent, Line, Reply, Transcript
from companion.routine.plan import night_plan
from companion.state.store import Store
from companion.storytelling.format import Ask, Say, placeholders
from companion.storytelling.freeform import (
    INVITES,
    SETTLING,
    SHAPES,
    SPACING,
    Shape,
    compose,
    freeform_story,
    pick_shape,
    shape_of,
    shape_story,
)
from companion.storytelling.realise import template_problems
from companion.storytelling.safety import WordSafety, answer_for
from tests.conftest import daytime
from tests.test_realise import ANSWER_NAMES, AWKWARD, glitches, tell

CONFIG = {
    "timezone": "Europe/London",
    "family": {"children": [{"name": "Mila", "age": 6}]},
    "bedtime": {"friday": "19:30"},
}
FRIDAY = date(2026, 11, 20)
NAMES = {"Mila", "Pip", "Ember", "Whiskers", "Ziggy", *ANSWER_NAMES}

# What a child might say, by slot where the question wants a particular shape of answer
# (a whole sentence, somewhere to be), else by the answer's kind.
BY_SLOT: dict[str, tuple[str, ...]] = {
    "hero": (
        "a little fox",
        "a girl called Pip",
        "an old owl who loves cocoa",
        "zog",
        "me",
        "a dragon called Ember",
        "my cat Whiskers",
    ),
    "last": (
        "they all had cocoa and went to sleep",
        "everyone sang a quiet song",
        "they waved goodnight to the moon",
    ),
    "hiding": ("under the bed", "in the toy box", "behind the big blue sofa"),
    "spot": ("on the top shelf", "next to the bed", "under the pillow"),
    "dream": ("flying with dragons", "jumping in puddles", "a picnic on the moon"),
}
BY_KIND: dict[str, tuple[str, ...]] = {
    "free": (
        "a sleepy hedgehog",
        "an elephant",
        "Ziggy",
        "a tiny robot who loves jam",
        "some fireflies",
    ),
    "place": ("the moon", "under the sea", "an island", "space", "to the old oak tree"),
    "object": ("my teddy bear", "an umbrella", "some bubbles", "a shiny key", "a music box"),
    "sound": ("a soft hum", "whoosh", "ding dong", "an echo", "pitter patter"),
}


def _text(reply: Reply) -> list[str]:
    return [line.text if isinstance(line, Line) else line for line in reply.lines]


def _answer(host: Host, reply: Reply, turn: int) -> tuple[list[str], dict[str, str]]:
    """Answer every question of the story under way; what was said, and the answers kept."""
    session = host.session
    assert session is not None
    said = _text(reply)
    count = itertools.count(turn)
    while reply.expect is not None:
        step = session.teller.story.steps[session.teller.progress.step]
        assert isinstance(step, Ask)
        pool = BY_SLOT.get(step.slot) or BY_KIND[step.kind]
        reply = host.respond(Intent("none", 0), Transcript(pool[next(count) % len(pool)], 1, "t"))
        said += _text(reply)
    assert session.finished
    return said, dict(session.teller.progress.slots)


def _night(host: Host) -> Reply:
    """A whole freeform night up to its story: the routine's steps, then the story begins."""
    plan = night_plan(host.config, FRIDAY, "freeform")
    assert plan is not None
    host.post_night(plan, rehearsal=True)
    for _ in range(10):
        reply = host.tick()
        if host.session is not None:
            assert reply is not None
            return reply
    raise AssertionError("the night never reached its story")


def _finish_night(host: Host) -> None:
    for _ in range(10):
        if host.night is None:
            return
        host.tick()
    raise AssertionError("the night did not end")


def test_a_month_of_freeform_nights(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    shapes: list[str] = []
    for night in range(30):
        # a new day: what was told lately is known from the journal alone
        host = Host(parse_config(CONFIG), [], store, random.Random(night), clock=daytime)
        if night % 2:  # asked for by name ("let's make up a story") ...
            reply = host.respond(Intent("night.freeform", 1), Transcript("", 1, "t"))
        else:  # ... or tonight's plan is a freeform night
            reply = _night(host)
        said, answers = _answer(host, reply, night)
        _finish_night(host)
        entry = store.journal()[-1]
        shape = shape_of(entry.story_id)
        assert shape is not None and entry.mode == "freeform", entry.story_id
        shapes.append(shape)
        text = entry.text
        for slot, answer in answers.items():
            assert answer.lower() in text.lower(), (shape, slot, answer)
        assert "{" not in text and "}" not in text, shape
        problems = glitches(text + "\n" + "\n".join(said), NAMES)
        assert not problems, (shape, problems)
    for week in range(len(shapes) - SPACING + 1):
        told = shapes[week : week + SPACING]
        assert len(set(told)) == SPACING, (week, told)
    assert set(shapes) == {s.name for s in SHAPES}


def test_the_host_knows_which_shapes_were_told_lately(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    told = [s.name for s in SHAPES[: SPACING - 1]]
    store.finish_story("freeform-00000001", "Our Own Story", "freeform", [], "an older kind")
    for i, name in enumerate(reversed(told)):
        store.finish_story(f"freeform-{name}-{i:08d}", "Our Own Story", "freeform", [], "...")
        store.finish_story(f"s00{i}-a-told-story", "A Story", "shared", [], "...")
    for seed in range(12):
        host = Host(parse_config(CONFIG), [], store, random.Random(seed), clock=daytime)
        assert host.recent_shapes()[: SPACING - 1] == tuple(told)
        _night(host)
        assert host.session is not None
        assert shape_of(host.session.teller.story.id) not in told


def test_resuming_a_freeform_story_gives_the_same_shape_and_text(tmp_path: Path) -> None:
    whole = Host(parse_config(CONFIG), [], Store(tmp_path / "a.db"), random.Random(5))
    reply = whole.start_made_up("freeform")
    story = whole.session.teller.story  # type: ignore[union-attr]
    _answer(whole, reply, 0)
    expected = whole.store.journal()[-1].text  # type: ignore[union-attr]

    store = Store(tmp_path / "b.db")
    first = Host(parse_config(CONFIG), [], store, random.Random(5))
    reply = first.start_made_up("freeform")
    for answer in ("a little fox", BY_KIND["place"][1]):
        reply = first.respond(Intent("none", 0), Transcript(answer, 1, "t"))
    assert reply.expect is not None
    first.respond(Intent("none", 0), Transcript("stop", 1, "t"))
    assert store.unfinished() == [story.id]

    later = Host(parse_config(CONFIG), [], store, random.Random(99))
    reply = later.start_made_up("freeform")
    assert later.session is not None and later.session.teller.story == story
    assert _text(reply)[0].startswith("Last time, in Our Own Story:")
    _answer(later, reply, 2)
    entry = store.journal()[-1]
    assert entry.story_id == story.id and shape_of(entry.story_id) == shape_of(story.id)
    assert entry.text == expected


def _kinds(shape: Shape) -> dict[str, str]:
    kinds = {"listener": "listener"}
    for act in shape.acts:
        kinds |= {b.ask.slot: b.ask.kind for b in act if b.ask is not None}
    return kinds


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_every_template_reads_right_with_any_answer(shape: Shape) -> None:
    """Every line passes the realiser's checks, uses only answers already given (in any
    order its act may take), and every default is a gentle answer of its kind."""
    kinds = _kinds(shape)
    safety = WordSafety()
    asked = {"listener"}
    texts: list[tuple[str, set[str]]] = []
    for act in shape.acts:
        for beat in act:
            own = {beat.ask.slot} if beat.ask is not None else set()
            if beat.ask is not None:
                assert len(beat.ask.wordings) >= 3, beat.ask.slot
                texts += [(w, asked) for w in beat.ask.wordings]
                texts += [(r, asked | own) for r in beat.ask.replies]
                for default in beat.ask.defaults:
                    assert answer_for(beat.ask.kind, default, safety) is not None, default
            texts += [(p, asked | own) for told in beat.tellings for p in told]
            texts.append((beat.recap, asked | own))
        asked = asked | {b.ask.slot for b in act if b.ask is not None}
    texts += [(e, asked) for e in shape.endings]
    texts += [(p, {"listener"}) for p in (*INVITES, *itertools.chain(*SETTLING))]
    for text, known in texts:
        assert template_problems(text, kinds) == [], text
        assert set(placeholders(text)) <= known, text
        assert safety.is_safe(text), text
        assert "Goodnight, {hero" not in text and "snuggle down" not in text.lower(), text


def test_the_shapes_are_whole_plots() -> None:
    names = [s.name for s in SHAPES]
    assert len(set(names)) == len(names) >= SPACING
    for needed in ("journey", "lost", "helping", "wish", "mystery", "creature"):
        assert needed in names
    closings: Counter[str] = Counter()
    for shape in SHAPES:
        questions = [b.ask for act in shape.acts for b in act if b.ask is not None]
        assert 4 <= len(questions) <= 6, shape.name
        assert questions[0].slot == "hero", shape.name
        assert 0 < shape.calm_from <= len(shape.acts), shape.name
        assert len(shape.endings) >= 2 and all("Goodnight" in e for e in shape.endings)
        closings.update(e.rsplit(". ", 1)[-1] for e in shape.endings)
    assert max(closings.values()) <= 2, closings.most_common(3)  # no one way to say goodnight


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_resolved_by_about_sixty_percent_then_calm(shape: Shape) -> None:
    for seed in range(12):
        steps, calm = compose(shape, random.Random(seed))
        story = shape_story(shape, random.Random(seed))
        assert story.steps == steps
        text, said = tell(story, AWKWARD, seed)
        problems = glitches(text + "\n" + "\n".join(said), NAMES)
        assert not problems, (shape.name, seed, problems)
        paragraphs = text.split("\n\n")
        before = sum(len(s.paragraphs) for s in steps[:calm] if isinstance(s, Say))
        share = sum(map(len, paragraphs[:before])) / sum(map(len, paragraphs))
        assert 0.45 <= share <= 0.67, (shape.name, seed, round(share, 2))


def test_order_and_wording_vary_from_night_to_night() -> None:
    tellings = [freeform_story(random.Random(seed), "Mila") for seed in range(60)]
    by_shape: dict[str | None, list[tuple[str, ...]]] = {}
    for story in tellings:
        asked = tuple(s.question for s in story.steps if isinstance(s, Ask))
        by_shape.setdefault(shape_of(story.id), []).append(asked)
    assert len(by_shape) == len(SHAPES)
    for shape in SHAPES:
        questions = by_shape[shape.name]
        assert len(set(questions)) > 1, shape.name
        reordered = any(len(act) > 1 for act in shape.acts)
        if reordered:  # the same shape asks its questions in more than one order
            stories = [shape_story(shape, random.Random(seed)) for seed in range(20)]
            orders = {tuple(s.slot for s in st.steps if isinstance(s, Ask)) for st in stories}
            assert len(orders) > 1, shape.name


def test_picking_a_shape() -> None:
    names = [s.name for s in SHAPES]
    recent = names[:6]
    for seed in range(20):
        assert pick_shape(random.Random(seed), recent).name in names[6:]
    assert shape_of("freeform-wish-01234567") == "wish"
    assert shape_of("freeform-01234567") is None  # told before shapes had names
    assert shape_of("s000-mila-and-the-secret-dream-door") is None
    assert shape_of("freeform-nosuchshape-01234567") is None
