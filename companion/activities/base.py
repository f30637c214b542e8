"""The interface every activity offers the host, and what an activity may ask of the host."""

from __future__ import annotations

from typing import Final, Protocol

from companion.config import Config
from companion.dialog.intents import classify, normalise
from companion.messages import Grammar, Intent, Reply, Transcript
from companion.storytelling.safety import WordSafety

AT_A_QUESTION: Final = frozenset({"stop", "goodnight", "repeat", "story.continue"})
"""What a child may say instead of an answer, whatever is asked."""
_QUESTION_STARTS: Final = frozenset("what what's why how who who's where where's is".split())


class Activity(Protocol):
    """One thing done with the child, turn by turn: the host opens it, hands it what was heard
    (or the silence), and lets it go when it is finished."""

    @property
    def finished(self) -> bool:
        """Over (at its end, or stopped): the host goes back to simple replies."""
        ...

    def open(self) -> Reply:
        """What it says first."""
        ...

    def answer(self, intent: Intent, transcript: Transcript) -> Reply:
        """What it says to what was heard (`intent`: what the loop understood of it)."""
        ...

    def silence(self) -> Reply | None:
        """What it says when nobody answered; None: nothing."""
        ...

    def grammar(self) -> Grammar | None:
        """What the recognizer should expect now; None: no answer is awaited."""
        ...


class Context(Protocol):
    """What an activity may ask of its host: the settings as they are now (they may be
    reloaded mid-way), a grown-up called, a step louder or quieter."""

    @property
    def config(self) -> Config: ...

    @property
    def safety(self) -> WordSafety: ...

    def call_grownup(self) -> str:
        """Tell a grown-up (when there is a way to); the line that says so."""
        ...

    def volume(self, name: str) -> Reply:
        """A step "volume.up" or "volume.down"; the reply that says and makes it."""
        ...


def control_intent(text: str, allowed: frozenset[str] = AT_A_QUESTION) -> Intent | None:
    """stop / goodnight / repeat / go on (or another of `allowed`), when that is what the whole
    answer says: a short answer, or a whole sentence that clearly asks ("I don't want you to
    stop", "why is the moon round?"). A story is being told, so "no more stories" is stop."""
    intent = classify(Transcript(text, 1.0, "answer"), allowed=allowed, in_story=True)
    if intent.name == "none" or (intent.confidence < 0.75 and intent.name != "question"):
        return None
    said = normalise(text)
    if intent.name == "grownup":  # better a kind word too many than a child unheard
        # but "Daddy" alone may well be the answer ("Who came to help?")
        return intent if 2 <= len(said) <= 8 else None
    if intent.name == "question":  # it starts like a question, and is not too long
        asks = bool(said) and said[0] in _QUESTION_STARTS
        return intent if asks and len(said) <= 12 else None
    count = len(text.split())
    if count <= 4 or (count <= 8 and intent.confidence >= 0.9):
        return intent
    return None
