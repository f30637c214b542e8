"""Sleep sounds made on the device: rain, ocean and brown noise, looped seamlessly, faded out."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Final

import numpy as np

logger = logging.getLogger(__name__)

SOUNDS: Final = ("rain", "ocean", "brown_noise")
RATE: Final = 22_050
LOOP_S: Final = 12.0
LEVEL: Final = 0.25
"""Loudness of the sounds before the volume cap: gentle, well under speech."""


def _shaped(
    n: int, rng: np.random.Generator, slope: float, low_hz: float, high_hz: float
) -> np.ndarray:
    """Noise with a 1/f^slope spectrum between two frequencies.

    Made in the frequency domain, so it is periodic: the loop's end flows into its start.
    """
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    shape = np.where(
        (f >= low_hz) & (f <= high_hz), 1.0 / np.maximum(f, low_hz) ** (slope / 2), 0.0
    )
    return np.fft.irfft(spectrum * shape, n)


def _circular(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    padded = np.zeros(len(x))
    padded[: len(kernel)] = kernel
    return np.fft.irfft(np.fft.rfft(x) * np.fft.rfft(padded), len(x))


def _normalise(x: np.ndarray) -> np.ndarray:
    x = x - np.mean(x)
    peak = float(np.max(np.abs(x))) or 1.0
    return (x / peak * LEVEL).astype(np.float32)


def make_loop(sound: str, seconds: float = LOOP_S, seed: int = 7) -> np.ndarray:
    """One loop of the sound; played end to start it never clicks."""
    if sound not in SOUNDS:
        raise ValueError(f"unknown sleep sound {sound!r} (use {', '.join(SOUNDS)})")
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    brown = _shaped(n, rng, 2.0, 20, 4000)
    if sound == "brown_noise":
        return _normalise(brown)
    if sound == "ocean":
        swell = 0.25 + 0.75 * np.sin(np.pi * t / (seconds / 2)) ** 2  # two waves a loop
        surf = _shaped(n, rng, 1.0, 200, 6000)
        return _normalise(brown / np.std(brown) * swell + 0.6 * surf / np.std(surf) * swell**2)
    hiss = _shaped(n, rng, 1.0, 800, 9000)
    drops = np.zeros(n)
    where = rng.integers(0, n, size=int(seconds * 60))
    drops[where] = rng.uniform(0.2, 1.0, size=len(where))
    splash = np.exp(-np.arange(300) / 30.0) * np.sin(np.arange(300) * 0.9)
    patter = _circular(drops, splash)
    return _normalise(
        hiss / np.std(hiss) + 0.8 * patter / np.std(patter) + 0.5 * brown / np.std(brown)
    )


def fade_gain(elapsed_s: float, total_s: float, fade_s: float) -> float:
    """Gain at `elapsed_s`: full until the fade starts, then smoothly down to silence."""
    if elapsed_s >= total_s:
        return 0.0
    start = total_s - fade_s
    if elapsed_s <= start or fade_s <= 0:
        return 1.0
    x = (elapsed_s - start) / fade_s
    return float(0.5 * (1 + np.cos(np.pi * x)))


class SleepSounds:
    """Plays a sound loop for `minutes`, fading over the last `fade_minutes`; stop() ends it."""

    def __init__(
        self,
        play: Callable[[np.ndarray, int], None],
        sound: str,
        minutes: float,
        fade_minutes: float,
        realtime: bool = True,
    ) -> None:
        self._play = play
        self.loop = make_loop(sound)
        self.total_s = minutes * 60
        self.fade_s = min(fade_minutes * 60, self.total_s)
        self.realtime = realtime
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.played_s = 0.0

    def blocks(self, block_s: float = 0.5) -> Iterator[np.ndarray]:
        """The performance, block by block, the fade applied every 20 ms; ends early on stop()."""
        size = int(block_s * RATE)
        step = RATE // 50
        position = 0
        total = int(self.total_s * RATE)
        while position < total and not self._stop.is_set():
            idx = np.arange(position, min(total, position + size))
            gain = np.array([fade_gain(t / RATE, self.total_s, self.fade_s) for t in idx[::step]])
            yield self.loop[idx % len(self.loop)] * np.repeat(gain, step)[: len(idx)]
            position += len(idx)
            self.played_s = position / RATE

    def _run(self) -> None:
        for block in self.blocks():
            self._play(block, RATE)
            if self.realtime:
                self._stop.wait(0.45)  # a little ahead of the speaker, never far
        logger.info("sleep sounds ended after %.0f s", self.played_s)

    def start(self) -> None:
        if self.realtime:
            self._thread = threading.Thread(target=self._run, name="sleep-sounds", daemon=True)
            self._thread.start()
        else:
            self._run()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
