"""A keyword spotter on microWakeWord models (pymicro-wakeword, TensorFlow Lite on the CPU).

The companion ships one: the "stop" model in `keywords/`, heard while it is speaking.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Final

import numpy as np

from companion.errors import EngineError

logger = logging.getLogger(__name__)

STOP_MODEL: Final = Path(__file__).parent / "keywords" / "stop.json"
"""The vendored microWakeWord "stop" model's manifest (Apache-2.0, see keywords/README.md)."""
REFRACTORY_S: Final = 1.0
"""After a detection, the same word is not reported again for this much audio."""


class MicroWakeWordSpotter:
    """One microWakeWord model; `hear` is fed 16 kHz int16 audio in any block size."""

    def __init__(self, manifest: Path = STOP_MODEL, cutoff: float | None = None) -> None:
        try:
            from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures
        except ImportError as err:  # pragma: no cover - a broken install
            raise EngineError(f"pymicro-wakeword is not installed ({err})") from err
        try:
            settings = json.loads(manifest.read_text(encoding="utf-8"))
            self.keyword = str(settings["wake_word"]).lower()
            if not (manifest.parent / settings["model"]).is_file():
                raise FileNotFoundError(manifest.parent / settings["model"])
            self._model: Any = MicroWakeWord.from_config(manifest)
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise EngineError(f"{manifest}: not a microWakeWord model ({err})") from err
        self._features_type = MicroWakeWordFeatures
        self._features: Any = MicroWakeWordFeatures()
        self.cutoff = self._model.probability_cutoff if cutoff is None else cutoff
        self.name = f"microWakeWord {manifest.stem}"
        self._quiet_samples = 0
        self.probability = 0.0
        """The last smoothed probability (for logs and the bench)."""

    def hear(self, samples: np.ndarray) -> bool:
        heard = False
        for features in self._features.process_streaming(samples.astype("<i2").tobytes()):
            probability = self._model.process_streaming_prob(features)
            if probability is None:
                continue
            self.probability = probability
            if probability > self.cutoff and self._quiet_samples <= 0:
                heard = True
                self._quiet_samples = int(16_000 * REFRACTORY_S)
        self._quiet_samples -= len(samples)
        return heard

    def reset(self) -> None:
        self._model.reset()
        self._features = self._features_type()
        self._quiet_samples = 0
        self.probability = 0.0


def open_stop_spotter(manifest: Path = STOP_MODEL) -> MicroWakeWordSpotter | None:
    """The "stop" spotter, or None with one line naming the file ("stop" is then heard by
    the recognizer alone)."""
    try:
        return MicroWakeWordSpotter(manifest)
    except EngineError as err:
        logger.warning('%s; "stop" while speaking is heard by the recognizer alone', err.message)
        return None
