"""Which story: one asked for by name, an unfinished one, one not told lately, or one made up."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping
from typing import Final

from companion.speech.grammar import words
from companion.state.store import Store
from companion.storytelling.bad_dream import bad_dream_story
from companion.storytelling.format import Story
from companion.storytelling.freeform import freeform_story, shape_of

FRESH_NIGHTS: Final = 10
"""No story is told again within this many story nights (when the library has as many)."""
RECENT_ENTRIES: Final = 200
_NOT_A_TOPIC: Final = frozenset(
    """
    a an the and of to in on at with about story stories one ones tell me us read have has can
    could would will may i i'm we you want like please hear that this it its it's is was be
    called named where who which some my your our his her their again another new bedtime time
    night tonight luma hey let's do does did for from what what's um uh er so
    """.split()
)
"""Words that ask for a story but say nothing about which one."""


def choose_story(
    stories: Mapping[str, Story], store: Store | None, rng: random.Random, youngest: int
) -> Story | None:
    """An unfinished story first; else one that suits the youngest and was not told lately."""
    if not stories:
        return None
    if store:
        for story_id in store.unfinished():
            if story_id in stories:
                return stories[story_id]
    fits = [s for s in stories.values() if s.ages[0] <= youngest <= s.ages[1]]
    pool = fits if len(fits) >= FRESH_NIGHTS else list(stories.values())
    told = store.recent_stories(RECENT_ENTRIES) if store else []
    ago: dict[str, int] = {}
    for story_id in (s for s in told if s in stories):  # made-up nights do not count
        ago.setdefault(story_id, len(ago))
    never = [s for s in pool if s.id not in ago]
    if never:
        return rng.choice(never)
    return max(pool, key=lambda s: ago[s.id])  # the one told longest ago


def topic_words(text: str, ignore: frozenset[str] = frozenset()) -> set[str]:
    """The words of a request that say which story (not "tell", "story", "please"…)."""
    return {_stem(w) for w in words(text) if len(w) > 1 and w not in _NOT_A_TOPIC} - ignore


def find_story(
    text: str,
    stories: Mapping[str, Story],
    store: Store | None,
    rng: random.Random,
    ignore: frozenset[str] = frozenset(),
) -> Story | None:
    """The story whose title, id or characters best fit the words asked for ("the one
    about the pillow maze", "the lantern story"); None when none does.

    Rarer words count for more; ties go to an unfinished story, then to chance.
    """
    asked = topic_words(text, frozenset(_stem(w) for w in ignore))
    if not asked or not stories:
        return None
    known: dict[str, tuple[set[str], set[str]]] = {}
    for story in stories.values():
        title = {_stem(w) for w in (*words(story.title), *story.id.split("-")) if len(w) > 1}
        people = {_stem(w) for name in story.characters for w in words(name) if len(w) > 1}
        known[story.id] = (title - _NOT_A_TOPIC, people - _NOT_A_TOPIC)
    spread = Counter(w for title, people in known.values() for w in title | people)
    scores: dict[str, float] = {}
    for story_id, (title, people) in known.items():
        score = sum(
            (1.0 if w in title else 0.7 if w in people else 0.0) / spread[w]
            for w in asked
            if spread[w]
        )
        if score > 0:
            scores[story_id] = score
    if not scores:
        return None
    top = max(scores.values())
    best = sorted(k for k, v in scores.items() if v >= top - 1e-9)
    unfinished = set(store.unfinished()) if store else set()
    return stories[next((k for k in best if k in unfinished), None) or rng.choice(best)]


def made_up_story(kind: str, store: Store | None, rng: random.Random, listener: str) -> Story:
    """A story to make up together: "freeform" (carried on if one was left unfinished, else of
    a shape not told lately) or "bad-dream"."""
    if kind == "freeform":
        return resume_generated(store, "freeform") or freeform_story(
            rng, listener, recent_shapes(store)
        )
    story = bad_dream_story(rng, listener)
    if store is not None:  # each bad dream is heard afresh, never "last time…"
        store.forget_progress(story.id)
    return story


def recent_shapes(store: Store | None) -> tuple[str, ...]:
    """The plot shapes of the latest finished freeform stories, newest first (their ids
    name them)."""
    told = store.recent_stories(RECENT_ENTRIES) if store else []
    return tuple(shape for shape in map(shape_of, told) if shape)


def resume_generated(store: Store | None, kind: str) -> Story | None:
    """The unfinished made-up story of `kind` ("freeform"), as it was saved."""
    if not store:
        return None
    from companion.storytelling.storage import story_from_json

    for story_id in store.unfinished():
        saved = store.load_progress(story_id) or {}
        if story_id.startswith(kind) and saved.get("generated"):
            return story_from_json(saved["generated"])
    return None


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word
