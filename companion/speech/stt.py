"""The speech-to-text interface, and what more than one engine shares."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from companion.messages import Grammar, Transcript
from companion.speech.grammar import whole_phrase, words


class SpeechToText(Protocol):
    """A streaming recognizer: start with a grammar, feed 16 kHz int16 audio, finish."""

    name: str

    def start(self, grammar: Grammar) -> None: ...

    def feed(self, samples: np.ndarray) -> None: ...

    def partial(self) -> str:
        """The best guess so far (may change)."""
        ...

    def finish(self) -> Transcript: ...


def combine(
    restricted: str,
    opened: str,
    used_restricted: bool,
    used_open: bool,
    engine: str,
    prefix: str = "",
    phrases: tuple[str, ...] = (),
) -> Transcript:
    """Pick between the restricted and the open hypothesis, with a confidence.

    When both ran, agreement means the expected phrase was really said; when the open one
    heard mostly other words, its text wins and the restricted guess is only an alternative.
    """
    if not used_open:
        return Transcript(restricted, 0.8 if restricted else 0.0, engine)
    if not used_restricted:
        return Transcript(opened, 0.6 if opened else 0.0, engine)
    lead = words(prefix)
    r_words = words(restricted)
    has_prefix = bool(lead) and r_words[: len(lead)] == lead
    body = r_words[len(lead) :] if has_prefix else r_words
    o_words = set(words(opened)) - set(lead)
    if not body:
        return Transcript(
            restricted, 0.7 if restricted else 0.0, engine, (opened,) if opened else ()
        )
    agreement = sum(w in o_words for w in body) / len(body)
    if agreement >= 0.5 or not o_words:
        return Transcript(restricted, 0.5 + 0.5 * agreement, engine, (opened,) if opened else ())
    if whole_phrase(" ".join(body), phrases) and len(o_words) <= len(body) + 1:
        # a whole expected phrase, briefly said: the open model is the less reliable here
        return Transcript(restricted, 0.45, engine, (opened,))
    text = f"{prefix} {opened}" if has_prefix else opened
    return Transcript(text, 0.4, engine, (restricted,))
