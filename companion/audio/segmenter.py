"""Finding where an utterance starts and ends, counted in seconds of audio (no clock)."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Final

import numpy as np

from companion.audio.base import CHUNK_S
from companion.messages import SAMPLE_RATE

logger = logging.getLogger(__name__)

MIN_SPEECH_S: Final = 0.12
"""Voiced audio needed before an utterance counts as started."""
NOISE_WINDOW_S: Final = 2.0
"""The noise floor is the quietest frame of this much recent audio."""
ABOVE_NOISE_DB: Final = 8.0
"""A frame must be this much louder than the noise floor to be speech."""
PREROLL_S: Final = 0.3
"""Audio kept from before the start, so the first syllable is not lost."""


class Event(Enum):
    """What one frame of audio meant for the utterance."""

    NONE = "none"
    STARTED = "started"
    ENDED = "ended"
    TIMEOUT = "timeout"
    TOO_LONG = "too_long"


@dataclass(slots=True)
class Segmenter:
    """Endpointing as a pure state machine over (is_speech, seconds) frames.

    `timeout_s` is how long to wait for speech to start (None: forever, as in idle);
    `trailing_s` the silence that ends an utterance; `max_s` the longest utterance.
    """

    trailing_s: float
    max_s: float
    timeout_s: float | None = None
    min_speech_s: float = MIN_SPEECH_S
    in_speech: bool = False
    waited_s: float = 0.0
    speech_run_s: float = 0.0
    silence_run_s: float = 0.0
    length_s: float = 0.0
    timed_out: bool = False

    def reset(self, timeout_s: float | None = None) -> None:
        self.timeout_s = timeout_s
        self.in_speech = False
        self.timed_out = False
        self.waited_s = self.speech_run_s = self.silence_run_s = self.length_s = 0.0

    def process(self, is_speech: bool, seconds: float, trailing_s: float | None = None) -> Event:
        """Account for one frame; `trailing_s` overrides the trailing silence for this frame."""
        if not self.in_speech:
            self.waited_s += seconds
            self.speech_run_s = self.speech_run_s + seconds if is_speech else 0.0
            if self.speech_run_s >= self.min_speech_s:
                self.in_speech = True
                self.length_s = self.speech_run_s
                self.silence_run_s = 0.0
                return Event.STARTED
            if (
                self.timeout_s is not None
                and self.waited_s >= self.timeout_s
                and not self.timed_out
            ):
                self.timed_out = True
                return Event.TIMEOUT
            return Event.NONE
        self.length_s += seconds
        self.waited_s += seconds
        if is_speech:
            self.silence_run_s = 0.0
        else:
            self.silence_run_s += seconds
        if self.silence_run_s >= (self.trailing_s if trailing_s is None else trailing_s):
            self.in_speech = False
            return Event.ENDED
        if self.length_s >= self.max_s:
            self.in_speech = False
            return Event.TOO_LONG
        return Event.NONE


class VoiceDetector:
    """Speech or not for one 30 ms frame: WebRTC-style VAD behind a cheap energy gate.

    The gate tracks the noise floor, so steady fan noise or a quiet room costs only an RMS.
    """

    def __init__(self, aggressiveness: int = 2, min_dbfs: float = -48.0) -> None:
        from pocketsphinx import Vad

        self._vad = Vad(aggressiveness, SAMPLE_RATE, CHUNK_S)
        self.frame_samples = self._vad.frame_bytes // 2
        self.min_dbfs = min_dbfs
        self.noise_dbfs = -70.0
        self._recent: deque[float] = deque(maxlen=round(NOISE_WINDOW_S / CHUNK_S))

    def is_speech(self, frame: np.ndarray) -> bool:
        """`frame` is int16 at 16 kHz, `frame_samples` long."""
        if len(frame) != self.frame_samples:
            frame = np.resize(frame, self.frame_samples)
        level = dbfs(frame)
        self._track_noise(level)
        if level < max(self.min_dbfs, self.noise_dbfs + ABOVE_NOISE_DB):
            return False
        return bool(self._vad.is_speech(frame.astype("<i2").tobytes()))

    def _track_noise(self, level: float) -> None:
        # minimum statistics: speech always dips between syllables, a fan never does, so
        # the quietest frame of the last seconds is the noise floor; from the first frame on,
        # so that audio which starts with steady noise never counts as speech
        self._recent.append(level)
        self.noise_dbfs = min(self._recent)


def dbfs(frame: np.ndarray) -> float:
    """RMS level of int16 samples in dB relative to full scale."""
    if len(frame) == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(frame.astype(np.float64))))) / 32768.0
    return 20.0 * float(np.log10(max(rms, 1e-6)))
