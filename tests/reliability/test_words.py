"""Rude words in every spelling: never spoken, never stored; ordinary words left alone.

Each variant of each word in data/rude_words.txt (leetspeak, stretched, spaced, dotted, mixed
case, suffixed, compound) goes through the real host as a child's recognized answer — in a told
story, a shared night and a freeform night — and into story files. What the companion said and
every byte of its database are then searched for it, with a checker independent of the filter.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from companion.config import Config, parse_config
from companion.dialog.intents import classify
from companion.host import Host, tell_text
from companion.messages import Reply, Transcript
from companion.routine.plan import night_plan
from companion.state.store import Store
from companion.storytelling.format import KINDS, StoryFileError, load_library, parse_story
from companion.storytelling.safety import WordSafety, answer_for
from tests.conftest import SHORT_STORY, daytime

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
FRIDAY = date(2026, 11, 20)
CONFIG = {
    "timezone": "Europe/London",
    "family": {"children": [{"name": "Mila", "age": 6}, {"name": "Leo", "age": 4}]},
    "bedtime": {"friday": "19:30"},
    "routine": {"reminders": ["pyjamas on"]},
}
COMPOUNDS = (
    "bullshit horseshit dumbass jackass smartass badass fatass shitface fuckface fuckwit "
    "asswipe dickwad poopyhead buttface butthead fartface cocksucker motherfucker shitbag "
    "scumbag dipshit batshit apeshit bitchass assbag"
).split()
# How a child might say it: alone, or inside an answer.
TEMPLATES = ("{}", "a {}", "it was {}", "the {} one", "{} door", "i think {}")
_TEST_LEET = str.maketrans({"0": "o", "1": "i", "!": "i", "3": "e", "4": "a", "@": "a"})
_TEST_LEET_S = str.maketrans({"5": "s", "$": "s", "|": "i", "7": "t", "+": "t"})


def check_fold(text: str) -> str:
    """The checker's own folding (independent of the product): lower case, leet undone."""
    return re.sub(r"[^a-z]", "", text.lower().translate(_TEST_LEET).translate(_TEST_LEET_S))


def words(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [w.strip() for w in lines if w.strip() and not w.startswith("#")]


def _suffixed(word: str) -> list[str]:
    """Plural, -ing and -er as English spells them ("shitting", "bitches", "hornier")."""
    if word.endswith("y"):
        return [word[:-1] + "ies", word[:-1] + "ier", word + "ing"]
    plural = word + ("es" if word.endswith(("s", "sh", "ch", "x", "z")) else "s")
    stem = word[:-1] if word.endswith("e") else word
    vowels = "aeiou"
    short = len(word) <= 4 and word[-1] not in vowels + "wxy" and word[-2] in vowels
    stem = stem + stem[-1] if short and word[-3] not in vowels else stem
    return [plural, stem + "ing", stem + "er"]


def _spellings(form: str) -> Iterator[str]:
    yield form
    yield form.upper()
    yield form.capitalize()
    yield "".join(c.upper() if i % 2 else c for i, c in enumerate(form))
    full = form.translate(str.maketrans({"i": "1", "e": "3", "a": "4", "o": "0", "s": "5"}))
    yield full
    yield form.translate(str.maketrans({"s": "$", "a": "@", "i": "!"}))
    for plain, leet in (("i", "1"), ("e", "3"), ("a", "4"), ("o", "0"), ("s", "5"), ("s", "$")):
        if plain in form:
            yield form.replace(plain, leet, 1)
    vowel = next((i for i, c in enumerate(form) if c in "aeiou"), None)
    if vowel is not None:
        yield form[: vowel + 1] + form[vowel] * 3 + form[vowel + 1 :]
    yield form + form[-1] * 3


def variants(base: str) -> list[str]:
    """Every spelling of a rude word the tests try."""
    out: list[str] = []
    for form in [base, *_suffixed(base), base + "head", base + "face"]:
        out += _spellings(form)
    for form in (base, _suffixed(base)[0]):
        out += [" ".join(form), ".".join(form), "-".join(form), " ".join(form).upper()]
    return list(dict.fromkeys(out))


def all_variants() -> tuple[list[tuple[str, str]], list[str]]:
    """(variant, base word) for every rude word and compound; and the variants left out
    because they spell an ordinary word ("butt" + "er" is "butter")."""
    pairs = [(v, base) for base in words("rude_words.txt") for v in variants(base)]
    pairs += [(v, word) for word in COMPOUNDS for v in _spellings(word)]
    ordinary = {w.lower() for w in words("children_words.txt")} - set(words("rude_words.txt"))
    out = [(v, base) for v, base in dict.fromkeys(pairs) if check_fold(v) not in ordinary]
    return out, sorted({check_fold(v) for v, _ in pairs if check_fold(v) in ordinary})


VARIANTS, ORDINARY_VARIANTS = all_variants()


class Said:
    """Everything the companion said, searchable for a variant."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, reply: Reply | None) -> None:
        if reply is not None:
            self.lines += [line if isinstance(line, str) else line.text for line in reply.lines]

    def leaks(self, pairs: list[tuple[str, str]]) -> list[str]:
        return leaks("\n".join(self.lines), pairs)


def leaks(text: str, pairs: list[tuple[str, str]]) -> list[str]:
    """Variants found in text: as written, or folded into one of its words."""
    low = text.lower()
    written = set(low.split())
    folded = {check_fold(w) for w in re.split(r"[\s,.;:?\"()]+", low)}
    found = []
    for variant, base in pairs:
        if " " in variant or "." in variant or "-" in variant:
            pattern = rf"(?<![a-z0-9]){re.escape(variant.lower())}(?![a-z0-9])"
            hit = variant.lower() in low and re.search(pattern, low) is not None
        else:
            hit = variant.lower() in written
        if hit or check_fold(variant) in folded or base in folded:
            found.append(variant)
    return found


def in_bytes(blob: bytes, pairs: list[tuple[str, str]]) -> list[str]:
    """Variants in raw database bytes: as written, or as the plain word. Words count when text
    comes before them (a space, quote or bracket): binary numbers, and fragments of story words
    in freed space (the end of "glasses"), are not words."""
    low = blob.lower()
    letters = set(re.findall(rb"[ \"'\[(,]([a-z]+)", low))
    written = set(re.findall(rb"[ \"'\[(,]([a-z0-9@$!|+]+)", low))
    found = []
    for variant, base in pairs:
        raw = variant.lower().encode()
        if b" " in raw or b"." in raw or b"-" in raw:
            pattern = rb"(?<![a-z0-9])" + re.escape(raw) + rb"(?![a-z0-9])"
            hit = raw in low and re.search(pattern, low) is not None
        else:
            hit = raw in written
        if hit or check_fold(variant).encode() in letters or base.encode() in letters:
            found.append(variant)
    return found


def stored(folder: Path, store: Store, pairs: list[tuple[str, str]]) -> list[str]:
    """Variants found in the journal and progress rows, or anywhere in the database files."""
    rows = [e.text + repr(e.exchanges) + e.title for e in store.journal()]
    rows += [repr(store.load_progress(s)) for s in store.unfinished()]
    store.close()
    raw = b"\n".join(p.read_bytes() for p in sorted(folder.iterdir()) if ".db" in p.name)
    return sorted(set(leaks("\n".join(rows), pairs)) | set(in_bytes(raw, pairs)))


def answer(i: int, variant: str) -> str:
    return TEMPLATES[i % len(TEMPLATES)].format(variant)


def respond(host: Host, text: str) -> Reply:
    transcript = Transcript(text, 0.9, "pocketsphinx")
    return host.respond(classify(transcript), transcript)


@pytest.fixture(scope="module")
def library():
    stories, problems = load_library(ROOT / "stories")
    assert not problems
    return stories


def test_the_checkers_find_a_planted_word() -> None:
    assert leaks("Ooh, Sh1t. I like that.", VARIANTS)
    assert leaks("A s h i t door.", VARIANTS)
    assert in_bytes(b'\x00\x03["Mila", "shiiiit"]', VARIANTS)
    assert in_bytes(b'\x00\x03["Mila", "poo"]', VARIANTS)
    assert not leaks("The glasses passed the class.", VARIANTS)
    assert not in_bytes(b"\x00\x00asses. There was only the wind", VARIANTS)


def test_every_variant_is_refused(figure: Callable[[str, object], None]) -> None:
    safety = WordSafety()
    passed = [v for v, _ in VARIANTS if safety.is_safe(v)]
    kept = [(kind, v) for v, _ in VARIANTS[::7] for kind in KINDS if answer_for(kind, v, safety)]
    figure(
        "rude variants refused by the word filter",
        f"{len(VARIANTS) - len(passed)} of "
        f"{len(VARIANTS)} (from {len(words('rude_words.txt'))} base words; left out as "
        f"ordinary words: {', '.join(ORDINARY_VARIANTS)})",
    )
    assert not passed, passed[:20]
    assert not kept, kept[:20]


def test_ordinary_words_are_not_blocked(figure: Callable[[str, object], None]) -> None:
    safety = WordSafety()
    ordinary = words("children_words.txt")
    blocked = [w for w in ordinary if not safety.is_safe(w)]
    in_sentences = [w for w in ordinary if not safety.is_safe(f"I think the {w} was there.")]
    share = len(blocked) / len(ordinary)
    figure(
        "false positives on ordinary children's words",
        f"{len(blocked)} of {len(ordinary)} ({share:.2%}): {', '.join(blocked) or 'none'}",
    )
    assert len(ordinary) >= 1000
    assert share < 0.01, blocked
    assert set(in_sentences) == set(blocked)
    assert {"class", "grass", "Scunthorpe", "shitake", "cocktail", "peacock"} <= set(ordinary)


def test_every_story_line_may_be_said(library, figure: Callable[[str, object], None]) -> None:
    config = Config()
    host = Host(config, library, None)
    figure("stories told (none blocked by the filter)", f"{len(host.stories)} of {len(library)}")
    assert len(host.stories) == len(library)


def told_story(host: Host, story, feed: Iterator[str], said: Said) -> None:
    out = io.StringIO()
    tell_text(host, story, lambda: next(feed, None), out)
    said.lines += out.getvalue().splitlines()


def test_rude_answers_in_told_stories(
    library, tmp_path: Path, figure: Callable[[str, object], None]
) -> None:
    store = Store(tmp_path / "told.db")
    host = Host(parse_config(CONFIG), library, store, random.Random(1), clock=daytime)
    said = Said()
    texts = [answer(i, v) for i, (v, _) in enumerate(VARIANTS)]
    feed = iter(texts)
    stories = 0
    text: str | None = ""
    while True:
        before = len(said.lines)
        story = library[stories % len(library)]
        reply = host.start_story(story)
        said.add(reply)
        while reply.expect is not None:
            text = next(feed, None)
            if text is None:
                break
            reply = respond(host, text)
            said.add(reply)
        stories += 1
        if text is None or len(said.lines) == before:
            break
    spoken = said.leaks(VARIANTS)
    kept = stored(tmp_path, store, VARIANTS)
    figure(
        "told stories: rude answers spoken / stored",
        f"{len(spoken)} / {len(kept)} of {len(texts)} answers over {stories} stories",
    )
    assert "gentle and kind" in "\n".join(said.lines)
    assert not spoken, spoken[:20]
    assert not kept, kept[:20]


def run_night(host: Host, mode: str, feed: Iterator[str], said: Said) -> bool:
    """One rehearsed night, every answer taken from feed; False when the feed ran out."""
    plan = night_plan(host.config, FRIDAY, mode)
    assert plan is not None
    host.post_night(plan, rehearsal=True)
    reply = host.tick()
    for _ in range(500):
        said.add(reply)
        if reply is not None and reply.expect is not None:
            text = next(feed, None)
            if text is None:
                return False
            reply = respond(host, text)
            continue
        if host.night is None:
            return True
        reply = host.tick()
    raise AssertionError("the night did not end")


@pytest.mark.parametrize("mode", ["shared", "freeform"])
def test_rude_answers_in_whole_nights(
    mode: str, library, tmp_path: Path, figure: Callable[[str, object], None]
) -> None:
    store = Store(tmp_path / f"{mode}.db")
    host = Host(parse_config(CONFIG), library, store, random.Random(2), clock=daytime)
    said = Said()
    texts = [answer(i, v) for i, (v, _) in enumerate(VARIANTS)]
    feed = iter(texts)
    nights = 0
    while run_night(host, mode, feed, said):
        nights += 1
    spoken = said.leaks(VARIANTS)
    entries = store.journal()
    kept = stored(tmp_path, store, VARIANTS)
    figure(
        f"{mode} nights: rude answers spoken / stored",
        f"{len(spoken)} / {len(kept)} of {len(texts)} answers over {nights} nights "
        f"({len(entries)} journal entries)",
    )
    assert nights >= 50 and len(entries) >= nights
    assert not spoken, spoken[:20]
    assert not kept, kept[:20]


PLACES = (
    ('title = "The Owl and the Door"', 'title = "The {} and the Door"'),
    ('say = "Mila found a little door in her dream."', 'say = "Mila found a {} in her dream."'),
    ('ask = "What colour was the door?"', 'ask = "What colour was the {}?"'),
    ('reply = "A {door_colour} door."', 'reply = "A {door_colour} {}."'),
    ('defaults = ["silver"]', 'defaults = ["{}"]'),
    ('label = "fly"', 'label = "{}"'),
    ('say = "They flew over the hills."', 'say = "They flew over the {}."'),
    ('Goodnight."', '{}. Goodnight."'),
)


def test_rude_words_in_story_files(tmp_path: Path, figure: Callable[[str, object], None]) -> None:
    """A story file with a rude word anywhere is refused at load or not told."""
    config = parse_config(CONFIG)
    said = Said()
    rejected = dropped = 0
    for i, (variant, _) in enumerate(VARIANTS):
        plain, placed = PLACES[i % len(PLACES)]
        text = SHORT_STORY.replace(plain, placed.replace("{}", variant), 1)
        assert text != SHORT_STORY
        try:
            story = parse_story(text, "stories/owl-and-the-door.toml")
        except StoryFileError:
            rejected += 1
            continue
        store = Store(tmp_path / "file.db")
        host = Host(config, [story], store, random.Random(i), clock=daytime)
        dropped += story.id not in host.stories
        told_story(host, story, iter(["purple", "owl", "first", "happy"]), said)
        reply = respond(host, "tell me a story")
        said.add(reply)
        store.close()
    spoken = said.leaks(VARIANTS)
    kept = stored(tmp_path, Store(tmp_path / "file.db"), VARIANTS)
    figure(
        "story files with a rude word: refused at load / not told / spoken / stored",
        f"{rejected} / {dropped} / {len(spoken)} / {len(kept)} of {len(VARIANTS)} files",
    )
    assert rejected + dropped == len(VARIANTS)
    assert not spoken, spoken[:20]
    assert not kept, kept[:20]
