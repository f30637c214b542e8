"""Vosk (Kaldi) with a model folder: grammar-restricted recognition with an open fallback."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from companion.errors import EngineError
from companion.messages import Grammar, Transcript
from companion.speech.pocketsphinx_engine import combine
from companion.speech.stt import vosk_model_problem

logger = logging.getLogger(__name__)


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
            rec = self._vosk.KaldiRecognizer(self._model, 16000, json.dumps(phrases))
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
