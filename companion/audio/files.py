"""WAV files as a microphone and as a speaker."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from companion.audio.base import CHUNK_S, apply_cap, to_chunks
from companion.audio.resample import resample
from companion.audio.wav import WavReader, WavWriter
from companion.messages import AudioChunk


class WavInput:
    """Reads a WAV file as if it were a microphone, then a short tail of silence."""

    def __init__(self, path: str | os.PathLike[str], tail_s: float = 1.0) -> None:
        self.reader = WavReader(path)
        self.name = str(path)
        self.tail_s = tail_s

    def chunks(self) -> Iterator[AudioChunk]:
        blocks = self.reader.blocks(int(self.reader.rate * CHUNK_S * 4))
        tail = np.zeros(int(self.reader.rate * self.tail_s), np.float32)
        return to_chunks(itertools.chain(blocks, [tail]), self.reader.rate)

    def close(self) -> None:
        self.reader.close()


class WavOutput:
    """Writes everything the companion says into one WAV file (complete once closed)."""

    def __init__(self, path: str | os.PathLike[str], rate: int = 22_050, cap: float = 1.0) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.rate = rate
        self.cap = cap
        self.volume = 1.0
        self._writer = WavWriter(path, rate)
        self._closed = False

    def play(self, samples: np.ndarray, rate: int) -> None:
        self._writer.write(apply_cap(resample(samples, rate, self.rate), self.volume, self.cap))

    def wait(self) -> None:
        return None

    def stop(self) -> None:
        return None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.close()
