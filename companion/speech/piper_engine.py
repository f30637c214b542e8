"""Piper neural voices through onnxruntime: one chunk per sentence."""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from companion.errors import EngineError

logger = logging.getLogger(__name__)

LONG_SENTENCE_WORDS = 12
"""Longer sentences are spoken clause by clause: the voice's working memory grows with the
length of what it says at once (~20 MB per second of audio), and the first clause plays sooner."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+")


def pieces(text: str) -> list[str]:
    """Sentences, with long ones split after their commas (each piece keeps 4+ words)."""
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text.strip()):
        if len(sentence.split()) <= LONG_SENTENCE_WORDS:
            out.append(sentence)
            continue
        current = ""
        for clause in _CLAUSE_END.split(sentence):
            current = f"{current} {clause}".strip()
            if len(current.split()) >= 4:
                out.append(current)
                current = ""
        if current:
            if out:
                out[-1] = f"{out[-1]} {current}"
            else:
                out.append(current)
    return [p for p in out if p]


def _session(ort: Any, model: Path, options: Any, cache: Path | None) -> Any:
    """An inference session, from a cached pre-optimized copy of the model when there is one.

    Optimizing the graph is most of the loading time; the optimized copy (portable: no
    machine-specific kernels) loads in about two thirds of the time and gives the same audio.
    """
    providers = ["CPUExecutionProvider"]
    if cache is None:
        return ort.InferenceSession(str(model), sess_options=options, providers=providers)
    stat = model.stat()
    copy = cache / f"{model.stem}-{stat.st_size}-{stat.st_mtime_ns}-ort{ort.__version__}.onnx"
    if copy.is_file():
        level = options.graph_optimization_level
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(str(copy), sess_options=options, providers=providers)
        except Exception as err:  # a damaged copy is rebuilt from the voice itself
            logger.warning("%s: unusable (%s); rebuilding it", copy, err)
            copy.unlink(missing_ok=True)
            options.graph_optimization_level = level
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    try:
        cache.mkdir(parents=True, exist_ok=True)
        partial = copy.with_suffix(f".{os.getpid()}.part")
        options.optimized_model_filepath = str(partial)
        session = ort.InferenceSession(str(model), sess_options=options, providers=providers)
        os.replace(partial, copy)
        for old in cache.glob(f"{model.stem}-*.onnx"):  # copies of older versions of the voice
            if old != copy:
                old.unlink(missing_ok=True)
        logger.info("voice optimized once into %s", copy)
        return session
    except OSError as err:
        logger.info("voice not cached (%s); loading it the slower way", err)
        options.optimized_model_filepath = ""
        return ort.InferenceSession(str(model), sess_options=options, providers=providers)


class PiperEngine:
    """A loaded piper voice. `rate` > 1 speaks faster (piper's length scale is its inverse)."""

    def __init__(
        self,
        model: Path,
        name: str,
        threads: int | None = None,
        deterministic: bool = False,
        cache: Path | None = None,
    ) -> None:
        try:
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig, SynthesisConfig
        except ImportError as err:
            raise EngineError(f"piper is not installed ({err}): pip install piper-tts") from None
        self.name = name
        config_path = Path(f"{model}.json")
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            options = onnxruntime.SessionOptions()
            # while it speaks the companion is not listening (half duplex): the voice may use both
            # cores; the recognizer runs single-threaded anyway
            threads = threads or min(2, len(os.sched_getaffinity(0)))
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            # no arena: each sentence's working memory goes back at once (see cli: mallopt)
            options.enable_cpu_mem_arena = False
            session = _session(onnxruntime, model, options, cache)
            self._voice = PiperVoice(config=PiperConfig.from_dict(config), session=session)
        except (OSError, ValueError, KeyError) as err:
            raise EngineError(f"{model}: cannot load this piper voice ({err})") from None
        except Exception as err:  # onnxruntime raises its own exception types
            raise EngineError(f"{model}: not a usable piper voice ({err})") from None
        self.sample_rate = self._voice.config.sample_rate
        self._lock = threading.Lock()
        self._synthesis_config = SynthesisConfig
        # no sampling noise: the same text gives the same audio (for tests and benchmarks)
        self._noise = {"noise_scale": 0.0, "noise_w_scale": 0.0} if deterministic else {}
        logger.info("voice: %s (%s), %d threads", name, os.path.basename(model), threads)

    def synthesize(self, text: str, rate: float = 1.0) -> Iterator[np.ndarray]:
        config = self._synthesis_config(length_scale=1.0 / max(0.25, rate), **self._noise)
        for piece in pieces(text):
            # one synthesis at a time: two at once (a reply while the phrase cache fills) only
            # double the working memory, and the two cores are already in use by either
            with self._lock:
                audio = [
                    c.audio_float_array for c in self._voice.synthesize(piece, syn_config=config)
                ]
            yield from audio

    def warm(self) -> None:
        """One short synthesis, so the first real reply does not pay for allocation."""
        for _ in self.synthesize("Hello."):
            pass
