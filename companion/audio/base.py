"""The two audio interfaces every backend implements."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final, Protocol

import numpy as np

from companion.messages import SAMPLE_RATE, AudioChunk

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


def to_chunks(blocks: Iterable[np.ndarray], rate: int) -> Iterator[AudioChunk]:
    """Float32 blocks at `rate` → 16 kHz int16 chunks of CHUNK_S, timed from the first sample."""
    from companion.audio.resample import StreamResampler, to_int16

    step = int(SAMPLE_RATE * CHUNK_S)
    resampler = StreamResampler(rate, SAMPLE_RATE)
    pending = np.zeros(0, np.float32)
    position = 0
    for block in blocks:
        pending = np.concatenate([pending, resampler.process(block)])
        while len(pending) >= step:
            yield AudioChunk(to_int16(pending[:step]), SAMPLE_RATE, position / SAMPLE_RATE)
            pending = pending[step:]
            position += step


def apply_cap(samples: np.ndarray, volume: float, cap: float) -> np.ndarray:
    """Scale by `volume`, never beyond `cap`, and keep every peak inside the cap."""
    gain = max(0.0, min(volume, cap))
    out = np.asarray(samples, dtype=np.float32) * gain
    return np.clip(out, -cap, cap)
