"""Vosk (Kaldi) with a model folder: grammar-restricted recognition with an open fallback."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from companion.errors import EngineError
from companion.messages import Grammar, Transcript
from companion.speech.stt import combine

logger = logging.getLogger(__name__)


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
        for candidate in sorted(place.glob("vosk-model*")):
            if is_vosk_model(candidate) and ("en" in candidate.name or "small" in candidate.name):
                return candidate, f"found {candidate}"
    looked = ", ".join(str(p) for p in vosk_model_dirs(voices_dir))
    return None, f"no vosk model in {looked}"


class VoskEngine:
    """One vosk model; a recognizer per grammar (with "[unk]") and one without a grammar."""

    name = "vosk"

    def __init__(self, model_path: Path) -> None:
        problem = vosk_model_problem(model_path)
        if problem is not None:
            raise EngineError(f"{model_path}: not a vosk model folder ({problem})")
        import vosk

        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self.model_path = model_path
        self._model = vosk.Model(str(model_path))
        self._restricted: dict[tuple[str, ...], object] = {}
        self._open = vosk.KaldiRecognizer(self._model, 16000)
        self._grammar = Grammar("idle")
        self._current = None
        self._use_open = True

    def _recognizer(self, grammar: Grammar):
        if not grammar.phrases:
            return None
        rec = self._restricted.get(grammar.phrases)
        if rec is None:
            phrases = [p.lower() for p in grammar.phrases] + ["[unk]"]
            rec = self._vosk.KaldiRecognizer(
                self._model, 16000, json.dumps(phrases, ensure_ascii=False)
            )
            rec.SetWords(True)
            self._restricted[grammar.phrases] = rec
        return rec

    def prepare(self, grammar: Grammar) -> None:
        self._recognizer(grammar)

    def start(self, grammar: Grammar) -> None:
        self._grammar = grammar
        self._current = self._recognizer(grammar)
        self._use_open = grammar.open or self._current is None
        if self._current is not None:
            self._current.Reset()
        self._open.Reset()

    def feed(self, samples: np.ndarray) -> None:
        data = np.asarray(samples, dtype="<i2").tobytes()
        if self._current is not None:
            self._current.AcceptWaveform(data)
        if self._use_open:
            self._open.AcceptWaveform(data)

    def partial(self) -> str:
        rec = self._current if self._current is not None else self._open
        return json.loads(rec.PartialResult()).get("partial", "")

    def finish(self) -> Transcript:
        restricted = opened = ""
        if self._current is not None:
            result = json.loads(self._current.FinalResult())
            restricted = result.get("text", "").replace("[unk]", "").strip()
            if "[unk]" in result.get("text", "") and not self._use_open:
                restricted = ""
        if self._use_open:
            opened = json.loads(self._open.FinalResult()).get("text", "")
        return combine(
            restricted,
            opened,
            self._current is not None,
            self._use_open,
            self.name,
            self._grammar.prefix,
            self._grammar.phrases,
        )

    def close(self) -> None:
        self._restricted.clear()
