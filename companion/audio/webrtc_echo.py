"""WebRTC's echo canceller (AEC3) and high-pass filter, through livekit.

livekit's `AudioProcessingModule` wraps the WebRTC audio-processing library; it takes the
played audio as the far end (`process_reverse_stream`) and cleans the microphone
(`process_stream`), both in 10 ms frames. Both run on the microphone's thread, far end
first, so the canceller always sees what played before the echo of it arrives.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np

from companion.audio.echo import FarEnd
from companion.errors import EngineError
from companion.messages import SAMPLE_RATE, AudioChunk

FRAME: Final = SAMPLE_RATE // 100
"""10 ms, the only frame length the module takes."""
MAX_FAR: Final = SAMPLE_RATE // 2
"""Far-end audio kept waiting for the microphone, at most."""


class WebRtcEchoCanceller:
    """AEC3 and a high-pass filter, at 16 kHz mono.

    Noise suppression is off by default: the fan noise it leaves behind made the recognizer
    hear "stop" three times as often in a room where nobody said it.
    """

    name = "WebRTC AEC3 (livekit)"
    cancels = True

    def __init__(self, noise_suppression: bool = False, gain_control: bool = False) -> None:
        try:
            from livekit import rtc

            self._rtc: Any = rtc
            self._apm: Any = rtc.AudioProcessingModule(
                echo_cancellation=True,
                noise_suppression=noise_suppression,
                high_pass_filter=True,
                auto_gain_control=gain_control,
            )
        except Exception as err:  # an import or a native library that will not load
            raise EngineError(f"livekit's AudioProcessingModule will not start ({err})") from err
        self._far = FarEnd()
        self._far_pending = np.zeros(0, np.int16)
        self._near_pending = np.zeros(0, np.int16)
        self._cleaned = np.zeros(0, np.int16)

    def far(self, samples: np.ndarray, rate: int) -> None:
        self._far.put(samples, rate)

    def near(self, chunk: AudioChunk) -> AudioChunk:
        played = self._far.take(chunk.duration_s)
        if played.size:
            pcm = (np.clip(played, -1.0, 1.0) * 32767).astype(np.int16)
            # a microphone that fell behind must not leave the far end ever later
            self._far_pending = np.concatenate([self._far_pending, pcm])[-MAX_FAR:]
        self._near_pending = np.concatenate([self._near_pending, chunk.samples.astype(np.int16)])
        out: list[np.ndarray] = [self._cleaned]
        while len(self._near_pending) >= FRAME:
            # the far end is fed frame by frame alongside the near end it belongs with;
            # when the speaker is idle there is nothing to feed
            if len(self._far_pending) >= FRAME:
                self._process(self._far_pending[:FRAME], reverse=True)
                self._far_pending = self._far_pending[FRAME:]
            frame = self._near_pending[:FRAME].copy()
            self._near_pending = self._near_pending[FRAME:]
            out.append(self._process(frame, reverse=False))
        cleaned = np.concatenate(out)
        size = len(chunk.samples)
        if len(cleaned) < size:  # the first chunk only: 10 ms frames and 30 ms chunks align
            cleaned = np.concatenate([np.zeros(size - len(cleaned), np.int16), cleaned])
        self._cleaned = cleaned[size:]
        return AudioChunk(cleaned[:size], chunk.rate, chunk.start_s)

    def speaker_quiet_s(self) -> float:
        return self._far.quiet_s

    def _process(self, frame: np.ndarray, reverse: bool) -> np.ndarray:
        audio = self._rtc.AudioFrame(frame.tobytes(), SAMPLE_RATE, 1, FRAME)
        if reverse:
            self._apm.process_reverse_stream(audio)
            return frame
        self._apm.process_stream(audio)
        return np.frombuffer(bytes(audio.data), np.int16)
