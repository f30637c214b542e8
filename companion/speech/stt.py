"""The speech-to-text interface, and choosing an engine (`auto`: vosk if a model is found)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import numpy as np

from companion.messages import Grammar, Transcript

logger = logging.getLogger(__name__)


class SpeechToText(Protocol):
    """A streaming recognizer: start with a grammar, feed 16 kHz int16 audio, finish."""

    name: str

    def start(self, grammar: Grammar) -> None: ...

    def feed(self, samples: np.ndarray) -> None: ...

    def partial(self) -> str:
        """The best guess so far (may change)."""
        ...

    def finish(self) -> Transcript: ...


def vosk_model_dirs(voices_dir: Path) -> list[Path]:
    """Where vosk models are looked for, in order: voices/, then vosk's own places."""
    places = [voices_dir]
    env = os.environ.get("VOSK_MODEL_PATH")
    if env:
        places.append(Path(env))
    places += [Path("/usr/share/vosk"), Path.home() / ".cache" / "vosk"]
    return places


def is_vosk_model(path: Path) -> bool:
    return path.is_dir() and any((path / part).is_file() for part in ("am/final.mdl", "final.mdl"))


def vosk_model_problem(path: Path) -> str | None:
    """Why `path` is not a vosk model folder, in a few words (None: it is one)."""
    if is_vosk_model(path):
        return None
    if not path.exists():
        return "it does not exist"
    if not path.is_dir():
        return "it is a file, not the unpacked model folder"
    try:
        inner = sorted(p for p in path.iterdir() if is_vosk_model(p))
    except OSError as err:
        return f"it cannot be read ({err.strerror})"
    if inner:
        return f"no am/final.mdl in it; did you mean {inner[0]}?"
    return "no am/final.mdl in it"


def find_vosk_model(setting: str, voices_dir: Path) -> tuple[Path | None, str]:
    """The vosk model folder to use, and why (or why none)."""
    if setting:
        path = Path(setting).expanduser()
        problem = vosk_model_problem(path)
        if problem is None:
            return path, f"speech.vosk_model is {path}"
        return None, f"speech.vosk_model: {path} is not a vosk model folder ({problem})"
    for place in vosk_model_dirs(voices_dir):
        if not place.is_dir():
            continue
        candidates: Iterable[Path] = sorted(place.glob("vosk-model*"))
        for candidate in candidates:
            if is_vosk_model(candidate) and ("en" in candidate.name or "small" in candidate.name):
                return candidate, f"found {candidate}"
    looked = ", ".join(str(p) for p in vosk_model_dirs(voices_dir))
    return None, f"no vosk model in {looked}"


def open_recognizer(engine: str, vosk_model: str, voices_dir: Path) -> SpeechToText:
    """Load the configured engine; vosk falls back to pocketsphinx with a logged reason."""
    from companion.speech.pocketsphinx_engine import PocketsphinxEngine

    if engine == "pocketsphinx":
        logger.info("speech-to-text: pocketsphinx (chosen in the config)")
        return PocketsphinxEngine()
    model, why = find_vosk_model(vosk_model, voices_dir)
    if model is not None:
        try:
            from companion.speech.vosk_engine import VoskEngine

            recognizer = VoskEngine(model)
        except Exception as err:  # a broken model folder must not stop bedtime
            why = f"vosk could not load {model}: {err}"
        else:
            logger.info("speech-to-text: vosk (%s)", why)
            return recognizer
    level = logging.WARNING if engine == "vosk" else logging.INFO
    logger.log(level, "speech-to-text: pocketsphinx, its bundled US-English model (%s)", why)
    return PocketsphinxEngine()
