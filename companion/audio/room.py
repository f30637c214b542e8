"""A simulated bedroom: one WAV file as the microphone, with the companion's own voice in it.

The room is at once the companion's microphone and its speaker. What the speaker plays comes
back into the microphone, quieter, a little later and with the room's reverberation, as on a
real smart speaker. Time is counted in seconds of microphone audio: the speaker plays one
chunk of its queue for every microphone chunk, so the output WAV lines up with the input.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from functools import cache
from typing import Final

import numpy as np

from companion.audio.base import CHUNK_S, apply_cap
from companion.audio.resample import StreamResampler, resample
from companion.audio.wav import WavReader, WavWriter
from companion.messages import SAMPLE_RATE, AudioChunk

STEP: Final = round(SAMPLE_RATE * CHUNK_S)
"""Samples in one chunk (480)."""
REVERB_S: Final = 0.25
"""Length of the room's reverberation tail."""
RT60_S: Final = 0.3
"""Time for the reverberation to fall by 60 dB: a small furnished bedroom."""
TAIL_DB: Final = -12.0
"""Energy of the whole reverberation tail against the direct path."""
_FIRST_REFLECTION_S: Final = 0.003
_SEED: Final = 11


@cache
def impulse_response() -> np.ndarray:
    """The bedroom: the direct path (1.0), then a seeded, exponentially decaying tail."""
    n = round(REVERB_S * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    envelope = 10.0 ** (-3.0 * t / RT60_S)  # -60 dB after RT60_S
    ir = np.random.default_rng(_SEED).standard_normal(n) * envelope
    ir[: round(_FIRST_REFLECTION_S * SAMPLE_RATE)] = 0.0
    ir *= np.sqrt(10.0 ** (TAIL_DB / 10) / np.sum(ir**2))
    ir[0] = 1.0
    ir.setflags(write=False)
    return ir


def bedroom_reverb(samples: np.ndarray) -> np.ndarray:
    """16 kHz float32 audio as heard across the bedroom (as long as it was)."""
    return np.convolve(samples, impulse_response())[: len(samples)].astype(np.float32)


class _Convolver:
    """Streaming convolution of fixed-size blocks with one filter (FFT overlap-add)."""

    def __init__(self, taps: np.ndarray, block: int) -> None:
        self.block = block
        self.size = 1 << (block + len(taps) - 1).bit_length()
        self._spectrum = np.fft.rfft(taps, self.size)
        self._overlap = np.zeros(len(taps) - 1)

    def process(self, x: np.ndarray) -> np.ndarray:
        if not x.any() and not self._overlap.any():
            return np.zeros(self.block, np.float32)
        full = np.fft.irfft(np.fft.rfft(x, self.size) * self._spectrum, self.size)
        full = full[: self.block + len(self._overlap)]
        full[: len(self._overlap)] += self._overlap
        self._overlap = full[self.block :].copy()
        return full[: self.block].astype(np.float32)


class SimulatedRoom:
    """A bedroom for headless runs: the microphone (an input WAV) and the speaker in one.

    Every microphone chunk is the input WAV plus the echo of what the speaker played, scaled
    by `echo_db`, delayed by `delay_s` and, with `reverb`, convolved with the room's impulse
    response. Played audio goes to `output_wav` (16 kHz, as long as the microphone audio,
    silence where nothing played). After the input ends, chunks go on while the speaker still
    has audio queued, then `tail_s` of silence; `until_s` ends the microphone there in any
    case. `paced` yields chunks in real time.

    A paced room is a clock as a real microphone is: when its reader falls behind (a decode
    holds it up), the moment a stop or a duck takes effect is the later of the reader's
    position and the real time since the first chunk, so computing is counted as it would be
    on a device (`stopped_at`, `ducked_at`).
    """

    def __init__(
        self,
        input_wav: str | os.PathLike[str],
        output_wav: str | os.PathLike[str] | None,
        echo_db: float,
        *,
        delay_s: float = 0.015,
        reverb: bool = True,
        paced: bool = True,
        cap: float = 1.0,
        tail_s: float = 1.0,
        until_s: float | None = None,
    ) -> None:
        self.name = str(input_wav)
        self.cap = cap
        self.volume = 1.0
        self.echo_db = echo_db
        self.paced = paced
        self.tail_s = tail_s
        self.until_s = until_s
        self.on_played: Callable[[np.ndarray, int], None] | None = None
        """Called with every block the speaker plays and its rate (16 kHz float32, silence
        included), just before the microphone chunk it is heard in."""
        self.stopped_at: list[float] = []
        """Input time at which the speaker fell silent after each stop() that cut audio."""
        self.ducked_at: list[float] = []
        """Input time from which each duck() below the normal level took effect."""
        self._reader = WavReader(input_wav)
        self._writer = WavWriter(output_wav, SAMPLE_RATE) if output_wav is not None else None
        taps = impulse_response() if reverb else np.ones(1)
        taps = np.concatenate([np.zeros(round(delay_s * SAMPLE_RATE)), taps])
        self._echo = _Convolver(taps * 10.0 ** (echo_db / 20), STEP)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._closed = threading.Event()
        self._queue: deque[np.ndarray] = deque()
        self._offset = 0
        self._queued = 0
        self._played = 0
        self._made = 0
        self._gain = 1.0
        self._ended = False
        self._began: float | None = None
        """When the first chunk left a paced room (time.monotonic)."""

    @property
    def clock_s(self) -> float:
        """Seconds of microphone audio yielded so far (the chunk being handed out included)."""
        return self._made / SAMPLE_RATE

    @property
    def now_s(self) -> float:
        """Where a real microphone would be now: the reader's position, or in a paced room
        the real time since the first chunk when the reader has fallen behind it."""
        if not self.paced or self._began is None:
            return self.clock_s
        return max(self.clock_s, time.monotonic() - self._began + CHUNK_S)

    @property
    def queued_s(self) -> float:
        return self._queued / SAMPLE_RATE

    @property
    def played_s(self) -> float:
        return self._played / SAMPLE_RATE

    @property
    def gain(self) -> float:
        return self._gain

    def duck(self, gain: float) -> None:
        """Multiply playback by `gain` from the next chunk on (1.0 is the normal level)."""
        with self._lock:
            if gain < 1.0 <= self._gain:
                self.ducked_at.append(self.now_s)
            self._gain = max(0.0, gain)

    def play(self, samples: np.ndarray, rate: int) -> None:
        data = apply_cap(resample(samples, rate, SAMPLE_RATE), self.volume, self.cap)
        with self._lock:
            if self._ended or self._closed.is_set() or len(data) == 0:
                return
            self._queue.append(data)
            self._queued += len(data)

    def wait(self) -> None:
        with self._changed:
            self._changed.wait_for(lambda: not self._queue or self._ended or self._closed.is_set())

    def stop(self) -> None:
        with self._changed:
            if self._queue:
                self.stopped_at.append(self.now_s)
            self._queue.clear()
            self._offset = 0
            self._queued = self._played
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            if self._closed.is_set():
                return
            self._closed.set()
            self._changed.notify_all()
            if self._writer is not None:
                self._writer.close()
            self._reader.close()

    def chunks(self) -> Iterator[AudioChunk]:
        try:
            yield from self._run()
        finally:
            with self._changed:
                self._ended = True
                self._changed.notify_all()

    def _run(self) -> Iterator[AudioChunk]:
        resampler = StreamResampler(self._reader.rate, SAMPLE_RATE)
        blocks = self._reader.blocks(int(self._reader.rate * CHUNK_S * 4))
        pending = np.zeros(0, np.float32)
        source_done = False
        tail_left = round(self.tail_s / CHUNK_S)
        start = time.monotonic()
        if self.paced:
            self._began = start
        count = 0
        while not self._closed.is_set():
            if self.until_s is not None and self.clock_s >= self.until_s - 1e-9:
                return
            while not source_done and len(pending) < STEP:
                block = self._read(blocks)
                if block is None:
                    source_done = True
                else:
                    pending = np.concatenate([pending, resampler.process(block)])
            if len(pending) == 0:
                if self._speaking():
                    # a reply in the tail plays out, then the tail starts again
                    tail_left = round(self.tail_s / CHUNK_S)
                elif tail_left <= 0:
                    return
                else:
                    tail_left -= 1
            mic = np.zeros(STEP, np.float32)
            mic[: min(STEP, len(pending))] = pending[:STEP]
            pending = pending[STEP:]
            if self.paced:
                # a clock: chunk k leaves no earlier than k chunks after the first
                self._closed.wait(max(0.0, start + count * CHUNK_S - time.monotonic()))
            made = self._take()
            if made is None:
                return
            played, start_s = made
            mix = mic + self._echo.process(played)
            if self.on_played is not None:
                self.on_played(played, SAMPLE_RATE)
            # scaled by 32768, the inverse of the reader's: input passes through bit for bit
            samples = np.clip(np.round(mix * 32768.0), -32768, 32767).astype(np.int16)
            count += 1
            yield AudioChunk(samples, SAMPLE_RATE, start_s)

    def _read(self, blocks: Iterator[np.ndarray]) -> np.ndarray | None:
        with self._lock:
            return None if self._closed.is_set() else next(blocks, None)

    def _speaking(self) -> bool:
        with self._lock:
            return bool(self._queue)

    def _take(self) -> tuple[np.ndarray, float] | None:
        """The speaker's next block (after gain) and the start of its chunk; None once closed."""
        with self._changed:
            if self._closed.is_set():
                return None
            out = np.zeros(STEP, np.float32)
            filled = 0
            while filled < STEP and self._queue:
                head = self._queue[0]
                take = min(STEP - filled, len(head) - self._offset)
                out[filled : filled + take] = head[self._offset : self._offset + take]
                filled += take
                self._offset += take
                if self._offset >= len(head):
                    self._queue.popleft()
                    self._offset = 0
            self._played += filled
            out *= self._gain
            if self._writer is not None:
                self._writer.write(out)
            start_s = self._made / SAMPLE_RATE
            self._made += STEP
            if not self._queue:
                self._changed.notify_all()
            return out, start_s
