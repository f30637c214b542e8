"""Microphone and speaker through sounddevice (PortAudio), opened by name."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from companion.audio.base import CHUNK_S, apply_cap, to_chunks
from companion.audio.resample import resample
from companion.errors import AudioDeviceError
from companion.messages import AudioChunk

logger = logging.getLogger(__name__)


def sounddevice() -> ModuleType:
    """Import sounddevice, or explain how to install PortAudio."""
    try:
        import sounddevice as sd
    except OSError:
        raise AudioDeviceError(
            "PortAudio is not installed: run `sudo apt-get install libportaudio2`"
        ) from None
    return sd


def list_devices() -> list[dict[str, Any]]:
    """Every audio device PortAudio sees."""
    sd = sounddevice()
    return [dict(d, index=i) for i, d in enumerate(sd.query_devices())]


def find_device(wanted: str, kind: str) -> dict[str, Any]:
    """The input or output device whose name contains `wanted` ("" or "default": the default)."""
    sd = sounddevice()
    channels = "max_input_channels" if kind == "input" else "max_output_channels"
    setting = "audio.input_device" if kind == "input" else "audio.output_device"
    what = "microphone" if kind == "input" else "speaker"
    try:
        devices = list_devices()
        if not wanted or wanted.lower() == "default":
            index = sd.default.device[0 if kind == "input" else 1]
            if index is None or index < 0:
                raise AudioDeviceError(
                    f"no {what} found ({setting} is the default); "
                    "plug one in or pick one from `companion devices`"
                )
            return devices[index]
    except sd.PortAudioError as err:
        raise AudioDeviceError(
            f"cannot list sound devices ({err}); see `companion devices`"
        ) from None
    matches = [d for d in devices if wanted.lower() in d["name"].lower() and d[channels] > 0]
    if not matches:
        raise AudioDeviceError(
            f'{setting}: no {what} named "{wanted}"; pick one from `companion devices`'
        )
    return matches[0]


class DeviceInput:
    """A microphone: mono capture at the device's own rate, resampled to 16 kHz."""

    def __init__(self, device: str = "") -> None:
        self._sd = sounddevice()
        info = find_device(device, "input")
        self.name = info["name"]
        self.rate = int(info["default_samplerate"])
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=200)
        self._closed = threading.Event()
        try:
            self._stream = self._sd.InputStream(
                device=info["index"],
                channels=1,
                samplerate=self.rate,
                dtype="float32",
                blocksize=int(self.rate * CHUNK_S),
                callback=self._callback,
            )
            self._stream.start()
        except self._sd.PortAudioError as err:
            raise AudioDeviceError(
                f'audio.input_device: cannot open "{self.name}" ({err}); see `companion devices`'
            ) from None
        logger.info("microphone: %s at %d Hz", self.name, self.rate)

    def _callback(self, data: np.ndarray, frames: int, when: Any, status: Any) -> None:
        if status:
            logger.debug("input status: %s", status)
        try:
            self._queue.put_nowait(data[:, 0].copy())
        except queue.Full:
            logger.warning("input overflow: dropped %d frames", frames)

    def chunks(self) -> Iterator[AudioChunk]:
        return to_chunks(self._blocks(), self.rate)

    def _blocks(self) -> Iterator[np.ndarray]:
        while not self._closed.is_set():
            try:
                block = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if block is None:
                return
            yield block

    def close(self) -> None:
        self._closed.set()
        self._queue.put(None)
        self._stream.close()


class DeviceOutput:
    """A speaker: audio resampled to the device's rate, played from a queue, capped."""

    def __init__(self, device: str = "", cap: float = 1.0) -> None:
        self._sd = sounddevice()
        info = find_device(device, "output")
        self.name = info["name"]
        self.rate = int(info["default_samplerate"])
        self.cap = cap
        self.volume = 1.0
        self._lock = threading.Lock()
        self._buffer: list[np.ndarray] = []
        self._offset = 0
        self._idle = threading.Event()
        self._idle.set()
        try:
            self._stream = self._sd.OutputStream(
                device=info["index"],
                channels=1,
                samplerate=self.rate,
                dtype="float32",
                blocksize=int(self.rate * 0.02),
                callback=self._callback,
            )
            self._stream.start()
        except self._sd.PortAudioError as err:
            raise AudioDeviceError(
                f'audio.output_device: cannot open "{self.name}" ({err}); see `companion devices`'
            ) from None
        logger.info("speaker: %s at %d Hz", self.name, self.rate)

    def _callback(self, out: np.ndarray, frames: int, when: Any, status: Any) -> None:
        filled = 0
        with self._lock:
            while filled < frames and self._buffer:
                head = self._buffer[0]
                take = min(frames - filled, len(head) - self._offset)
                out[filled : filled + take, 0] = head[self._offset : self._offset + take]
                filled += take
                self._offset += take
                if self._offset >= len(head):
                    self._buffer.pop(0)
                    self._offset = 0
            if not self._buffer:
                self._idle.set()
        out[filled:, 0] = 0.0

    def play(self, samples: np.ndarray, rate: int) -> None:
        data = apply_cap(resample(samples, rate, self.rate), self.volume, self.cap)
        with self._lock:
            self._buffer.append(data)
            self._idle.clear()

    def wait(self) -> None:
        while not self._idle.wait(timeout=0.1):
            pass
        # let the last block leave the device's own buffer
        self._idle.wait(timeout=self._stream.latency + 0.05)

    def stop(self) -> None:
        with self._lock:
            self._buffer.clear()
            self._offset = 0
            self._idle.set()

    def close(self) -> None:
        self.stop()
        self._stream.close()
