"""Children's words by kind, with what a story can do with them (`lexicon.toml`).

An owl flies and hoots, a whale swims and is big, "cross" is in the cross family of feelings,
a beach has shells and little waves. Story files vary a passage on these attributes; a word the
lexicon does not know is still a fine answer, it just has none.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Final

LEXICON_FILE: Final = Path(__file__).with_name("lexicon.toml")
ATTRIBUTES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "animal": {
        "moves": (
            "flies",
            "swims",
            "hops",
            "runs",
            "gallops",
            "walks",
            "climbs",
            "crawls",
            "slithers",
        ),
        "size": ("big", "small"),
        "sound": (),
    },
    "feeling": {"family": ("happy", "sad", "scared", "cross", "sleepy", "calm")},
    "place": {"has": ()},
}
"""Each kind's attributes and their allowed values (empty: any words)."""
_LISTS: Final = {"colours": "colour", "sounds": "sound", "objects": "object", "names": "name"}
_TABLES: Final = {"animals": "animal", "feelings": "feeling", "places": "place"}
_MAIN: Final = {"feeling": "family", "place": "has"}
"""The attribute a plain string value gives ("cross" = "cross" is its family)."""


class LexiconError(ValueError):
    """A mistake in the lexicon file, as one line naming the file and the key."""


@dataclass(frozen=True)
class Lexicon:
    """Words by kind: `listed` ones the recognizer expects first, all of them understood."""

    listed: dict[str, tuple[str, ...]]
    understood: dict[str, tuple[str, ...]]
    attributes: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    people: tuple[str, ...] = ()

    def of(self, kind: str, word: str) -> dict[str, str]:
        """The attributes of a known word of this kind (a term of the lexicon); {} if none."""
        return self.attributes.get(kind, {}).get(word.lower(), {})


def _where(path: Path, text: str, key: str) -> str:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith((f"{key} ", f'"{key}" ', f"{key}=", f"[{key}]")):
            return f"{path.name}:{number}"
    return path.name


def parse_lexicon(text: str, path: Path = LEXICON_FILE) -> Lexicon:
    """Validate the lexicon; raise LexiconError naming the file, line and key."""

    def bad(key: str, problem: str) -> LexiconError:
        return LexiconError(f"{_where(path, text, key)}: {key}: {problem}")

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise LexiconError(f"{path.name}: invalid TOML: {err}") from None
    if data.get("format") != 1:
        raise bad("format", "format must be 1")
    unknown = set(data) - {"format", "people", *_LISTS, *_TABLES}
    if unknown:
        raise bad(sorted(unknown)[0], "unknown key")
    listed: dict[str, list[str]] = {}
    understood: dict[str, list[str]] = {}
    attributes: dict[str, dict[str, dict[str, str]]] = {}
    for key, kind in _LISTS.items():
        words = data.get(key, [])
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise bad(key, "must be a list of words")
        listed[kind] = understood[kind] = [w.lower() for w in words]
    for key, kind in _TABLES.items():
        table = data.get(key, {})
        if not isinstance(table, dict):
            raise bad(key, "must be a table of words")
        listed[kind], understood[kind], attributes[kind] = [], [], {}
        for word, value in table.items():
            entry = {_MAIN[kind]: value} if isinstance(value, str) and kind in _MAIN else value
            if not isinstance(entry, dict):
                raise bad(word, f"must be a table of {', '.join(ATTRIBUTES[kind])}")
            entry = dict(entry)
            show = entry.pop("listed", True)
            if not isinstance(show, bool):
                raise bad(word, "listed must be true or false")
            for name, given in entry.items():
                allowed = ATTRIBUTES[kind].get(name)
                if allowed is None:
                    raise bad(word, f"{name!r} is not one of: {', '.join(ATTRIBUTES[kind])}")
                if not isinstance(given, str) or (allowed and given not in allowed):
                    choices = " | ".join(allowed) if allowed else "words"
                    raise bad(word, f"{name} must be {choices}")
            understood[kind].append(word.lower())
            if show:
                listed[kind].append(word.lower())
            attributes[kind][word.lower()] = entry
    people = data.get("people", [])
    if not isinstance(people, list) or not all(isinstance(w, str) for w in people):
        raise bad("people", "must be a list of words")
    return Lexicon(
        {k: tuple(v) for k, v in listed.items()},
        {k: tuple(v) for k, v in understood.items()},
        attributes,
        tuple(w.lower() for w in people),
    )


@cache
def lexicon() -> Lexicon:
    """The lexicon that ships with the companion."""
    return parse_lexicon(LEXICON_FILE.read_text(encoding="utf-8"))
