"""The echo-canceller interface: the companion's own voice taken out of its microphone.

The companion knows every sample it plays; the speaker hands each played block to `far`
(from any thread) and every microphone chunk goes through `near`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Final, Protocol

import numpy as np

from companion.audio.base import CHUNK_S
from companion.audio.resample import StreamResampler
from companion.messages import SAMPLE_RATE, AudioChunk

logger = logging.getLogger(__name__)

FAR_QUIET_DBFS: Final = -55.0
"""The speaker counts as silent below this level."""
GAP_S: Final = 0.12
"""Without a canceller, the microphone is heard only after this much speaker silence."""


class EchoCanceller(Protocol):
    """Takes the speaker's echo out of the microphone."""

    name: str
    cancels: bool
    """False for the fallback that only says when the speaker is silent."""

    def far(self, samples: np.ndarray, rate: int) -> None:
        """Float32 audio the speaker has just played (any thread, any block size)."""
        ...

    def near(self, chunk: AudioChunk) -> AudioChunk:
        """A microphone chunk with the speaker's echo taken out."""
        ...

    def speaker_quiet_s(self) -> float:
        """Seconds of microphone audio since the speaker last played anything audible."""
        ...


class FarEnd:
    """The played audio, resampled to 16 kHz and waiting for the microphone's thread; and how
    long the speaker has been silent (`quiet_s`, in seconds of microphone audio)."""

    def __init__(self, quiet_s: float = 0.0) -> None:
        self.quiet_s = quiet_s
        self._lock = threading.Lock()
        self._blocks: deque[np.ndarray] = deque(maxlen=400)
        self._resampler: StreamResampler | None = None

    def put(self, samples: np.ndarray, rate: int) -> None:
        with self._lock:
            if self._resampler is None or self._resampler.src != rate:
                self._resampler = StreamResampler(rate, SAMPLE_RATE)
            self._blocks.append(self._resampler.process(np.asarray(samples, np.float32)))

    def take(self, duration_s: float) -> np.ndarray:
        """Everything played since the last call (float32, 16 kHz), for a microphone chunk
        `duration_s` long."""
        with self._lock:
            blocks = list(self._blocks)
            self._blocks.clear()
        played = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
        audible = played.size > 0 and _dbfs(played) > FAR_QUIET_DBFS
        self.quiet_s = 0.0 if audible else self.quiet_s + duration_s
        return played


class SpeakerGate:
    """No canceller: the microphone passes unchanged; `speaker_quiet_s` says when it is clean."""

    name = "none"
    cancels = False

    def __init__(self) -> None:
        self._far = FarEnd(quiet_s=GAP_S)

    def far(self, samples: np.ndarray, rate: int) -> None:
        self._far.put(samples, rate)

    def near(self, chunk: AudioChunk) -> AudioChunk:
        self._far.take(chunk.duration_s)
        return chunk

    def speaker_quiet_s(self) -> float:
        return self._far.quiet_s


def open_canceller() -> EchoCanceller:
    """WebRTC's AEC3 in process, or (one line says why) the speaker gate."""
    from companion.errors import EngineError

    try:
        from companion.audio.webrtc_echo import WebRtcEchoCanceller

        canceller: EchoCanceller = WebRtcEchoCanceller()
    except EngineError as err:
        logger.warning(
            "echo canceller: %s; \"stop\" while speaking is heard in the pauses between sentences",
            err.message,
        )
        return SpeakerGate()
    logger.info("echo canceller: %s", canceller.name)
    return canceller


def _dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20 * np.log10(max(rms, 1e-9))


CHUNK_SAMPLES: Final = round(SAMPLE_RATE * CHUNK_S)
