"""Story files (TOML, `format = 1` or `2`): loading and validation with `file:line:` errors."""

from __future__ import annotations

import logging
import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from companion.storytelling.lexicon import ATTRIBUTES
from companion.storytelling.realise import template_problems
from companion.storytelling.safety import WordSafety, answer_for

logger = logging.getLogger(__name__)
_SAFE: Final = WordSafety()

FORMAT_VERSION: Final = 2
FORMATS: Final = (1, 2)
"""Format 2 adds `[[step.when]]`: a passage or reply that varies with an answer."""
KINDS: Final = ("colour", "animal", "name", "place", "object", "sound", "feeling", "free")
MAX_FILE_BYTES: Final = 256 * 1024
_ID: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
_SLOT: Final = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SEED: Final = re.compile(r"^[A-Za-z0-9_.-]{0,80}$")
_TOP_KEYS: Final = {
    "format",
    "id",
    "title",
    "seed",
    "ages",
    "minutes",
    "characters",
    "step",
    "ending",
}
_STEP_KEYS: Final = {
    "say",
    "recap",
    "ask",
    "slot",
    "kind",
    "defaults",
    "reply",
    "choose",
    "option",
    "when",
    "if",
}
_OPTION_KEYS: Final = {"label", "words", "say"}
LISTENER: Final = "listener"


@dataclass(frozen=True, slots=True)
class Variant:
    """Text told instead of a step's own when an earlier answer fits: its slot's value `is`
    a word or option, or the answer has these lexicon attributes (`moves = "flies"`)."""

    slot: str
    tests: tuple[tuple[str, str], ...]
    text: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Say:
    """Narration: paragraphs told in order (or a variant's, the first that fits)."""

    paragraphs: tuple[str, ...]
    recap: str = ""
    variants: tuple[Variant, ...] = ()
    only: Variant | None = None
    """Told only when this answer fits (`[step.if]`): a path a choice opened."""


@dataclass(frozen=True, slots=True)
class Ask:
    """A question whose answer fills `slot`."""

    question: str
    slot: str
    kind: str
    defaults: tuple[str, ...]
    reply: str = ""
    variants: tuple[Variant, ...] = ()
    """Replies that fit some answers better ("sad": comfort instead of cheer)."""
    only: Variant | None = None


@dataclass(frozen=True, slots=True)
class Option:
    label: str
    words: tuple[str, ...]
    paragraphs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Choose:
    """A question with 2 or 3 options, each with its own passage."""

    question: str
    options: tuple[Option, ...]
    slot: str = ""
    only: Variant | None = None
    fallback: int | None = None
    """The option taken when nobody chooses (None: one by chance)."""


Step = Say | Ask | Choose


@dataclass(frozen=True, slots=True)
class Story:
    """One validated story."""

    id: str
    title: str
    seed: str
    ages: tuple[int, int]
    minutes: int
    characters: tuple[str, ...]
    steps: tuple[Step, ...]
    ending: tuple[str, ...]
    path: str = ""

    @property
    def slot_kinds(self) -> dict[str, str]:
        """Each slot's kind of answer ("choice" for a chosen option's label)."""
        kinds: dict[str, str] = {}
        for step in self.steps:
            if isinstance(step, Ask):
                kinds[step.slot] = step.kind
            elif isinstance(step, Choose) and step.slot:
                kinds[step.slot] = "choice"
        return kinds

    @property
    def ask_points(self) -> int:
        return sum(isinstance(s, Ask) for s in self.steps)

    @property
    def choice_points(self) -> int:
        return sum(isinstance(s, Choose) for s in self.steps)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "seed": self.seed,
            "ages": list(self.ages),
            "minutes": self.minutes,
            "ask_points": self.ask_points,
            "choice_points": self.choice_points,
        }


class StoryFileError(Exception):
    """Every mistake in one story file, each as `path:line: problem`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def paragraphs(text: str) -> tuple[str, ...]:
    """Paragraphs separated by blank lines, each folded onto one line."""
    parts = re.split(r"\n\s*\n", text.strip())
    return tuple(" ".join(p.split()) for p in parts if p.strip())


def shorten(text: str, limit: int = 40) -> str:
    """Text cut to `limit` characters for an error line."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def valid_id(text: str) -> bool:
    """Whether `text` can be a story id (and so a file name in the stories folder)."""
    return bool(_ID.match(text))


def placeholders(text: str) -> list[str]:
    """The `{names}` a text refers to."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


class _Lines:
    """Line numbers of tables and keys in a TOML text (tomllib does not keep them)."""

    def __init__(self, text: str) -> None:
        self.tables: dict[tuple[Any, ...], int] = {(): 1}
        self.keys: dict[tuple[Any, ...], int] = {}
        table: tuple[Any, ...] = ()
        steps = options = whens = -1
        in_string = False
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if not in_string:
                if stripped == "[[step]]":
                    steps += 1
                    options = whens = -1
                    table = ("step", steps)
                    self.tables[table] = number
                elif stripped == "[[step.option]]":
                    options += 1
                    table = ("step", steps, "option", options)
                    self.tables[table] = number
                elif stripped == "[step.if]":
                    table = ("step", steps, "if")
                    self.tables[table] = number
                elif stripped == "[[step.when]]":
                    whens += 1
                    table = ("step", steps, "when", whens)
                    self.tables[table] = number
                elif stripped == "[ending]":
                    table = ("ending",)
                    self.tables[table] = number
                else:
                    match = re.match(r"^([A-Za-z0-9_]+)\s*=", stripped)
                    if match:
                        self.keys.setdefault((*table, match[1]), number)
            if line.count('"""') % 2 == 1:
                in_string = not in_string

    def at(self, *path: Any) -> int:
        if path in self.keys:
            return self.keys[path]
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.tables:
                return self.tables[path[:cut]]
        return 1


class _Checker:
    def __init__(self, where: str, lines: _Lines) -> None:
        self.where = where
        self.lines = lines
        self.problems: list[str] = []

    def bad(self, path: tuple[Any, ...], text: str) -> None:
        self.problems.append(f"{self.where}:{self.lines.at(*path)}: {text}")

    def text(
        self, table: dict[str, Any], path: tuple[Any, ...], key: str, required: bool = True
    ) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.bad(path, f"'{key}' is missing")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.bad((*path, key), f"'{key}' must be non-empty text")
            return ""
        if "\x00" in value:
            self.bad((*path, key), f"'{key}' contains a NUL character")
            return ""
        return value

    def words(self, table: dict[str, Any], path: tuple[Any, ...], key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.bad((*path, key), f'\'{key}\' must be a list of text, like ["silver", "gold"]')
            return ()
        return tuple(v.strip() for v in value)

    def unknown(self, table: dict[str, Any], path: tuple[Any, ...], allowed: set[str]) -> None:
        for key in table:
            if key not in allowed:
                self.bad(
                    (*path, key), f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})"
                )


def parse_story(text: str, where: str, expected_id: str | None = None) -> Story:
    """Validate one story's TOML text; raise StoryFileError listing every mistake."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = re.search(r"line (\d+)", str(err))
        raise StoryFileError([f"{where}:{match[1] if match else 1}: invalid TOML: {err}"]) from None
    lines = _Lines(text)
    c = _Checker(where, lines)
    c.unknown(data, (), _TOP_KEYS)
    version = data.get("format")
    if version not in FORMATS:
        c.bad(("format",), f"format must be 1 or 2 (found {version!r})")
    story_id = c.text(data, (), "id")
    if story_id and not _ID.match(story_id):
        c.bad(
            ("id",),
            f"id {shorten(story_id)!r} must be lowercase letters, digits and '-' (up to 60)",
        )
    elif story_id and expected_id and story_id != expected_id:
        c.bad(("id",), f"id {story_id!r} must match the file name ({expected_id}.toml)")
    title = c.text(data, (), "title")
    seed = data.get("seed", "")
    if not isinstance(seed, str) or not _SEED.match(seed):
        c.bad(("seed",), "seed must be the source document's file name")
        seed = ""
    ages = data.get("ages")
    if not (
        isinstance(ages, list)
        and len(ages) == 2
        and all(isinstance(a, int) and not isinstance(a, bool) for a in ages)
        and 2 <= ages[0] <= ages[1] <= 14
    ):
        c.bad(("ages",), "ages must be [youngest, oldest], like [4, 9]")
        ages = [4, 9]
    minutes = data.get("minutes")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 30:
        c.bad(("minutes",), "minutes must be a whole number from 1 to 30")
        minutes = 5
    characters = c.words(data, (), "characters")

    filled: set[str] = {LISTENER}
    slot_kinds: dict[str, str] = {LISTENER: LISTENER}

    def refs(
        value: str, path: tuple[Any, ...], key: str, extra: dict[str, str] | None = None
    ) -> None:
        try:
            names = placeholders(value)
        except ValueError as err:
            c.bad((*path, key), f"broken {{placeholder}} ({err})")
            return
        for name in names:
            if name not in filled and name not in (extra or {}):
                c.bad((*path, key), f"{{{name}}} is not filled by an earlier ask or choose step")
            elif name in gated and gated[name] != state["gate"]:
                c.bad(
                    (*path, key),
                    f"{{{name}}} is only answered on one path: use it in steps with the same "
                    "[step.if]",
                )
        for problem in template_problems(value, slot_kinds | (extra or {})):
            c.bad((*path, key), problem)

    labels: dict[str, tuple[str, ...]] = {}
    gated: dict[str, Variant] = {}
    """Slots answered only on one path, and the `[step.if]` of that path."""
    state: dict[str, Variant | None] = {"gate": None}

    def variants(raw: dict[str, Any], path: tuple[Any, ...], key: str) -> tuple[Variant, ...]:
        """A step's `[[step.when]]` tables: each names a slot, what its answer must be, and
        the `key` text told instead."""
        tables = raw.get("when", [])
        if not tables:
            return ()
        if version != 2:
            c.bad((*path, "when", 0), "'when' needs format = 2")
            return ()
        if not isinstance(tables, list):
            c.bad((*path, "when"), "'when' must be [[step.when]] tables")
            return ()
        found: list[Variant] = []
        for k, table in enumerate(tables):
            wpath = (*path, "when", k)
            if not isinstance(table, dict):
                c.bad(wpath, "each 'when' must be a [[step.when]] table")
                continue
            test = condition(table, wpath, "when", {key})
            text = c.text(table, wpath, key)
            refs(text, wpath, key)
            if test is not None and text:
                parts = paragraphs(text) if key == "say" else (" ".join(text.split()),)
                found.append(Variant(test.slot, test.tests, parts))
        return tuple(found)

    def condition(
        table: dict[str, Any], path: tuple[Any, ...], name: str, more: set[str]
    ) -> Variant | None:
        """What a `when` or `if` table asks of an earlier answer (its text left empty)."""
        slot = table.get("slot")
        if slot not in filled:
            c.bad((*path, "slot"), f"'slot' must name an answer given by now (found {slot!r})")
            return None
        kind = slot_kinds.get(slot, "free")
        allowed = {"is", *ATTRIBUTES.get(kind, {})}
        c.unknown(table, path, {"slot", *more, *allowed})
        tests: list[tuple[str, str]] = []
        for key in sorted(set(table) & allowed):
            value = table[key]
            choices = ATTRIBUTES.get(kind, {}).get(key) or ()
            if not isinstance(value, str) or not value.strip():
                c.bad((*path, key), f"'{key}' must be text")
            elif choices and value not in choices:
                c.bad((*path, key), f"{key} must be one of: {' | '.join(choices)}")
            elif key == "is" and kind == "choice" and value.lower() not in labels[slot]:
                c.bad((*path, key), f"{value!r} is not one of {slot}'s option labels")
            else:
                tests.append((key, value.lower()))
        if not tests:
            names = " or ".join(f"'{n}'" for n in sorted(allowed))
            c.bad(path, f"'{name}' needs {names} to say which answers it is for")
            return None
        return Variant(slot, tuple(tests), ())

    def gate(raw: dict[str, Any], path: tuple[Any, ...]) -> Variant | None:
        """A step's `[step.if]`: told only when an earlier answer fits."""
        table = raw.get("if")
        if table is None:
            return None
        if version != 2:
            c.bad((*path, "if"), "'if' needs format = 2")
            return None
        if not isinstance(table, dict):
            c.bad((*path, "if"), "'if' must be a [step.if] table")
            return None
        return condition(table, (*path, "if"), "if", set())

    steps: list[Step] = []
    raw_steps = data.get("step", [])
    if not isinstance(raw_steps, list) or not raw_steps:
        c.bad(("step",), "a story needs [[step]] tables")
        raw_steps = []
    for i, raw in enumerate(raw_steps):
        path: tuple[Any, ...] = ("step", i)
        if not isinstance(raw, dict):
            c.bad(path, "each step must be a [[step]] table")
            continue
        c.unknown(raw, path, _STEP_KEYS)
        kinds = [k for k in ("say", "ask", "choose") if k in raw]
        if len(kinds) != 1:
            c.bad(path, "each step needs exactly one of 'say', 'ask' or 'choose'")
            continue
        only = state["gate"] = gate(raw, path)
        if kinds[0] == "say":
            say = c.text(raw, path, "say")
            recap = c.text(raw, path, "recap", required=False)
            refs(say, path, "say")
            refs(recap, path, "recap")
            for key in set(raw) - {"say", "recap", "when", "if"}:
                c.bad((*path, key), f"'{key}' does not belong in a say step")
            whens = variants(raw, path, "say")
            steps.append(Say(paragraphs(say), " ".join(recap.split()), whens, only))
        elif kinds[0] == "ask":
            question = c.text(raw, path, "ask")
            refs(question, path, "ask")
            slot = c.text(raw, path, "slot")
            if slot and not _SLOT.match(slot):
                c.bad((*path, "slot"), f"slot {slot!r} must be snake_case, like door_colour")
            elif slot in filled:
                c.bad((*path, "slot"), f"slot {slot!r} is already filled earlier")
            kind = raw.get("kind", "free")
            if kind not in KINDS:
                c.bad((*path, "kind"), f"kind {kind!r} is not one of: {', '.join(KINDS)}")
                kind = "free"
            defaults = c.words(raw, path, "defaults")
            if not defaults:
                c.bad((*path, "defaults"), "an ask step needs at least one gentle default answer")
            for default in defaults:
                if answer_for(kind, default, _SAFE) is None:
                    c.bad((*path, "defaults"), f"default {default!r} is not a safe {kind} answer")
            reply = c.text(raw, path, "reply", required=False)
            refs(reply, path, "reply", {slot: kind})
            for key in set(raw) - {"ask", "slot", "kind", "defaults", "reply", "when", "if"}:
                c.bad((*path, key), f"'{key}' does not belong in an ask step")
            filled.add(slot)
            slot_kinds[slot] = kind
            if only is not None:
                gated[slot] = only
            whens = variants(raw, path, "reply")
            steps.append(Ask(question, slot, kind, defaults, reply, whens, only))
        else:
            question = c.text(raw, path, "choose")
            refs(question, path, "choose")
            slot = raw.get("slot", "")
            if slot and (not isinstance(slot, str) or not _SLOT.match(slot) or slot in filled):
                c.bad((*path, "slot"), "slot must be a new snake_case name")
                slot = ""
            raw_options = raw.get("option", [])
            if not isinstance(raw_options, list) or not 2 <= len(raw_options) <= 3:
                c.bad(path, "a choose step needs 2 or 3 [[step.option]] tables")
                raw_options = raw_options if isinstance(raw_options, list) else []
            options: list[Option] = []
            for j, option in enumerate(raw_options):
                opath = (*path, "option", j)
                if not isinstance(option, dict):
                    c.bad(opath, "each option must be a [[step.option]] table")
                    continue
                c.unknown(option, opath, _OPTION_KEYS)
                label = c.text(option, opath, "label")
                passage = c.text(option, opath, "say")
                refs(label, opath, "label")
                refs(passage, opath, "say", {slot: "choice"} if slot else {})
                options.append(Option(label, c.words(option, opath, "words"), paragraphs(passage)))
            for key in set(raw) - {"choose", "slot", "option", "if"}:
                c.bad((*path, key), f"'{key}' does not belong in a choose step")
            if slot:
                filled.add(slot)
                slot_kinds[slot] = "choice"
                labels[slot] = tuple(o.label.lower() for o in options)
                if only is not None:
                    gated[slot] = only
            steps.append(Choose(question, tuple(options), slot, only))

    state["gate"] = None
    ending_table = data.get("ending")
    ending: tuple[str, ...] = ()
    if not isinstance(ending_table, dict):
        c.bad(("ending",), "an [ending] table with 'say' is missing")
    else:
        c.unknown(ending_table, ("ending",), {"say"})
        text = c.text(ending_table, ("ending",), "say")
        refs(text, ("ending",), "say")
        ending = paragraphs(text)
    if c.problems:
        raise StoryFileError(c.problems)
    return Story(
        story_id, title, seed, (ages[0], ages[1]), minutes, characters, tuple(steps), ending, where
    )


def load_story(path: Path, root: Path) -> Story:
    """Read and validate one story file under `root` (the stories folder)."""
    where = f"{root.name}/{path.name}"
    try:
        real = path.resolve(strict=True)
    except OSError as err:
        raise StoryFileError([f"{where}:1: cannot be read ({err.strerror})"]) from None
    if not real.is_relative_to(root.resolve()):
        raise StoryFileError(
            [f"{where}:1: leads outside {root.name}/ (a link?); story files must live there"]
        )
    if not real.is_file():
        raise StoryFileError([f"{where}:1: not a regular file; a story is one .toml text file"])
    size = real.stat().st_size
    if size > MAX_FILE_BYTES:
        limit = MAX_FILE_BYTES // 1024
        raise StoryFileError(
            [f"{where}:1: file is {size // 1024} KB; a story is at most {limit} KB"]
        )
    try:
        raw = real.read_bytes()
    except OSError as err:
        raise StoryFileError([f"{where}:1: cannot be read ({err.strerror})"]) from None
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        raise StoryFileError([f"{where}:{line}: contains NUL bytes (not a text file)"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise StoryFileError([f"{where}:{line}: not UTF-8 text (save the file as UTF-8)"]) from None
    return parse_story(text, where, expected_id=path.stem)


def load_library(root: Path, log: bool = True) -> tuple[list[Story], list[str]]:
    """Every valid story in `root`, and one line per mistake in the files that were skipped
    (also logged as warnings unless `log` is false)."""
    stories: list[Story] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    if not root.is_dir():
        return [], [f"{root}: no stories folder"]
    for path in sorted(root.glob("*.toml")):
        try:
            story = load_story(path, root)
        except StoryFileError as err:
            problems += err.problems
            continue
        if story.id in seen:
            problems.append(f"{story.path}:1: id {story.id!r} is already used by {seen[story.id]}")
            continue
        seen[story.id] = story.path
        stories.append(story)
    for line in problems if log else ():
        logger.warning("skipped: %s", line)
    return stories, problems
