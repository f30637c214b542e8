"""Reading and writing WAV files, with one-line errors for anything unusable."""

from __future__ import annotations

import os
import tempfile
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import numpy as np

from companion.errors import AudioFileError

MIN_RATE: Final = 8_000
MAX_RATE: Final = 192_000
_FIX = "save it as 16-bit PCM WAV (e.g. sox {name} -b 16 -e signed-integer fixed.wav)"
_FORMATS: Final = {
    2: "ADPCM",
    3: "floating-point samples",
    6: "A-law",
    7: "mu-law",
    17: "IMA ADPCM",
    85: "MP3",
    65534: "extensible format",
}
"""Names of the WAV format codes people meet, for the error line."""


class WavReader:
    """A validated 16-bit PCM WAV file, read in blocks as mono float32."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        name = self.path.name
        fix = _FIX.format(name=name)
        if not self.path.exists():
            raise AudioFileError(f"{self.path}: no such file")
        if not self.path.is_file():
            raise AudioFileError(f"{self.path}: not a file")
        if self.path.stat().st_size == 0:
            raise AudioFileError(f"{self.path}: the file is empty")
        try:
            self._wav = wave.open(str(self.path), "rb")  # noqa: SIM115 - closed by close()
        except wave.Error as err:
            reason = str(err)
            if reason.startswith("unknown format: "):
                code = reason.removeprefix("unknown format: ")
                what = _FORMATS.get(int(code) if code.isdigit() else -1, f"format {code}")
                raise AudioFileError(f"{self.path}: not PCM audio ({what}); {fix}") from None
            raise AudioFileError(
                f"{self.path}: not a readable WAV file ({reason}); {fix}"
            ) from None
        except PermissionError:
            raise AudioFileError(f"{self.path}: cannot be read (check its permissions)") from None
        except (EOFError, OSError):
            raise AudioFileError(f"{self.path}: damaged or truncated WAV file; {fix}") from None
        self.rate = self._wav.getframerate()
        self.channels = self._wav.getnchannels()
        width = self._wav.getsampwidth()
        if width != 2:
            self._wav.close()
            raise AudioFileError(f"{self.path}: {8 * width}-bit samples, not 16-bit; {fix}")
        if not MIN_RATE <= self.rate <= MAX_RATE:
            self._wav.close()
            raise AudioFileError(f"{self.path}: sample rate {self.rate} Hz is not supported; {fix}")
        if self._wav.getnframes() == 0:
            self._wav.close()
            raise AudioFileError(f"{self.path}: the file has no audio in it")

    @property
    def duration_s(self) -> float:
        return self._wav.getnframes() / self.rate

    def blocks(self, frames: int) -> Iterator[np.ndarray]:
        """Yield mono float32 blocks of up to `frames` frames until the data ends."""
        while True:
            try:
                raw = self._wav.readframes(frames)
            except (EOFError, wave.Error, OSError):
                return
            usable = len(raw) - len(raw) % (2 * self.channels)
            if usable <= 0:
                return
            data = np.frombuffer(raw[:usable], dtype="<i2").astype(np.float32) / 32768.0
            if self.channels > 1:
                data = data.reshape(-1, self.channels).mean(axis=1)
            yield data

    def read_all(self, max_s: float | None = None) -> np.ndarray:
        """The whole file (or its first `max_s` seconds) as mono float32."""
        limit = None if max_s is None else int(max_s * self.rate)
        parts: list[np.ndarray] = []
        total = 0
        for block in self.blocks(self.rate):
            parts.append(block)
            total += len(block)
            if limit is not None and total >= limit:
                break
        samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        if len(samples) == 0:
            raise AudioFileError(f"{self.path}: the file has no audio in it")
        return samples[:limit] if limit is not None else samples

    def close(self) -> None:
        self._wav.close()

    def __enter__(self) -> WavReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_wav(path: str | os.PathLike[str], max_s: float | None = None) -> tuple[np.ndarray, int]:
    """Mono float32 samples and their rate."""
    with WavReader(path) as reader:
        return reader.read_all(max_s), reader.rate


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, rate: int) -> None:
    """Write mono float32 audio as 16-bit PCM, atomically (a temp file renamed into place)."""
    target = Path(path)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "wb") as handle, wave.open(handle, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(pcm)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class WavWriter:
    """Mono 16-bit PCM written as it comes, into a temp file renamed into place on close.

    Nothing is kept in memory, and the target never holds half a file. A target that is not a
    regular file (such as /dev/null) is written directly.
    """

    def __init__(self, path: str | os.PathLike[str], rate: int) -> None:
        self.target = Path(path)
        self._tmp: str | None = None
        try:
            if self.target.exists() and not self.target.is_file():
                handle = self.target.open("wb")
            else:
                fd, self._tmp = tempfile.mkstemp(
                    prefix=f".{self.target.name}.", dir=self.target.parent or "."
                )
                handle = os.fdopen(fd, "wb")
        except OSError as err:
            raise AudioFileError(f"{path}: cannot write ({err.strerror})") from None
        self._handle = handle
        self._wave = wave.open(handle, "wb")  # noqa: SIM115 (open until close())
        self._wave.setnchannels(1)
        self._wave.setsampwidth(2)
        self._wave.setframerate(rate)

    def write(self, samples: np.ndarray) -> None:
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        try:
            self._wave.writeframes(pcm)
        except OSError as err:
            self.discard()
            raise AudioFileError(f"{self.target}: cannot write ({err.strerror})") from None

    def close(self) -> None:
        try:
            self._wave.close()
            self._handle.close()
            if self._tmp is not None:
                os.replace(self._tmp, self.target)
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        """Drop what was written (the target is left as it was)."""
        self._handle.close()
        if self._tmp is not None:
            Path(self._tmp).unlink(missing_ok=True)
