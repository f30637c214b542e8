"""Intents from text: ordered phrase patterns with small gaps, most specific wins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from companion.messages import Intent, Transcript
from companion.speech.grammar import words

INTENTS: Final = (
    "story.start",
    "story.continue",
    "night.shared",
    "night.freeform",
    "stop",
    "goodnight",
    "bad_dream",
    "repeat",
    "sleep_sounds",
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
        "next",
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
        "turn off",
        "pause",
        "silence",
        "cancel",
        "shut up",
        "no more",
        "no more story",
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
    ),
}

# Equal specificity: stop is never outvoted, then the more urgent wins.
PRIORITY: Final = (
    "stop",
    "bad_dream",
    "goodnight",
    "repeat",
    "night.freeform",
    "night.shared",
    "sleep_sounds",
    "story.continue",
    "story.start",
    "no",
    "yes",
)
MAX_GAP: Final = 2
MIN_CONFIDENCE: Final = 0.35
"""Below this the companion asks again instead of guessing."""

_JOIN: Final = {
    ("good", "night"): "goodnight",
    ("story", "time"): "storytime",
    ("okay", "dokey"): "okay",
    ("o", "k"): "ok",
}


@dataclass(frozen=True, slots=True)
class Match:
    intent: str
    pattern: str
    size: int
    coverage: float


def normalise(text: str) -> list[str]:
    """Words, with common two-word spellings joined ("good night" → "goodnight")."""
    tokens = words(text)
    out: list[str] = []
    for token in tokens:
        if out and (out[-1], token) in _JOIN:
            out[-1] = _JOIN[(out[-1], token)]
        else:
            out.append(token)
    return out


_COMPILED: Final = {
    intent: tuple((p, tuple(normalise(p))) for p in patterns)
    for intent, patterns in PATTERNS.items()
}


_NEGATIONS: Final = frozenset({"don't", "dont", "not", "never", "doesn't", "won't"})


def _matches(tokens: list[str], pattern: tuple[str, ...], negatable: bool) -> bool:
    """Pattern words in order, small gaps; a negation just before or inside undoes it."""
    pos = -1
    for i, word in enumerate(pattern):
        start = pos + 1
        end = len(tokens) if i == 0 else min(len(tokens), start + MAX_GAP + 1)
        try:
            found = tokens.index(word, start, end)
        except ValueError:
            return False
        if negatable:
            before = tokens[max(0, found - 2) : found] if i == 0 else tokens[start:found]
            if _NEGATIONS.intersection(before):
                return False
        pos = found
    return True


def best_matches(text: str, allowed: frozenset[str] | None = None) -> list[Match]:
    """Every intent's most specific matching pattern, best first."""
    tokens = normalise(text)
    found: list[Match] = []
    for intent, patterns in _COMPILED.items():
        if allowed is not None and intent not in allowed:
            continue
        best: Match | None = None
        for raw, pattern in patterns:
            if (
                pattern
                and _matches(tokens, pattern, intent != "no")
                and (best is None or len(pattern) > best.size)
            ):
                best = Match(intent, raw, len(pattern), len(pattern) / max(1, len(tokens)))
        if best:
            found.append(best)
    found.sort(key=lambda m: (-m.size, PRIORITY.index(m.intent)))
    return found


def classify(transcript: Transcript | str, allowed: frozenset[str] | None = None) -> Intent:
    """The intent of what was heard, or `none` when nothing fits well enough."""
    if isinstance(transcript, str):
        transcript = Transcript(transcript, 1.0, "text")
    candidates = [transcript.text, *transcript.alternatives]
    for rank, text in enumerate(candidates):
        found = best_matches(text, allowed)
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


def command_phrases(wake_phrase: str = "") -> tuple[str, ...]:
    """Everything the companion expects when idle: each pattern, alone and after the wake phrase."""
    phrases: list[str] = []
    for intent, patterns in PATTERNS.items():
        for p in patterns:
            phrases.append(p)
            if wake_phrase and intent not in ("yes", "no"):
                phrases.append(f"{wake_phrase} {p}")
            if intent not in ("yes", "no", "stop"):
                phrases += [f"can you {p}", f"i want {p}", f"{p} please"]
            if intent.startswith("night.") and p.endswith("night"):
                phrases += [f"let's have a {p}", f"can we have a {p}", f"i want a {p}"]
    if wake_phrase:
        phrases.append(wake_phrase)
    return tuple(dict.fromkeys(phrases))
