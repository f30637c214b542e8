"""Streaming sample-rate conversion with numpy: a windowed-sinc low-pass, then interpolation."""

from __future__ import annotations

import numpy as np

_TAPS = 48


def _lowpass(cutoff: float) -> np.ndarray:
    """FIR taps for a low-pass at `cutoff` (a fraction of the input rate, < 0.5)."""
    n = np.arange(_TAPS + 1) - _TAPS / 2
    taps = 2 * cutoff * np.sinc(2 * cutoff * n) * np.blackman(_TAPS + 1)
    return (taps / taps.sum()).astype(np.float32)


class StreamResampler:
    """Converts float32 blocks from `src` Hz to `dst` Hz, keeping state across blocks."""

    def __init__(self, src: int, dst: int) -> None:
        self.src = src
        self.dst = dst
        self.step = src / dst
        cutoff = 0.45 * min(src, dst) / src
        self._taps = _lowpass(cutoff) if src != dst else None
        self._history = np.zeros(_TAPS, dtype=np.float32)
        self._last = np.zeros(1, dtype=np.float32)
        self._pos = 0.0

    def process(self, block: np.ndarray) -> np.ndarray:
        """Resample one block; output length follows the rate ratio over the stream."""
        x = np.asarray(block, dtype=np.float32)
        if self._taps is None:
            return x
        buf = np.concatenate([self._history, x])
        self._history = buf[-_TAPS:]
        filtered = np.convolve(buf, self._taps, mode="valid")
        series = np.concatenate([self._last, filtered])
        end = len(series) - 1
        if end <= self._pos:
            self._pos -= len(filtered)
            self._last = series[-1:]
            return np.zeros(0, dtype=np.float32)
        positions = np.arange(self._pos, end, self.step)
        out = np.interp(positions, np.arange(len(series)), series).astype(np.float32)
        self._pos = positions[-1] + self.step - end
        self._last = series[-1:]
        return out


def resample(samples: np.ndarray, src: int, dst: int) -> np.ndarray:
    """Resample a whole float32 signal, compensating the filter's delay."""
    if src == dst:
        return np.asarray(samples, dtype=np.float32)
    delay = _TAPS // 2
    r = StreamResampler(src, dst)
    r._pos = delay + 1.0  # start where the first input sample leaves the filter
    out = r.process(
        np.concatenate([np.asarray(samples, dtype=np.float32), np.zeros(delay + 1, np.float32)])
    )
    return out[: round(len(samples) * dst / src)]


def to_int16(samples: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] → int16, clipped."""
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
