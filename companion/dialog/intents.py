"""Intents from text: ordered phrase patterns with small gaps, most specific wins.

Text may come from a grammar-restricted recognizer ("tell me a story") or from a neural one that
writes whole, punctuated sentences ("Um, Luma? Tell me a story, please."). Both go through the
same steps: words in lower case, common spellings made one ("good night" → "goodnight",
"Mummy" → "mum"), hesitations and "please" left out, and a negation ("I don't want to stop")
undoing the words it governs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from companion.messages import Intent, Transcript
from companion.speech.grammar import words

INTENTS: Final = (
    "story.start",
    "story.named",
    "story.continue",
    "night.shared",
    "night.freeform",
    "stop",
    "goodnight",
    "bad_dream",
    "cant_sleep",
    "morning",
    "grownup",
    "repeat",
    "sleep_sounds",
    "volume.up",
    "volume.down",
    "question",
    "yes",
    "no",
    "none",
)

# Ways children ask for each thing. A pattern matches when its words appear in order with
# at most MAX_GAP other words between them; the pattern with the most words wins.
PATTERNS: Final[dict[str, tuple[str, ...]]] = {
    "story.start": (
        "tell me a story",
        "tell us a story",
        "tell a story",
        "read me a story",
        "story time",
        "storytime",
        "bedtime story",
        "i want a story",
        "can i have a story",
        "can we have a story",
        "have a story",
        "a story please",
        "new story",
        "another story",
        "tell me a bedtime story",
        "could you tell me a story",
        "could you tell me a bedtime story",
        "read me a bedtime story",
        "once upon a time",
        "start a story",
        "story",
    ),
    # a story asked for by its name, its topic or who is in it: the host finds which one
    "story.named": (
        "the one about",
        "the one with",
        "the one where",
        "the one called",
        "the story about",
        "the story with",
        "the story where",
        "the story of",
        "the story called",
        "story called",
        "story named",
        "tell me about",
        "tell me the story",
        "tell us the story",
        "read me the story",
        "read the story",
        "can i have the story",
        "can we have the story",
        "i want the story",
        "the one",
    ),
    "story.continue": (
        "what happens next",
        "what happened next",
        "what's next",
        "what comes next",
        "go on",
        "keep going",
        "carry on",
        "continue",
        "and then what",
        "then what",
        "tell me more",
        "more story",
        "keep reading",
        "keep telling",
        "next",
        "don't stop",
        "never stop",
        "don't want to stop",
        "don't want you to stop",
    ),
    "night.shared": (
        "shared night",
        "share night",
        "sharing night",
        "everyone together",
        "all together",
        "together tonight",
        "whole family",
        "family night",
        "everybody together",
        "all of us",
        "with everyone",
        "everyone together tonight",
    ),
    "night.freeform": (
        "freeform night",
        "free form night",
        "freeform",
        "free form",
        "make up a story",
        "make up our own story",
        "make a story",
        "make one up",
        "our own story",
        "my own story",
        "invent a story",
        "made up story",
        "make up a new story",
        "can we make up a story",
        "let's make up a story",
    ),
    "stop": (
        "stop",
        "be quiet",
        "quiet",
        "shush",
        "hush",
        "that's enough",
        "enough",
        "stop talking",
        "want to stop",
        "let's stop",
        "can we stop",
        "turn off",
        "pause",
        "silence",
        "cancel",
        "shut up",
        "no more",
        "no more story",
        "no more stories",
    ),
    "goodnight": (
        "goodnight",
        "good night",
        "sleep tight",
        "night night",
        "nighty night",
        "sweet dreams",
        "going to sleep",
        "go to sleep",
        "time to sleep",
        "see you in the morning",
        "see you tomorrow",
        "bye bye",
        "goodbye",
        "bye",
    ),
    "bad_dream": (
        "bad dream",
        "nightmare",
        "scary dream",
        "i'm scared",
        "i am scared",
        "i'm frightened",
        "i'm afraid",
        "scared",
        "had a scary dream",
        "woke up scared",
        "i had a bad dream",
        "i had a nightmare",
        "i have a bad dream",
        "i have a nightmare",
        "i had a scary dream",
    ),
    "cant_sleep": (
        "can't sleep",
        "i can't sleep",
        "i cannot sleep",
        "can't get to sleep",
        "can't go to sleep",
        "can't fall asleep",
        "not sleepy",
        "i'm not sleepy",
        "not tired",
        "i'm not tired",
        "still awake",
        "wide awake",
        "too awake",
        "don't want to sleep",
        "don't want to go to sleep",
    ),
    # is it time to get up? (answered by the parents' wake-up time)
    "morning": (
        "is it morning",
        "is it morning yet",
        "is it the morning",
        "is it daytime",
        "is it time to get up",
        "time to get up",
        "can i get up",
        "can i get up now",
        "is it wake up time",
        "is it time to wake up",
        "can i wake up",
        "can i get out of bed",
        "is it still night",
        "is it still nighttime",
    ),
    # asking for a parent: mummy, mommy, mom, mama → "mum"; daddy, papa, dada → "dad"
    "grownup": (
        "mum",
        "dad",
        "want mum",
        "want dad",
        "need mum",
        "need dad",
        "get mum",
        "get dad",
        "call mum",
        "call dad",
        "where's mum",
        "where's dad",
        "want grandma",
        "want grandpa",
        "get grandma",
        "get grandpa",
        "want a grownup",
        "need a grownup",
        "get a grownup",
        "call a grownup",
    ),
    "repeat": (
        "say that again",
        "say it again",
        "repeat that",
        "repeat",
        "what did you say",
        "pardon",
        "one more time",
        "i didn't hear",
        "didn't hear",
        "again",
    ),
    "sleep_sounds": (
        "sleep sounds",
        "sleep sound",
        "sleepy sounds",
        "play sleep sounds",
        "rain",
        "rain sounds",
        "ocean",
        "ocean sounds",
        "waves",
        "sea",
        "white noise",
        "brown noise",
        "the rain",
        "can i have the rain",
        "can i have the ocean",
        "sounds",
    ),
    "volume.up": (
        "louder",
        "bit louder",
        "little louder",
        "talk louder",
        "speak louder",
        "make it louder",
        "speak up",
        "turn up",
        "turn it up",
        "volume up",
        "too quiet",
        "too soft",
        "can't hear you",
        "more loud",
    ),
    "volume.down": (
        "quieter",
        "bit quieter",
        "little quieter",
        "softer",
        "bit softer",
        "talk quieter",
        "speak quieter",
        "more quietly",
        "quietly",
        "softly",
        "turn down",
        "turn it down",
        "volume down",
        "too loud",
        "less loud",
        "not loud",
    ),
    # a question about the world ("what's a lighthouse?", "why is the moon round?")
    "question": (
        "what's a",
        "what's an",
        "what are",
        "what's the",
        "what's that",
        "what does",
        "what do",
        "why",
        "why is",
        "why are",
        "why do",
        "why does",
        "why did",
        "why can't",
        "how do",
        "how does",
        "how did",
        "how come",
        "who's",
        "where's the",
        "where do",
        "where does",
        "is it true",
    ),
    "yes": (
        "yes",
        "yes please",
        "okay",
        "ok",
        "yeah",
        "yep",
        "sure",
        "alright",
        "all right",
        "uh huh",
        "of course",
        "please",
        "let's do it",
    ),
    "no": (
        "no",
        "not now",
        "nope",
        "no thanks",
        "no thank you",
        "not yet",
        "later",
        "i don't want",
        "don't want to",
        "i do not want",
        "no way",
        "no more stories",
    ),
}

# Equal specificity: stop is never outvoted, then the more urgent wins.
PRIORITY: Final = (
    "stop",
    "grownup",
    "bad_dream",
    "goodnight",
    "cant_sleep",
    "morning",
    "repeat",
    "volume.down",
    "volume.up",
    "night.freeform",
    "night.shared",
    "sleep_sounds",
    "story.named",
    "story.continue",
    "story.start",
    "question",
    "no",
    "yes",
)
MAX_GAP: Final = 2
MIN_CONFIDENCE: Final = 0.35
"""Below this the companion asks again instead of guessing."""

WHOLE_ONLY: Final = frozenset({("grownup", "mum"), ("grownup", "dad"), ("question", "why")})
"""Patterns that count only as the whole utterance ("Mummy!", "Why?"), not inside a sentence."""
IN_STORY_ONLY: Final = frozenset({("stop", "no more story"), ("stop", "no more stories")})
"""Patterns that mean this only while a story is being told."""
OUTSIDE_STORY_ONLY: Final = frozenset({("no", "no more stories")})

# Complete phrases for the recognizer's idle grammar, for intents whose patterns are fragments
# ("the one about", "why is"): a grammar phrase that ends mid-sentence would end the turn early.
GRAMMAR_PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "story.named": (),
    "cant_sleep": (
        "i can't sleep",
        "i can't get to sleep",
        "i'm not sleepy",
        "i'm not tired",
        "i'm still awake",
        "i don't want to go to sleep",
    ),
    "grownup": (
        "i want mummy",
        "i want daddy",
        "i want mommy",
        "i want my mum",
        "i want my mom",
        "i want my dad",
        "i want papa",
        "can you get my mum",
        "can you get my dad",
        "where's mummy",
        "where's daddy",
        "mummy",
        "daddy",
        "i want a grown up",
    ),
    "volume.up": (
        "louder",
        "louder please",
        "a bit louder",
        "turn it up",
        "speak up",
        "it's too quiet",
        "i can't hear you",
    ),
    "volume.down": (
        "quieter",
        "quieter please",
        "a bit quieter",
        "softer",
        "turn it down",
        "it's too loud",
    ),
    "question": (
        "what's a lighthouse",
        "why is the moon round",
        "why do stars twinkle",
        "why is it dark at night",
        "what is a shadow",
        "what's a dream",
    ),
}
_PLAIN: Final = frozenset({"yes", "no", "stop", *GRAMMAR_PHRASES})
"""Intents whose phrases are not also offered as "can you …", "i want …", "… please"."""

_JOIN: Final = {
    ("good", "night"): "goodnight",
    ("story", "time"): "storytime",
    ("okay", "dokey"): "okay",
    ("o", "k"): "ok",
    ("grown", "up"): "grownup",
    ("grown", "ups"): "grownup",
    ("do", "not"): "don't",
    ("can", "not"): "can't",
    ("i", "am"): "i'm",
    ("what", "is"): "what's",
    ("where", "is"): "where's",
    ("who", "is"): "who's",
}
_SAME: Final[dict[str, tuple[str, ...]]] = {
    "stories": ("story",),
    "mummy": ("mum",),
    "mommy": ("mum",),
    "mom": ("mum",),
    "momma": ("mum",),
    "mama": ("mum",),
    "mam": ("mum",),
    "daddy": ("dad",),
    "papa": ("dad",),
    "dada": ("dad",),
    "granny": ("grandma",),
    "gran": ("grandma",),
    "nana": ("grandma",),
    "nanny": ("grandma",),
    "grandad": ("grandpa",),
    "granddad": ("grandpa",),
    "grownups": ("grownup",),
    "cannot": ("can't",),
    "cant": ("can't",),
    "dont": ("don't",),
    "wont": ("won't",),
    "didnt": ("didn't",),
    "im": ("i'm",),
    "whats": ("what's",),
    "wanna": ("want", "to"),
    "gonna": ("going", "to"),
}
HESITATIONS: Final = frozenset("um umm ummm uh uhh uhm er err erm hmm hm mm ah like so".split())
"""Words a child thinks aloud with: left out before matching."""
_POLITE: Final = frozenset({"please"})
"""Left out too, unless it is all that was said ("please" alone is a yes)."""


@dataclass(frozen=True, slots=True)
class Match:
    intent: str
    pattern: str
    size: int
    coverage: float


def normalise(text: str) -> list[str]:
    """Words, with common spellings made one ("good night" → "goodnight", "Mummy" → "mum"),
    hesitations ("um", "like") and a polite "please" left out."""
    out: list[str] = []
    for token in words(text):
        for part in _SAME.get(token, (token,)):
            if out and (out[-1], part) in _JOIN:
                out[-1] = _JOIN[(out[-1], part)]
            else:
                out.append(part)
    kept = [t for t in out if t not in HESITATIONS]
    meant = [t for t in kept if t not in _POLITE]
    return meant or kept


_COMPILED: Final = {
    intent: tuple((p, tuple(normalise(p))) for p in patterns)
    for intent, patterns in PATTERNS.items()
}

NEGATIONS: Final = frozenset(
    "don't not never doesn't won't can't didn't isn't aren't wasn't couldn't wouldn't "
    "shouldn't".split()
)
NEGATION_SCOPE: Final = 4
"""A negation governs this many words after it ("I don't want you to stop")…"""
_SCOPE_ENDS: Final = frozenset({"but", "and", "instead", "just"})
"""… or fewer, up to one of these ("don't stop, just go on")."""
_ASKING: Final = frozenset({"can't", "won't", "couldn't", "wouldn't", "shouldn't"})
_PRONOUNS: Final = frozenset({"i", "we", "you"})


def _negated(tokens: list[str]) -> list[tuple[int, range]]:
    """Each negation word's position and the words it governs.

    A negation that asks ("why don't we…", "can't you tell me…") is a wish, not a negation.
    """
    found: list[tuple[int, range]] = []
    for i, token in enumerate(tokens):
        if token not in NEGATIONS:
            continue
        asks = i + 1 < len(tokens) and tokens[i + 1] in _PRONOUNS
        if asks and ((i > 0 and tokens[i - 1] in ("why", "how")) or (i == 0 and token in _ASKING)):
            continue
        end = i + 1
        while end < min(len(tokens), i + 1 + NEGATION_SCOPE) and tokens[end] not in _SCOPE_ENDS:
            end += 1
        found.append((i, range(i + 1, end)))
    return found


def _matches(
    tokens: list[str], pattern: tuple[str, ...], negations: list[tuple[int, range]]
) -> bool:
    """Pattern words in order, small gaps; none of them governed by a negation outside it."""

    def search(i: int, start: int, used: tuple[int, ...]) -> bool:
        if i == len(pattern):
            return not any(
                source not in used and any(p in scope for p in used) for source, scope in negations
            )
        end = len(tokens) if i == 0 else min(len(tokens), start + MAX_GAP + 1)
        for pos in range(start, end):
            if tokens[pos] == pattern[i] and search(i + 1, pos + 1, (*used, pos)):
                return True
        return False

    return search(0, 0, ())


def best_matches(
    text: str, allowed: frozenset[str] | None = None, in_story: bool = False
) -> list[Match]:
    """Every intent's most specific matching pattern, best first.

    `in_story`: a story is being told now ("no more stories" then means stop).
    """
    tokens = normalise(text)
    negations = _negated(tokens)
    found: list[Match] = []
    for intent, patterns in _COMPILED.items():
        if allowed is not None and intent not in allowed:
            continue
        best: Match | None = None
        for raw, pattern in patterns:
            if not pattern or (best is not None and len(pattern) <= best.size):
                continue
            if (intent, raw) in (OUTSIDE_STORY_ONLY if in_story else IN_STORY_ONLY):
                continue
            if (intent, raw) in WHOLE_ONLY and tuple(tokens) != pattern:
                continue
            if _matches(tokens, pattern, negations if intent != "no" else []):
                best = Match(intent, raw, len(pattern), len(pattern) / max(1, len(tokens)))
        if best:
            found.append(best)
    found.sort(key=lambda m: (-m.size, PRIORITY.index(m.intent)))
    return found


def classify(
    transcript: Transcript | str,
    allowed: frozenset[str] | None = None,
    *,
    in_story: bool = False,
) -> Intent:
    """The intent of what was heard, or `none` when nothing fits well enough.

    `allowed` limits the intents considered; `in_story` says a story is being told now.
    """
    if isinstance(transcript, str):
        transcript = Transcript(transcript, 1.0, "text")
    candidates = [transcript.text, *transcript.alternatives]
    for rank, text in enumerate(candidates):
        found = best_matches(text, allowed, in_story)
        if not found:
            continue
        top = found[0]
        runner_up = found[1] if len(found) > 1 else None
        clear = runner_up is None or runner_up.size < top.size or top.intent == "stop"
        score = (0.55 + 0.45 * min(1.0, top.coverage + 0.15 * (top.size - 1))) * (
            1.0 if clear else 0.6
        )
        confidence = round(score * max(transcript.confidence, 0.3) * (0.8 if rank else 1.0), 3)
        if confidence >= MIN_CONFIDENCE:
            return Intent(top.intent, confidence, transcript.text)
    return Intent("none", 0.0, transcript.text)


KEY_TERMS: Final = (
    "story",
    "stop",
    "hush",
    "shush",
    "quiet",
    "enough",
    "cancel",
    "goodnight",
    "night night",
    "sweet dreams",
    "sleep tight",
    "bye bye",
    "frightened",
    "scared",
    "nightmare",
    "bad dream",
    "repeat",
    "again",
    "carry on",
    "go on",
    "family night",
    "together",
    "make one up",
    "invent",
    "sleep sounds",
    "rain",
    "waves",
    "white noise",
    "louder",
    "quieter",
)
"""Words that carry a request on their own: a recognizer unsure of a request weighs readings of
it with one of these in the place of words it heard instead."""


def command_phrases(wake_phrase: str = "", topics: Iterable[str] = ()) -> tuple[str, ...]:
    """Everything the companion expects when idle: each pattern, alone and after the wake phrase.

    `topics` (story titles, say) add whole requests for a story by its name.
    """
    phrases: list[str] = []
    named = [
        f"{lead} {topic.lower()}"
        for topic in topics
        for lead in ("tell me", "the one about", "can i have")
    ]
    for intent, patterns in PATTERNS.items():
        own = GRAMMAR_PHRASES.get(intent, patterns) if intent != "story.named" else named
        for p in own:
            phrases.append(p)
            if wake_phrase and intent not in ("yes", "no"):
                phrases.append(f"{wake_phrase} {p}")
            if intent not in _PLAIN:
                phrases += [f"can you {p}", f"i want {p}", f"{p} please"]
            if intent.startswith("night.") and p.endswith("night"):
                phrases += [f"let's have a {p}", f"can we have a {p}", f"i want a {p}"]
    if wake_phrase:
        phrases.append(wake_phrase)
    return tuple(dict.fromkeys(phrases))
