"""The typed messages that pass between stages."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16_000
"""Rate of every audio chunk inside the listening path, in Hz."""


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """Mono 16-bit audio at `rate` Hz; `start_s` is its position in the input, in seconds."""

    samples: np.ndarray
    rate: int = SAMPLE_RATE
    start_s: float = 0.0

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate


@dataclass(frozen=True, slots=True)
class Grammar:
    """What the recognizer should expect this turn.

    `phrases` are the sentences or words likely now; `open` adds a fallback that accepts any
    words (for free answers). A grammar with no phrases is fully open.
    """

    name: str
    phrases: tuple[str, ...] = ()
    open: bool = False
    prefix: str = ""
    """An optional leading phrase (the wake phrase) that only the restricted model knows."""
    transient: bool = False
    """Used once (e.g. the words of one reply): compiled afresh, not kept."""
    prompt: str = ""
    """What a neural recognizer is primed with (names, the kind of answer, words that fit);
    empty: made from the prefix and the short phrases."""
    contrast: str = ""
    """A second prompt that names other people a child calls ("Hey Mum."), to check a wake
    phrase heard in talk that was not meant for the companion."""
    terms: tuple[str, ...] = ()
    """Words that answer this turn (colours, animals, the choices): a neural recognizer also
    weighs readings of the utterance with one of them in the place of words it was unsure of."""


@dataclass(frozen=True, slots=True)
class Transcript:
    """What the recognizer heard."""

    text: str
    confidence: float
    engine: str
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Intent:
    """What the listener meant: one of `INTENTS`, with a confidence in 0..1."""

    name: str
    confidence: float
    text: str = ""


@dataclass(frozen=True, slots=True)
class Line:
    """One thing to say, with its pace: `rate` and `volume` multiply the voice's own."""

    text: str
    rate: float = 1.0
    volume: float = 1.0
    pause_s: float = 0.3
    """Silence after the line."""


@dataclass(frozen=True, slots=True)
class Reply:
    """What the companion says next; `expect` keeps the conversation open for an answer."""

    lines: tuple[str | Line, ...]
    expect: Grammar | None = None
    sounds: tuple[str, ...] = field(default=())
    """Sleep sounds to start after the lines."""
    stop_sounds: bool = False
    cap: float | None = None
    """A new volume cap from now on (the night cap after goodnight)."""
    volume_step: float = 0.0
    """A relative change of the output level from now on, said first: +0.3 is 1.3 times as
    loud, -0.3 is 0.7 times. The level never goes above the volume cap, whatever the steps."""

    def text(self) -> str:
        return " ".join(line if isinstance(line, str) else line.text for line in self.lines)
