"""WAV files as a microphone and as a speaker."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from companion.audio.base import CHUNK_S, apply_cap
from companion.audio.resample import StreamResampler, resample, to_int16
from companion.audio.wav import WavReader, write_wav
from companion.messages import SAMPLE_RATE, AudioChunk


class WavInput:
    """Reads a WAV file as if it were a microphone, then a short tail of silence."""

    def __init__(self, path: str | os.PathLike[str], tail_s: float = 1.0) -> None:
        self.reader = WavReader(path)
        self.name = str(path)
        self.tail_s = tail_s

    def chunks(self) -> Iterator[AudioChunk]:
        step = int(SAMPLE_RATE * CHUNK_S)
        resampler = StreamResampler(self.reader.rate, SAMPLE_RATE)
        pending = np.zeros(0, np.float32)
        position = 0
        blocks = self.reader.blocks(int(self.reader.rate * CHUNK_S * 4))
        tail = np.zeros(int(self.reader.rate * self.tail_s), np.float32)
        for block in itertools.chain(blocks, [tail]):
            pending = np.concatenate([pending, resampler.process(block)])
            while len(pending) >= step:
                yield AudioChunk(to_int16(pending[:step]), SAMPLE_RATE, position / SAMPLE_RATE)
                pending = pending[step:]
                position += step

    def close(self) -> None:
        self.reader.close()


class WavOutput:
    """Collects everything the companion says and writes it as one WAV file on close."""

    def __init__(self, path: str | os.PathLike[str], rate: int = 22_050, cap: float = 1.0) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.rate = rate
        self.cap = cap
        self.volume = 1.0
        self._parts: list[np.ndarray] = []
        self.samples_written = 0

    def play(self, samples: np.ndarray, rate: int) -> None:
        data = apply_cap(resample(samples, rate, self.rate), self.volume, self.cap)
        self._parts.append(data)
        self.samples_written += len(data)

    def wait(self) -> None:
        return None

    def stop(self) -> None:
        return None

    def audio(self) -> np.ndarray:
        return np.concatenate(self._parts) if self._parts else np.zeros(0, np.float32)

    def close(self) -> None:
        write_wav(self.path, self.audio(), self.rate)
