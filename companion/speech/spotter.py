"""The keyword-spotter interface: a small always-on model that listens for one word."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class KeywordSpotter(Protocol):
    """Hears one keyword in a stream of 16 kHz int16 audio."""

    name: str
    keyword: str

    def hear(self, samples: np.ndarray) -> bool:
        """Feed the next samples; True when the keyword has just been said."""
        ...

    def reset(self) -> None:
        """Forget the audio heard so far (a new stretch of listening starts)."""
        ...
