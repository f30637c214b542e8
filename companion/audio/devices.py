"""Microphone and speaker through sounddevice (PortAudio), opened by name."""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, Final

import numpy as np

from companion.audio.base import CHUNK_S, apply_cap, to_chunks
from companion.audio.resample import resample
from companion.audio.soundserver import server_device
from companion.errors import AudioDeviceError, AudioDeviceLost
from companion.messages import AudioChunk

logger = logging.getLogger(__name__)

DEAD_MIC_S: Final = 3.0
"""No frames, or nothing but digital zeros, this long: the microphone is reopened."""
STALLED_SPEAKER_S: Final = 1.5
"""Audio queued but none played this long (not counting time spent computing): the speaker is
reopened."""
STALLED_SPEAKER_MAX_S: Final = 10.0
RETRY_S: Final = 0.5
"""Pause between attempts to reopen a lost device."""


def sounddevice() -> ModuleType:
    """Import sounddevice, or explain how to install PortAudio."""
    _quiet_alsa()  # before PortAudio starts, which is when ALSA says most
    try:
        import sounddevice as sd
    except OSError:
        raise AudioDeviceError(
            "PortAudio is not installed: run `sudo apt-get install libportaudio2`"
        ) from None
    return sd


_ALSA_HANDLER: list[Any] = []
"""The C callback given to ALSA (kept alive for as long as the process runs)."""


def _quiet_alsa() -> None:
    """ALSA's own messages ("underrun occurred", "unknown PCM") go to the debug log, not to
    the console or the journal, where they read as hardware faults."""
    if _ALSA_HANDLER:
        return
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("asound")
    if name is None:
        _ALSA_HANDLER.append(None)
        return
    handler_type = ctypes.CFUNCTYPE(
        None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
    )

    def handler(file: bytes, line: int, function: bytes, err: int, fmt: bytes) -> None:
        logger.debug("ALSA %s: %s", (function or b"").decode(errors="replace"), err)

    try:
        callback = handler_type(handler)
        ctypes.CDLL(name).snd_lib_error_set_handler(callback)
    except (OSError, AttributeError):
        callback = None
    _ALSA_HANDLER.append(callback)


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
        served = server_device(wanted, kind)
        through = [d for d in devices if d["name"] == "pulse" and d[channels] > 0]
        if served is not None and through:
            # the sound server's sink or source, reached through its one PortAudio device
            os.environ["PULSE_SOURCE" if kind == "input" else "PULSE_SINK"] = served.name
            logger.info(
                '%s: "%s" (%s) through the sound server', what, served.name, served.description
            )
            return through[0]
        raise AudioDeviceError(
            f'{setting}: no {what} named "{wanted}"; pick one from `companion devices`'
        )
    return matches[0]


_reinit_lock = threading.Lock()
_open_devices: list[_Device] = []


def reinitialize() -> None:
    """Restart PortAudio so it sees cards plugged in since it started.

    Every open stream dies with it: each device notices and reopens itself by name.
    """
    sd = sounddevice()
    with _reinit_lock:
        for device in list(_open_devices):
            device._drop_stream()
        sd._terminate()
        sd._initialize()
    logger.info("sound system restarted to look for devices")


class _Device:
    """A stream opened by name that can be lost and opened again."""

    kind = "input"

    def __init__(self, device: str) -> None:
        self._sd = sounddevice()
        self.wanted = device
        self._closed = threading.Event()
        self._failed = threading.Event()
        self._stream: Any = None
        self._generation = 0
        self.recoveries = 0
        self._open()
        _open_devices.append(self)

    def _make_stream(self, info: dict[str, Any], finished: Callable[[], None]) -> Any:
        raise NotImplementedError

    def _open(self) -> None:
        info = find_device(self.wanted, self.kind)
        self.name = info["name"]
        self.rate = int(info["default_samplerate"])
        setting = f"audio.{self.kind}_device"
        self._generation += 1
        try:
            stream = self._make_stream(info, self._finished_hook(self._generation))
            stream.start()
        except self._sd.PortAudioError as err:
            raise AudioDeviceError(
                f'{setting}: cannot open "{self.name}" ({err}); see `companion devices`'
            ) from None
        self._failed.clear()
        self._stream = stream

    def _finished_hook(self, generation: int) -> Callable[[], None]:
        # PortAudio may report an old stream finished after its successor opened: ignore it
        def finished() -> None:
            if generation == self._generation and not self._closed.is_set():
                self._failed.set()

        return finished

    def _drop_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close(ignore_errors=True)
            except Exception as err:  # PortAudio may already have let go of it
                logger.debug("closing a lost stream: %s", err)

    def recover(self, why: str, level: int = logging.WARNING) -> bool:
        """Reopen by name until it works (True) or the device is closed (False)."""
        what = "microphone" if self.kind == "input" else "speaker"
        logger.log(level, "%s %s: %s; reopening", what, self.wanted or self.name, why)
        started = time.monotonic()
        attempt = 0
        while not self._closed.is_set():
            self._drop_stream()
            if attempt and attempt % 4 == 0:  # a replugged card appears only after a restart
                reinitialize()
            try:
                self._open()
            except AudioDeviceError as err:
                if attempt == 0:
                    logger.warning("%s; trying again every %.1f s", err.message, RETRY_S)
                attempt += 1
                self._closed.wait(RETRY_S)
                continue
            self.recoveries += 1
            logger.info("%s back after %.1f s", what, time.monotonic() - started)
            return True
        return False

    def close(self) -> None:
        self._closed.set()
        if self in _open_devices:
            _open_devices.remove(self)
        self._drop_stream()


class DeviceInput(_Device):
    """A microphone: mono capture at the device's own rate, resampled to 16 kHz.

    A microphone that goes quiet (no frames, or nothing but digital zeros, which no real
    microphone gives) or fails is reopened by name; the chunks just carry on.
    """

    kind = "input"

    def __init__(self, device: str = "") -> None:
        self._queue: queue.Queue[np.ndarray | None] = queue.Queue(maxsize=200)
        super().__init__(device)
        logger.info("microphone: %s at %d Hz", self.name, self.rate)

    def _make_stream(self, info: dict[str, Any], finished: Callable[[], None]) -> Any:
        return self._sd.InputStream(
            device=info["index"],
            channels=1,
            samplerate=self.rate,
            dtype="float32",
            blocksize=int(self.rate * CHUNK_S),
            callback=self._callback,
            finished_callback=finished,
        )

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
        # what was captured while the models loaded is stale: listening starts from now
        # (and its zeros must not count towards reopening a microphone that is fine)
        stale = 0
        while True:
            try:
                stale += self._queue.get_nowait() is not None
            except queue.Empty:
                break
        if stale:
            logger.debug("microphone: %d blocks from before listening dropped", stale)
        heard = time.monotonic()
        zeros_s = 0.0
        reopened_for_zeros = silent = False
        while not self._closed.is_set():
            try:
                block = self._queue.get(timeout=0.2)
            except queue.Empty:
                block = None
            else:
                if block is None:
                    return
                heard = time.monotonic()
                if block.any():
                    if silent:
                        logger.info("microphone %s: sound again", self.wanted or self.name)
                    zeros_s, reopened_for_zeros, silent = 0.0, False, False
                else:
                    zeros_s += len(block) / self.rate
                yield block
            why = None
            if self._failed.is_set():
                why = "the stream stopped"
            elif time.monotonic() - heard >= DEAD_MIC_S:
                why = f"no sound for {DEAD_MIC_S:.0f} s"
            elif zeros_s >= DEAD_MIC_S and not silent:
                if reopened_for_zeros:  # still nothing: muted, not broken; say so once
                    silent = True
                    logger.warning(
                        "microphone %s gives only silence (muted, or a virtual source?); "
                        "listening on",
                        self.wanted or self.name,
                    )
                    continue
                reopened_for_zeros = True  # a glitched USB microphone comes back when reopened
                if not self.recover(f"only digital zeros for {zeros_s:.0f} s", logging.INFO):
                    return
                heard, zeros_s = time.monotonic(), 0.0
                continue
            if why is not None:
                if not self.recover(why):
                    return
                heard, zeros_s = time.monotonic(), 0.0

    def close(self) -> None:
        super().close()
        self._queue.put(None)


class DeviceOutput(_Device):
    """A speaker: audio resampled to the device's rate, played from a queue, capped.

    `queued_s` and `played_s` count seconds of audio since it was opened; when the speaker is
    lost, wait() and play() raise AudioDeviceLost carrying how far playing had got.
    """

    kind = "output"

    def __init__(self, device: str = "", cap: float = 1.0) -> None:
        self.cap = cap
        self.volume = 1.0
        self._lock = threading.Lock()
        self._buffer: list[np.ndarray] = []
        self._offset = 0
        self._queued = 0
        self._played = 0
        self._idle = threading.Event()
        self._idle.set()
        self.on_progress: Callable[[], None] | None = None
        """Called while audio is really leaving the speaker (feeds the service watchdog)."""
        self.on_played: Callable[[np.ndarray, int], None] | None = None
        """Called from the device's thread with every block as it is played (the echo
        canceller's far end)."""
        self.gain = 1.0
        """Set by duck(): applied as the audio leaves, so it takes effect within a block."""
        super().__init__(device)
        logger.info("speaker: %s at %d Hz", self.name, self.rate)

    def _make_stream(self, info: dict[str, Any], finished: Callable[[], None]) -> Any:
        return self._sd.OutputStream(
            device=info["index"],
            channels=1,
            samplerate=int(info["default_samplerate"]),
            dtype="float32",
            blocksize=int(info["default_samplerate"] * 0.02),
            callback=self._callback,
            finished_callback=finished,
        )

    @property
    def queued_s(self) -> float:
        return self._queued / self.rate

    @property
    def played_s(self) -> float:
        return self._played / self.rate

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
            self._played += filled
            if not self._buffer:
                self._idle.set()
        out[filled:, 0] = 0.0
        if self.gain != 1.0:
            out *= self.gain
        if self.on_played is not None:
            self.on_played(out[:, 0].copy(), self.rate)

    def duck(self, gain: float) -> None:
        """Play at `gain` (1.0 is the level asked for) from the next block on."""
        self.gain = max(0.0, min(1.0, gain))

    def _lost(self, how: str = "was lost") -> AudioDeviceLost:
        return AudioDeviceLost(f'speaker "{self.name}" {how}', self.played_s)

    def play(self, samples: np.ndarray, rate: int) -> None:
        if self._failed.is_set() or self._stream is None:
            raise self._lost()
        data = apply_cap(resample(samples, rate, self.rate), self.volume, self.cap)
        with self._lock:
            self._buffer.append(data)
            self._queued += len(data)
            self._idle.clear()

    def wait(self) -> None:
        last, progress, computed = self._played, time.monotonic(), time.process_time()
        while not self._idle.wait(timeout=0.1):
            if self._failed.is_set() or self._stream is None:
                raise self._lost()
            if self._played != last:
                last, progress, computed = self._played, time.monotonic(), time.process_time()
                if self.on_progress is not None:
                    self.on_progress()
                continue
            waited = time.monotonic() - progress
            # time this process spent computing (a reply, a decode) starves the device's
            # thread on a small board: it is not the speaker's fault
            busy = time.process_time() - computed
            if waited - busy > STALLED_SPEAKER_S or waited > STALLED_SPEAKER_MAX_S:
                self._failed.set()
                raise self._lost(f"played nothing for {waited:.1f} s")
        # let the last block leave the device's own buffer
        stream = self._stream
        self._idle.wait(timeout=(stream.latency if stream is not None else 0.0) + 0.05)

    def recover(self, why: str = "it stopped playing") -> bool:
        """Drop what was queued and reopen; counters start again from zero."""
        self.stop()
        with self._lock:
            self._queued = self._played = 0
        return super().recover(why)

    def stop(self) -> None:
        with self._lock:
            self._buffer.clear()
            self._offset = 0
            self._queued = self._played
            self._idle.set()
