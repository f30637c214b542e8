"""Errors a person can fix: each carries a code and one human sentence."""

from __future__ import annotations


class CompanionError(Exception):
    """A mistake in input, config or setup, reported as one line without a traceback."""

    code: str = "error"
    exit_code: int = 2

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(CompanionError):
    """The parents' config has one or more problems (one line each)."""

    code = "config"

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        self.problems = list(problems)
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__("\n".join(where + p for p in self.problems))


class AudioFileError(CompanionError):
    """A WAV file is missing, empty, corrupt or not 16-bit PCM."""

    code = "audio_file"


class AudioDeviceError(CompanionError):
    """A microphone or speaker cannot be opened."""

    code = "audio_device"


class EngineError(CompanionError):
    """A speech engine, model or voice cannot be loaded."""

    code = "engine"


class AudioDeviceLost(AudioDeviceError):
    """A device that was working went away (unplugged, or its stream failed)."""

    code = "audio_device_lost"

    def __init__(self, message: str, played_s: float = 0.0) -> None:
        super().__init__(message)
        self.played_s = played_s
        """How much of what was queued had been played when it was lost, in seconds."""
