"""The surface realiser: puts a child's answers into story text so that every sentence reads right.

Answers are kept bare ("hedgehog", "teddy bear", "soft hum", "Rosie"); the text around them
brings the article. Realising a template fills its `{slots}` and then agrees the words that
touch each answer: "a" or "an" by the answer's sound (inflect), no article before a name,
"some" before a plural, a capital where a sentence starts. `{slot:a}` and `{slot:the}` ask for
the answer with its own article, for places where the text has none.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Final

NOUN_KINDS: Final = frozenset({"animal", "object", "place"})
"""Answers that are things: the text must give them an article (or ask for one)."""
SPECS: Final = ("", "a", "the")
DETERMINERS: Final = frozenset(
    "a an the my your his her its our their this that these those some any every each no "
    "one two three four five many".split()
)
_POSSESSIVE: Final = re.compile(r"^[A-Za-z]+'s$")
_PREPOSITIONS: Final = frozenset(
    "under in inside on at behind near beside over above below by up down".split()
)
_SOUND_MANNER: Final = frozenset(
    "soft softly loud loudly quiet quietly little big gentle gently tiny happy sleepy funny "
    "silly low high long short small great sweet whispery like kind of sort of very".split()
)
_BARE_PLACES: Final = frozenset({"home", "space", "outer space", "dreamland", "bed", "school"})
"""Places said with no article: "in space", never "in the space"."""
_BREAKS: Final = frozenset(
    "in into inside on onto at to from of with by for about under over behind near and or but "
    "is was were are be been am sat saw met found held had has have became like as than "
    "said called named".split()
)
"""Words that end a noun phrase when looking back from a slot for its article."""
_LISTENER: Final = "listener"
_OPEN, _CLOSE = "\x02", "\x03"
_ARTICLE_BEFORE: Final = re.compile(rf"\b(a|an|A|An|the|The)( {_OPEN})(.*?){_CLOSE}", re.DOTALL)
_SENTENCE_START: Final = re.compile(rf"(^|(?<!\.\.)[.!?][\"'’”]? +|[\"'‘“]){_OPEN}([a-z])")
"""Where an answer starts a sentence (not after "...", where a sentence goes on)."""
_DOUBLED: Final = re.compile(r"\b(\w+) \1\b", re.IGNORECASE)


@cache
def _inflect():  # type: ignore[no-untyped-def]
    import inflect

    return inflect.engine()


@dataclass(frozen=True, slots=True)
class Filled:
    """One answer as the story holds it, and what kind of answer it is."""

    text: str
    kind: str = "free"
    attributes: Mapping[str, str] = field(default_factory=dict)
    """What the story knows about the answer (`{slot.name}` in a text)."""

    @property
    def proper(self) -> bool:
        """A name (never "a Rosie", never "the Zog")."""
        if self.kind == "name" or self.kind == _LISTENER:
            return True
        if self.kind == "place":
            return self.text.lower() in _BARE_PLACES
        return self.kind == "free" and all(w[:1].isupper() for w in self.text.split())

    @property
    def plural(self) -> bool:
        """ "bubbles", "stars": "some bubbles", never "a bubbles"."""
        last = self.text.split()[-1] if self.text.split() else ""
        if not last.isalpha() or len(last) < 3 or last.lower().endswith("ss"):
            return False
        return bool(_inflect().singular_noun(last.lower()))

    def form(self, spec: str) -> str:
        """The answer as a template asks for it: bare, or with its own article."""
        if (
            spec == ""
            or self.proper
            or self.kind in ("colour", "feeling", "sound", "choice", "fear")
        ):
            return self.text
        if self.kind == "free" and not _noun_phrase(self.text):
            return self.text  # "everyone had cocoa" takes no article
        if spec == "the":
            return _short(self.text)
        if self.plural:
            return f"some {self.text}"
        return _indefinite(self.text)


def _noun_phrase(text: str) -> bool:
    """Whether a free answer names someone or something ("little fox", "girl called Pip"),
    rather than saying what happened ("everyone had cocoa", "they went home")."""
    words = text.lower().split()
    if not words or words[0] in _NOT_NOUNS:
        return False
    return len(words) <= 3 or any(w in ("called", "named", "who", "that", "with") for w in words)


_NOT_NOUNS: Final = frozenset(
    "i you he she it we they everyone everybody someone somebody nobody all they're we're "
    "there this that these those me him her us them".split()
)


def _short(text: str) -> str:
    """How a story names a free answer again: "a girl called Pip" is Pip, "an old owl who
    loves cocoa" is the old owl."""
    words = text.split()
    for i, word in enumerate(words[1:-1], 1):
        if word.lower() in ("called", "named") and words[i + 1][:1].isupper():
            return " ".join(words[i + 1 :])
        if word.lower() in ("who", "that", "which", "with", "from"):
            return "the " + " ".join(words[:i])
    return f"the {text}"


def _indefinite(text: str) -> str:
    """ "an owl", "a unicorn", "a T-rex": inflect knows how each word sounds."""
    article = _inflect().a(text).split()[0]
    return f"{article} {text}"


def settle(kind: str, heard: str, value: str, listener: str = "", authored: bool = False) -> str:
    """An answer as the story keeps it.

    `value` is the answer found in what was `heard`. A place said as "under the sea" becomes
    a place one can go to ("place under the sea"); a free answer with no article of the
    child's own that is not a known word is taken as a name and gets its capitals ("zog" →
    "Zog"), while "a little fox" stays a little fox; "me!" is the `listener`. An `authored`
    answer (a story's default) keeps the capitals its author gave it.
    """
    value = " ".join(value.split())
    if not value:
        return value
    words = value.split()
    if kind == "place":
        while words and words[0].lower() in ("to", "the", "a", "an"):
            words = words[1:]
        if words and words[0].lower() in _PREPOSITIONS and len(words) > 1:
            words = ["place", *words]
        return " ".join(words) or value
    if kind == "name":
        return " ".join(w[:1].upper() + w[1:] for w in words)
    if kind == "sound":
        # "a soft hum" goes "hum": the story says what the sound went
        while len(words) > 1 and words[0].lower() in _SOUND_MANNER:
            words = words[1:]
        return " ".join(words)
    if kind != "free" or authored:
        return value
    if listener and value.lower() in ("me", "myself", "me me", "i", "i am", "i do"):
        return listener
    before = _word_before(heard, words[0])
    if before in DETERMINERS or len(words) > 2 or _known(words):
        return value[:1].lower() + value[1:] if value[:1].isupper() and len(words) > 1 else value
    return " ".join(w[:1].upper() + w[1:] for w in words)


def _word_before(heard: str, first: str) -> str:
    said = re.findall(r"[A-Za-z][A-Za-z'-]*", heard.lower())
    for i, word in enumerate(said):
        if word == first.lower():
            return said[i - 1] if i else ""
    return ""


def _known(words: list[str]) -> bool:
    """Whether a short free answer is made of words the stories know as things, not a name."""
    return any(w.lower() in _known_words() for w in words)


@cache
def _known_words() -> frozenset[str]:
    from companion.storytelling.safety import VOCABULARY

    # names are what a name-like answer is: those stay capitalised ("rosie" → "Rosie")
    known = {w for k, terms in VOCABULARY.items() if k != "name" for t in terms for w in t.split()}
    common = {"me", "myself", "everyone", "nobody", "somebody", "someone", "friend", "friends"}
    return frozenset(known | common)


class _Formatter(string.Formatter):
    def __init__(self, values: Mapping[str, Filled]) -> None:
        self.values = values

    def get_value(self, key, args, kwargs):  # type: ignore[no-untyped-def, override]
        return self.values.get(key, Filled("something wonderful", "object"))

    def get_field(self, field_name, args, kwargs):  # type: ignore[no-untyped-def, override]
        slot, _, name = field_name.partition(".")
        value = self.get_value(slot, args, kwargs)
        if not name:
            return value, slot
        # an attribute of the answer ("{fear.creature}"): a thing of its own
        return Filled(value.attributes.get(name, ""), "animal"), slot

    def format_field(self, value, format_spec):  # type: ignore[no-untyped-def, override]
        if not isinstance(value, Filled):
            return super().format_field(value, format_spec)
        return f"{_OPEN}{value.form(format_spec)}{_CLOSE}" if value.text else ""


def realise(template: str, values: Mapping[str, Filled]) -> str:
    """The template with its answers in, and the words around them agreeing."""
    marked = _Formatter(values).format(template)
    proper = {f.form("") for f in values.values() if f.proper}
    plural = {f.form("") for f in values.values() if f.plural}

    def agree(match: re.Match[str]) -> str:
        article, gap, answer = match.group(1), match.group(2), match.group(3)
        if answer in proper:
            return f"{gap.lstrip()}{_capital_if(answer, article)}{_CLOSE}"
        if article.lower() == "the":
            return match.group(0)
        chosen = "some" if answer in plural else _indefinite(answer).split()[0]
        if article[:1].isupper():
            chosen = chosen[:1].upper() + chosen[1:]
        return f"{chosen}{gap}{answer}{_CLOSE}"

    marked = _ARTICLE_BEFORE.sub(agree, marked)
    marked = _SENTENCE_START.sub(lambda m: f"{m.group(1)}{_OPEN}{m.group(2).upper()}", marked)
    return marked.replace(_OPEN, "").replace(_CLOSE, "")


def _capital_if(answer: str, article: str) -> str:
    """An article dropped before a name: its capital moves to the name's place."""
    return answer[:1].upper() + answer[1:] if article[:1].isupper() else answer


def template_problems(template: str, kinds: Mapping[str, str]) -> list[str]:
    """Why a template cannot put every answer of its slots' kinds grammatically (none: fine).

    `kinds` maps each slot the template may use to its answer kind. A thing (an animal, an
    object, a place) needs an article or a possessive within the two words before it, or
    `{slot:a}` / `{slot:the}`; a name never follows "a", "an" or "the".
    """
    problems: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as err:
        return [f"broken {{placeholder}} ({err})"]
    before = ""
    for literal, name, spec, _ in parsed:
        before += literal
        if name is None:
            continue
        kind = kinds.get(name, "free")
        if spec not in SPECS:
            problems.append(
                f"{{{name}:{spec}}}: the only forms are {{{name}:a}} and {{{name}:the}}"
            )
        elif kind in NOUN_KINDS and not spec and not _determined(before):
            problems.append(
                f"{{{name}}} is {_indefinite(kind)} answer with no article before it: "
                f"write 'the {{{name}}}' or '{{{name}:a}}'"
            )
        elif kind in ("name", _LISTENER) and _last_words(before, 1) in (["a"], ["an"], ["the"]):
            problems.append(f"{{{name}}} is a name: no article before it")
        before += f" {name}"
    return problems


def _last_words(text: str, count: int) -> list[str]:
    tail = re.split(r"[.!?,;:\"“”‘’()]", text)[-1]
    return [w.lower() for w in tail.split()][-count:]


def _determined(before: str) -> bool:
    """An article or possessive starts the noun phrase the slot ends ("the shy little")."""
    for word in reversed(_last_words(before, 3)):
        if word in DETERMINERS or _POSSESSIVE.match(word):
            return True
        if word in _BREAKS:
            return False
    return False


def doubled_words(text: str) -> list[str]:
    """Words said twice in a row ("the the"), which no answer should cause."""
    return [m.group(0) for m in _DOUBLED.finditer(text) if m.group(1).lower() in DETERMINERS]
