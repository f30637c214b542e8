"""The two audio interfaces every backend implements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, Protocol

import numpy as np

from companion.messages import AudioChunk

CHUNK_S: Final = 0.03
"""Length of one input chunk in seconds: one VAD frame."""


class AudioInput(Protocol):
    """A source of mono 16 kHz chunks (a microphone or a WAV file)."""

    name: str

    def chunks(self) -> Iterator[AudioChunk]:
        """Yield chunks of CHUNK_S seconds until the source ends or is closed."""
        ...

    def close(self) -> None: ...


class AudioOutput(Protocol):
    """A sink for float32 audio (a speaker or a WAV file); never louder than `cap`."""

    name: str
    cap: float

    def play(self, samples: np.ndarray, rate: int) -> None:
        """Queue audio; returns at once."""
        ...

    def wait(self) -> None:
        """Block until everything queued has been played."""
        ...

    def stop(self) -> None:
        """Drop everything queued, at once."""
        ...

    def close(self) -> None: ...


def apply_cap(samples: np.ndarray, volume: float, cap: float) -> np.ndarray:
    """Scale by `volume`, never beyond `cap`, and keep every peak inside the cap."""
    gain = max(0.0, min(volume, cap))
    out = np.asarray(samples, dtype=np.float32) * gain
    return np.clip(out, -cap, cap)
