"""Piper neural voices through onnxruntime: one chunk per sentence."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from companion.errors import EngineError

logger = logging.getLogger(__name__)


class PiperEngine:
    """A loaded piper voice. `rate` > 1 speaks faster (piper's length scale is its inverse)."""

    def __init__(
        self, model: Path, name: str, threads: int | None = None, deterministic: bool = False
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
            session = onnxruntime.InferenceSession(
                str(model), sess_options=options, providers=["CPUExecutionProvider"]
            )
            self._voice = PiperVoice(config=PiperConfig.from_dict(config), session=session)
        except (OSError, ValueError, KeyError) as err:
            raise EngineError(f"{model}: cannot load this piper voice ({err})") from None
        except Exception as err:  # onnxruntime raises its own exception types
            raise EngineError(f"{model}: not a usable piper voice ({err})") from None
        self.sample_rate = self._voice.config.sample_rate
        self._synthesis_config = SynthesisConfig
        # no sampling noise: the same text gives the same audio (for tests and benchmarks)
        self._noise = {"noise_scale": 0.0, "noise_w_scale": 0.0} if deterministic else {}
        logger.info("voice: %s (%s), %d threads", name, os.path.basename(model), threads)

    def synthesize(self, text: str, rate: float = 1.0) -> Iterator[np.ndarray]:
        config = self._synthesis_config(length_scale=1.0 / max(0.25, rate), **self._noise)
        for chunk in self._voice.synthesize(text, syn_config=config):
            yield chunk.audio_float_array

    def warm(self) -> None:
        """One short synthesis, so the first real reply does not pay for allocation."""
        for _ in self.synthesize("Hello."):
            pass
