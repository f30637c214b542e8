"""Keeping the child's words safe: rude and too-scary words, and answers that fit the question."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from companion.messages import Grammar, Transcript
from companion.storytelling.lexicon import lexicon

# Rude words, in plain spelling; variants (leetspeak, stretched letters, spaces) are folded first,
# and plurals and -ing/-er/-ed/-y forms are blocked with each word.
RUDE: Final = frozenset(
    """
    arse arsehole ass asses asshat asshole bastard bellend bitch bitches bloody bollocks boner
    boob boobs bugger bullshit bum butt butthead butthole cock cocks cocksucker crap cum cunt
    damn damned dick dickhead dildo dipshit douche douchebag dumb dumbass fag faggot fart farts
    fatso frick frigging fuck fucked fucker fucking fucks goddamn hell horny idiot jackass jerk
    jizz knobhead loser minger moron motherfucker munter nigga nigger nipple penis pillock piss
    pissed poo poop porn prick pussy retard scumbag sex sexy shit shithead shits shitty skank
    slag slut spastic spaz stupid suck sucks tit tits tosser turd twat vagina wank wanker whore
    """.split()
)
# Roots that are rude wherever they appear inside a word ("fuckface", "shithead").
RUDE_ROOTS: Final = tuple("fuck shit cunt bitch whore nigg fagg wank twat jizz dickhead".split())
# Ordinary words that hold a rude root: the root is not rude inside them.
INNOCENT: Final = tuple("scunthorp shitak shiitak snigg niggl swank".split())
# Ordinary words spelled like a rude word's other forms ("butt" + "er").
INNOCENT_WORDS: Final = frozenset(
    """
    assess assesses assessed assessing assessment assessor butter butters buttered buttery
    butted butting cocked cocker cockers cocking cocky jerked jerking jerky pricked pricking
    booby bumbag sucker suckers sucked sucking titter titters tittered tittering
    """.split()
)
_INNOCENT_LONGEST_FIRST: Final = tuple(sorted(INNOCENT, key=len, reverse=True))
_SUFFIXES: Final = ("s", "es", "er", "ers", "ing", "ed", "y", "ie", "ies")
# A rude word joined to one of these is still rude ("buttface", "jackass", "poopyhead").
_COMPOUND_TAILS: Final = frozenset(
    re.sub(r"(.)\1+", r"\1", w)  # squeezed, as the words they are compared with
    for w in "head heads face faces hole holes bag bags wad wads hat hats wipe brain breath lick "
    "licker nugget nut bucket sack tard wit clown monkey pants stain".split()
)
_COMPOUND_HEADS: Final = frozenset(
    re.sub(r"(.)\1+", r"\1", w)
    for w in "bull jack smart bad fat lard kiss wise hard lazy big pig dog cow horse ape bat "
    "chicken dip holy mother dumb".split()
)
# Words too frightening for a bedtime story, whoever says them.
SCARY: Final = frozenset(
    """
    blood bloody bleed bleeding kill killed killer killing kills dead death die died dies dying
    murder murdered gun guns shoot shot knife knives stab stabbed zombie zombies demon demons
    devil corpse skull skeleton gore scream screaming torture poison poisoned war bomb
    """.split()
)
_LEET: Final = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "!": "i",
        "3": "e",
        "4": "a",
        "@": "a",
        "5": "s",
        "$": "s",
        "7": "t",
        "+": "t",
        "8": "b",
        "|": "i",
    }
)
_SQUEEZE: Final = re.compile(r"(.)\1+")
_SQUEEZE_ANY: Final = re.compile(r"(.)\1*")
_CONTRACTION: Final = re.compile(r"['’](ll|re|ve|s|d|t|m)$", re.IGNORECASE)


def _terms(text: str) -> tuple[str, ...]:
    return tuple(t.strip() for t in text.split(",") if t.strip())


_LEXICON: Final = lexicon()
COLOURS: Final = _LEXICON.listed["colour"]
ANIMALS: Final = _LEXICON.listed["animal"]
FEELINGS: Final = _LEXICON.listed["feeling"]
SOUNDS: Final = _LEXICON.listed["sound"]
PLACES: Final = _LEXICON.listed["place"]
OBJECTS: Final = _LEXICON.listed["object"]
NAMES: Final = _LEXICON.listed["name"]
PEOPLE: Final = _LEXICON.people
VOCABULARY: Final = {
    "colour": COLOURS,
    "animal": ANIMALS,
    "feeling": FEELINGS,
    "sound": SOUNDS,
    "place": PLACES,
    "object": OBJECTS,
    "name": NAMES,
    "free": (),
}
STRICT_KINDS: Final = frozenset({"colour", "animal", "feeling"})
"""Kinds whose known words are looked for anywhere in what was said ("I think a blue one")."""
EXTRA_TERMS: Final[dict[str, tuple[str, ...]]] = {
    kind: tuple(w for w in _LEXICON.understood[kind] if w not in _LEXICON.listed[kind])
    for kind in ("animal", "feeling")
}
"""Answers of a strict kind that are not offered to the recognizer, but are understood."""
MAX_NEW_WORDS: Final = {"colour": 0, "animal": 3, "feeling": 4}
"""The longest answer of a strict kind taken as a new word ("an axolotl", "like a jelly"); a
colour must be one the lexicon knows (a banana is no colour, "banana yellow" is yellow)."""
_OTHER_KINDS: Final = {
    "colour": ("animal", "object", "place", "feeling"),
    "animal": ("colour", "object", "place", "feeling"),
    "feeling": ("colour", "animal", "object", "place"),
    "object": (),
    "sound": (),
}
"""Known words that make a new word no answer of this kind ("an owl" is no colour)."""


def _pronoun_forms() -> tuple[str, ...]:
    """ "let's call her", "she's called", "his name is"…: how a child gives a name."""
    forms: list[str] = []
    for pron in ("him", "her", "it", "them"):
        for verb in ("call", "name"):
            forms += [
                f"{lead}{verb} {pron}"
                for lead in (
                    "",
                    "let's ",
                    "we'll ",
                    "we can ",
                    "we should ",
                    "i want to ",
                    "i'd ",
                    "i'll ",
                    "i would ",
                    "i wanna ",
                )
            ]
    for who in ("he's", "she's", "it's", "they're", "he is", "she is", "it is", "they are"):
        forms += [f"{who} called", f"{who} named"]
    for whose in ("his", "her", "its", "it's", "their", "the"):
        forms += [f"{whose} name is", f"{whose} name's", f"{whose} name will be"]
    return tuple(forms)


_FILLERS: Final = tuple(
    sorted(
        {
            "i think it was",
            "i think it's",
            "i think it is",
            "i think it should be",
            "i think",
            "i guess",
            "i'd say",
            "i felt",
            "i feel",
            "it felt",
            "it feels",
            "she felt",
            "he felt",
            "they felt",
            "it was",
            "it's",
            "it is",
            "it should be",
            "it could be",
            "it can be",
            "it will be",
            "it's going to be",
            "maybe",
            "probably",
            "um",
            "uh",
            "er",
            "erm",
            "hmm",
            "oh",
            "ooh",
            "well",
            "like",
            "so",
            "okay",
            "a",
            "an",
            "the",
            "my",
            "some",
            "called",
            "named",
            "i want",
            "i'd like",
            "i choose",
            "i pick",
            "let's say",
            "let's have",
            "how about",
            "what about",
            *_pronoun_forms(),
        },
        key=lambda f: (-len(f.split()), f),
    )
)
"""Leading words around an answer ("I think it was", "her name is"), longest first."""
_TRAILING: Final = tuple(
    sorted(
        {"please", "i think", "maybe", "i guess", "probably", "thank you", "thanks", "luma"},
        key=lambda f: -len(f.split()),
    )
)
"""Words after an answer: "purple, please", "Rosie, I think"."""
HESITATIONS: Final = frozenset("um umm uh uhh uhm er err erm hmm hm mm".split())
"""Left out wherever they are: "a, um, kite"."""
DONT_KNOW: Final = frozenset(
    {
        "i don't know",
        "don't know",
        "dunno",
        "i dunno",
        "i'm not sure",
        "not sure",
        "no idea",
        "i have no idea",
        "i can't think",
        "i can't think of one",
        "you choose",
        "you pick",
        "you decide",
        "i dont know",
        "dont know",
        "i do not know",
        "i don't know yet",
        "anything",
        "whatever",
    }
)
"""Answers that are no answer: the story picks one kindly."""
_NOT_THIS: Final = frozenset({"not", "never", "isn't", "wasn't", "no"})
_ADJECTIVES: Final = frozenset(
    "little big tiny small giant sleepy fluffy soft baby happy friendly light dark bright "
    "sparkly shiny golden silver magic magical old young kind gentle fuzzy furry spotty".split()
)
MAX_ANSWER_WORDS: Final = 6
MAX_FREE_WORDS: Final = 16
"""A free answer may be a whole sentence ("they all had cocoa and went to sleep")."""
_POINTING: Final = re.compile(
    r"(?:the |that |this )?(?:first|second|third|last|other|next|same)(?: one)?"
    r"|(?:that|this|the) one|(?:number )?(?:one|two|three)"
)
_ANSWER_WORD: Final = re.compile(r"[A-Za-z][A-Za-z']*(?:-[A-Za-z][A-Za-z']*)*")
_SENTENCE_END: Final = re.compile(r"[.!?;]+(?=\s|$)")
_TITLES: Final = frozenset({"mr", "mrs", "ms", "dr", "st", "mx"})
_PLAIN_CAPITAL: Final = re.compile(r"^[A-Z][a-z']+$")


def fold(word: str) -> str:
    """A word as a filter sees it: lower case, leetspeak undone, letters only."""
    return re.sub(r"[^a-z]", "", word.lower().translate(_LEET))


Runs = tuple[tuple[str, int], ...]


def _squeeze(word: str) -> str:
    """Each run of a letter as one letter: "shiiit" → "shit"."""
    return _SQUEEZE.sub(r"\1", word)


def _runs(word: str) -> Runs:
    """Letters and how often each repeats: "shiiit" → s1 h1 i3 t1."""
    return tuple((m[1], len(m[0])) for m in _SQUEEZE_ANY.finditer(word))


_ROOTS: Final = tuple(
    re.compile("".join(f"{letter}{{{count},}}" for letter, count in _runs(root)))
    for root in RUDE_ROOTS
)


def _forms(word: str) -> set[str]:
    """A word with its plural and -ing/-er/-ed/-y forms ("shit" → "shitting", "shitty")."""
    out = {word}
    stems = {word, word[:-1]} if word.endswith("e") else {word}
    if word.endswith("y"):
        stems.add(word[:-1] + "i")
    if len(word) >= 3 and word[-1] not in "aeiouwxy" and word[-2] in "aeiou":
        stems.add(word + word[-1])
    for stem in stems:
        out.update(stem + suffix for suffix in _SUFFIXES)
    if word.endswith(("s", "sh", "ch", "x")):
        out.add(word + "es")
    return out


@lru_cache(maxsize=16)
def _index(extra: frozenset[str], scary: bool = True) -> dict[str, tuple[Runs, ...]]:
    """Blocked forms by their squeezed spelling, so stretched letters still match."""
    words = {f for w in RUDE | extra for f in _forms(w)} | (SCARY if scary else frozenset())
    index: dict[str, list[Runs]] = {}
    for word in words:
        index.setdefault(_squeeze(word), []).append(_runs(word))
    return {key: tuple(value) for key, value in index.items()}


def _listed(word: str, index: dict[str, tuple[Runs, ...]]) -> bool:
    """The word is a blocked form, with any letter held longer ("fuuuck", "poooop")."""
    forms = index.get(_squeeze(word))
    if not forms:
        return False
    runs = _runs(word)
    return any(
        all(have >= need for (_, have), (_, need) in zip(runs, form, strict=True)) for form in forms
    )


@lru_cache(maxsize=65_536)
def _bad_word(word: str, extra: frozenset[str], scary: bool = True) -> bool:
    """A rude or too-scary word, a rude compound, or a rude root inside a word."""
    if word in INNOCENT_WORDS:
        return False
    index = _index(extra, scary)
    for stem in _INNOCENT_LONGEST_FIRST:
        word = word.replace(stem, "-")
    return any(_bad_part(part, index) for part in word.split("-") if part)


def _bad_part(word: str, index: dict[str, tuple[Runs, ...]]) -> bool:
    if _listed(word, index):
        return True
    for cut in range(2, len(word) - 1):
        head, tail = word[:cut], word[cut:]
        rude_head = head not in INNOCENT_WORDS and _listed(head, index)
        rude_tail = tail not in INNOCENT_WORDS and _listed(tail, index)
        if rude_head and (rude_tail or _squeeze(tail) in _COMPOUND_TAILS):
            return True
        if rude_tail and _squeeze(head) in _COMPOUND_HEADS:
            return True
    return any(root.search(word) for root in _ROOTS)


def _tokens(text: str) -> list[str]:
    """Folded words; contractions keep their first part ("he'll" is "he", not "hell")."""
    parts = re.split(r"[\s,.;:?\-_/*~\"()]+", text)
    return [fold(_CONTRACTION.sub("", p)) for p in parts if p]


@dataclass(frozen=True, slots=True)
class WordSafety:
    """Decides whether words may be spoken or stored."""

    extra: frozenset[str] = frozenset()
    scary: bool = True
    """Whether too-scary words are blocked too; only rude ones when a child tells a bad dream,
    whose own words are heard and said back once."""

    @classmethod
    def with_words(cls, words: Iterable[str]) -> WordSafety:
        return cls(frozenset(fold(w) for w in words if fold(w)))

    def polite(self) -> WordSafety:
        """The same rules, with scary words allowed: for listening to a bad dream."""
        return WordSafety(self.extra, scary=False)

    def is_safe(self, text: str) -> bool:
        """No rude or too-scary word, however it is spelled, stretched or spaced out."""
        tokens = _tokens(text)
        if any(_bad_word(t, self.extra, self.scary) for t in tokens if t):
            return False
        # letters spelled out or split: "f u c k", "s.h.i.t", "sh it"
        index = _index(self.extra, self.scary)
        start = 0
        while start < len(tokens):
            end = start
            while end < len(tokens) and 0 < len(tokens[end]) <= 2:
                end += 1
            for i in range(start, end):
                for j in range(i + 2, end + 1):
                    joined = "".join(tokens[i:j])
                    if len(joined) >= 3 and _listed(joined, index):
                        return False
            start = end + 1
        return True


def _sentences(text: str) -> list[str]:
    """The sentences of what was said (a neural recognizer writes them; "Mr." ends none)."""
    out: list[str] = []
    begin = 0
    for end in _SENTENCE_END.finditer(text):
        before = text[begin : end.start()].split()
        if end.group().startswith(".") and before and before[-1].lower() in _TITLES:
            continue
        out.append(text[begin : end.start()])
        begin = end.end()
    out.append(text[begin:])
    return [s for s in out if s.strip()]


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    """As said, curly apostrophes made straight: "T-rex", "Whiskers"."""
    first: bool
    """The first word of its sentence (its capital letter may be only the sentence's)."""
    glue: str = " "
    """What joined it to the word before: a space, or a hyphen inside "T-rex"."""

    @property
    def low(self) -> str:
        return self.text.lower()


def _words(sentence: str) -> list[_Word]:
    found = _ANSWER_WORD.findall(sentence.replace("’", "'"))
    return [_Word(w.strip("'"), i == 0) for i, w in enumerate(found) if w.strip("'")]


def _strip(said: list[_Word]) -> list[_Word]:
    """The answer inside a sentence: hesitations out, leading and trailing fillers off."""
    said = [w for w in said if w.low not in HESITATIONS]
    changed = True
    while changed and said:
        changed = False
        low = [w.low for w in said]
        for filler in _FILLERS:
            parts = filler.split()
            if low[: len(parts)] == parts:
                said = said[len(parts) :] if len(said) > len(parts) else []
                changed = True
                break
        if changed or not said:
            continue
        for filler in _TRAILING:
            parts = filler.split()
            if len(said) > len(parts) and low[-len(parts) :] == parts:
                said = said[: -len(parts)]
                changed = True
                break
    return said


def _spoken(said: list[_Word], strict: bool = False) -> str:
    """Words as they go into the story: a capital that only starts a sentence is dropped
    ("Purple." → "purple"); one that means something is kept ("cat Whiskers", "T-rex")."""
    return " ".join(
        w.low
        if _PLAIN_CAPITAL.match(w.text) and (w.first or strict) and w.low not in _TITLES
        else w.text
        for w in said
    )


def _core(text: str) -> list[_Word]:
    """The answer words of the first sentence that has any."""
    for sentence in _sentences(text):
        said = _strip(_words(sentence))
        if said:
            return said
    return []


def dont_know(text: str) -> bool:
    """ "I don't know", "um, you choose": no answer, so the story picks one kindly."""
    said = _core(text)
    return bool(said) and " ".join(w.low for w in said) in DONT_KNOW


def _parts(text: str) -> list[_Word]:
    """Words for looking up terms: hyphenated ones in parts ("T-rex" → "t", "rex")."""
    out: list[_Word] = []
    for sentence in _sentences(text):
        for i, word in enumerate(_words(sentence)):
            pieces = [p for p in word.text.split("-") if p]
            out += [_Word(p, i == 0 and j == 0, "-" if j else " ") for j, p in enumerate(pieces)]
    return out


def find_term(text: str, vocabulary: Iterable[str]) -> str | None:
    """The longest vocabulary term in the text, with one describing word before it if any.

    A term said only to be ruled out ("not red, purple") gives way to another one.
    """
    said = _parts(text)
    low = [w.low for w in said]
    best: tuple[int, int, int, bool] | None = None  # start, end, size, ruled out
    for term in vocabulary:
        parts = term.split()
        for i in range(len(low) - len(parts) + 1):
            if low[i : i + len(parts)] != parts:
                continue
            ruled_out = i > 0 and low[i - 1] in _NOT_THIS
            if (
                best is None
                or (best[3] and not ruled_out)
                or (best[3] == ruled_out and len(parts) > best[2])
            ):
                best = (i, i + len(parts), len(parts), ruled_out)
    if best is None:
        plural = [w[:-1] for w in low if w.endswith("s")]
        return find_term(" ".join(plural), vocabulary) if plural and plural != low else None
    start, end, _, _ = best
    if start > 0 and low[start - 1] in _ADJECTIVES:
        start -= 1
    return _join(said[start:end])


def _join(said: list[_Word]) -> str:
    """Words found in parts, put back as they were written ("t" "rex" → "T-rex")."""
    text = "".join((w.glue if i else "") + _spoken([w], strict=True) for i, w in enumerate(said))
    return text


def answer_for(kind: str, text: str, safety: WordSafety) -> str | None:
    """The part of what the child said that answers a question of this kind, or None.

    Whole sentences are fine ("Her name is Rosie.", "I think it was a hedgehog."): the answer
    is found in the first sentence that has one. None means: not safe, not of the right kind,
    no answer ("I don't know"), or nothing usable — ask again or use a default.
    """
    if kind == "fear":  # a bad dream: the child's own words, scary ones too, never rude ones
        from companion.storytelling.bad_dream import fear_words

        said = fear_words(text) if safety.polite().is_safe(text) else ""
        return said if said and not dont_know(text) else None
    if not text.strip() or not safety.is_safe(text):
        return None
    if kind in STRICT_KINDS:
        found = find_term(text, (*VOCABULARY[kind], *EXTRA_TERMS.get(kind, ())))
        if found:
            return found if safety.is_safe(found) else None
        return _new_word(kind, text, safety)
    said = _core(text)
    if kind in ("object", "sound") and _people(said):
        return None  # "my grandma" is no thing and no sound
    if not said and kind == "sound":  # "hmm", "ooh" are sounds too
        said = next((_words(s) for s in _sentences(text) if _words(s)), [])
    answer = " ".join(w.low for w in said)
    longest = MAX_FREE_WORDS if kind == "free" else MAX_ANSWER_WORDS
    if not said or len(said) > longest or answer in DONT_KNOW:
        return None
    if _POINTING.fullmatch(answer):  # "the second one" picks an option; it is no thing
        return None
    if kind == "name":
        known = find_term(answer, NAMES)
        if known:
            value = known.title()
        elif len(said) <= 3:
            value = " ".join(w.text[:1].upper() + w.text[1:].lower() for w in said)
        else:
            return None
    else:
        value = _spoken(said)
    return value if safety.is_safe(value) else None


def _new_word(kind: str, text: str, safety: WordSafety) -> str | None:
    """A word the lexicon does not know, taken as itself: a storyteller says yes to an
    axolotl. Not when it is a known word of another kind, a person, or a long sentence."""
    said = _core(text)
    while said and said[0].low in ("a", "an", "the", "some", "my", "its"):
        said = said[1:]
    answer = " ".join(w.low for w in said)
    if not said or len(said) > MAX_NEW_WORDS[kind] or answer in DONT_KNOW:
        return None
    if _POINTING.fullmatch(answer) or _people(said) or answer in _NOT_NEW:
        return None
    others = [t for k in _OTHER_KINDS[kind] for t in _LEXICON.understood[k]]
    if find_term(answer, others):
        return None
    value = _spoken(said)
    if kind == "feeling" and re.search(rf"\blike (?:an? )?{re.escape(answer)}", text.lower()):
        value = f"like {text.lower().split('like ', 1)[1].split(value)[0]}{value}"
    return value if safety.is_safe(value) else None


def _people(said: list[_Word]) -> bool:
    return bool({w.low for w in said} & set(PEOPLE))


_NOT_NEW: Final = frozenset(
    "yes no yeah nope okay ok maybe nothing something anything everything it that this what "
    "why how stop more again please thanks thank you".split()
)
"""Short replies that are no answer of any kind."""


def answer_reading(kind: str, readings: Sequence[str], safety: WordSafety) -> str:
    """Which of a recognizer's readings of one utterance (best first) holds the answer.

    A small model's best reading of a child's "a little bell" can be "a little girl" with the
    bell a close second: the likeliest reading with a word the lexicon knows for this kind wins;
    with none, the best reading stays (and may be a new word: "an axolotl"). A reading the
    safety check refuses is never chosen over the best one.
    """
    said = [r for r in readings if r.strip()]
    if not said:
        return ""
    if not safety.is_safe(said[0]):
        return said[0]
    known = (*VOCABULARY.get(kind, ()), *EXTRA_TERMS.get(kind, ()))
    for reading in said:
        if not safety.is_safe(reading):
            continue
        value = answer_for(kind, reading, safety)
        if value is not None and find_term(value, known):
            return reading
    return said[0]


def answer_heard(kind: str, heard: Transcript, safety: WordSafety) -> str | None:
    """The answer in what the recognizer heard: its likeliest reading holding one, or None."""
    return answer_for(kind, answer_reading(kind, (heard.text, *heard.alternatives), safety), safety)


def answer_terms(kind: str, names: Iterable[str] = ()) -> tuple[str, ...]:
    """The words that answer a question of this kind, for a recognizer to weigh in."""
    terms = list(VOCABULARY.get(kind, ()))
    if kind == "name":
        terms += [n.lower() for n in names]
    return tuple(dict.fromkeys(terms))


def grammar_phrases(
    kind: str, defaults: Iterable[str] = (), names: Iterable[str] = ()
) -> tuple[str, ...]:
    """What the recognizer should expect for an answer of this kind."""
    phrases = [*answer_terms(kind, names), *(d.lower() for d in defaults)]
    if kind == "colour":
        phrases += [f"it was {p}" for p in COLOURS[:20]]
    if kind in ("animal", "place", "object", "sound"):
        # answers come with an article: "a tiger", "the moon", "an owl"
        phrases += [f"{article} {p}" for p in VOCABULARY[kind] for article in ("a", "the")]
    return tuple(dict.fromkeys(p for p in phrases if p))


KIND_QUESTIONS: Final = {
    "colour": "What colour was it?",
    "animal": "Which animal was it?",
    "place": "Where did they go?",
    "object": "What did they find?",
    "name": "What was its name?",
    "sound": "What sound did it make?",
    "feeling": "How did it feel?",
    "free": "What happened then?",
}
"""A plain question of each kind (`hear --expect KIND`, the bench and the tests ask these)."""


def answer_grammar(kind: str, names: Iterable[str] = ()) -> Grammar:
    """What a recognizer expects for an answer to this kind's plain question (`KIND_QUESTIONS`):
    how `companion hear --expect KIND`, the bench and the tests listen for one."""
    names = tuple(names)
    phrases = grammar_phrases(kind, (), names)
    prompt = answer_prompt(KIND_QUESTIONS[kind], kind, phrases)
    terms = answer_terms(kind, names)
    return Grammar(f"answer-{kind}", phrases, open=True, prompt=prompt, terms=terms)


def answer_prompt(question: str, kind: str, phrases: Iterable[str] = ()) -> str:
    """What a neural recognizer is primed with for an answer: the question itself, after a few
    words that fit for a kind only those words answer (colours, animals, feelings).

    The examples come first: said last, the model repeats them when it is unsure.
    """
    if kind not in STRICT_KINDS:
        return question
    examples = [p for p in phrases if len(p.split()) == 1][:3]
    return f"{', '.join(examples).capitalize()}. {question}" if examples else question
