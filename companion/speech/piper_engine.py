"""Piper neural voices through onnxruntime, decoded in short windows as they are spoken."""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from companion.errors import EngineError
from companion.speech.tts import SENTENCE_PAUSE_S

logger = logging.getLogger(__name__)

CONTEXT_FRAMES: Final = 12
"""Frames of latent decoded on each side of a window and thrown away: the decoder's reach, so
windows join without a seam (measured: 12 frames give the whole-sentence audio to -130 dB)."""
FIRST_FRAMES: Final = 16
"""The first window of a sentence (~0.19 s of audio): it plays while the rest is decoded."""
MAX_FRAMES: Final = 128
"""The longest window (~1.5 s): the decoder's working memory stays the same for any sentence."""
CALIBRATION: Final = (
    "Once upon a time, a little owl looked up at the moon.",
    "Goodnight, sleep tight!",
    "What would you like to happen next?",
)
LIMIT: Final = 0.8
"""Above this level, peaks are rounded off softly rather than clipped."""


def windows(frames: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each decoding window: a short first one, then doubling to MAX_FRAMES."""
    start, size = 0, FIRST_FRAMES
    while start < frames:
        end = min(frames, start + size)
        yield start, end
        start, size = end, min(MAX_FRAMES, size * 2)


def soft_limit(audio: np.ndarray) -> np.ndarray:
    """Unchanged below LIMIT; above it, peaks approach 1.0 smoothly instead of clipping."""
    over = np.abs(audio) > LIMIT
    if over.any():
        room = 1.0 - LIMIT
        loud = audio[over]
        audio[over] = np.sign(loud) * (LIMIT + room * np.tanh((np.abs(loud) - LIMIT) / room))
    return audio


@dataclass(frozen=True, slots=True)
class Parts:
    """A voice cut where its decoder starts: text → latent frames, latent → audio."""

    encoder: bytes | Path
    decoder: bytes | Path
    latent: str
    """Name of the latent tensor (the decoder's input)."""


def split_voice(model: Path, folder: Path | None) -> Parts | None:
    """The voice in two parts, so audio can be decoded window by window; None if it can't be.

    Cutting needs the `onnx` package and a single-speaker VITS voice (every piper voice of one
    speaker); the parts are kept in `folder` when given. Anything else speaks whole sentences.
    """
    if folder is not None:
        meta = folder / "parts.json"
        try:
            latent = json.loads(meta.read_text(encoding="utf-8"))["latent"]
            encoder, decoder = folder / "encoder.onnx", folder / "decoder.onnx"
            if encoder.is_file() and decoder.is_file():
                return Parts(encoder, decoder, str(latent))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    try:
        import onnx
        from onnx.utils import Extractor
    except ImportError:
        logger.info("onnx is not installed: the voice speaks whole sentences (pip install onnx)")
        return None
    try:
        graph = onnx.load(str(model))
        inputs = [i.name for i in graph.graph.input]
        start = [n for n in graph.graph.node if n.op_type == "Conv" and "dec/conv_pre" in n.name]
        if "sid" in inputs or len(start) != 1 or len(graph.graph.output) != 1:
            logger.info("%s: not a voice that can be decoded in windows", model.name)
            return None
        latent = start[0].input[0]
        cut = Extractor(graph)
        encoder = cut.extract_model(inputs, [latent])
        decoder = cut.extract_model([latent], [graph.graph.output[0].name])
    except Exception as err:  # onnx raises its own exception types
        logger.info("%s: cannot be cut for decoding in windows (%s)", model.name, err)
        return None
    if folder is None:
        return Parts(encoder.SerializeToString(), decoder.SerializeToString(), latent)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, part in (("encoder.onnx", encoder), ("decoder.onnx", decoder)):
            partial = folder / f"{name}.{os.getpid()}.part"
            onnx.save(part, str(partial))
            os.replace(partial, folder / name)
        partial = folder / f"parts.json.{os.getpid()}.part"
        partial.write_text(json.dumps({"latent": latent}), encoding="utf-8")
        os.replace(partial, folder / "parts.json")
    except OSError as err:
        logger.info("voice parts not cached (%s)", err)
        return Parts(encoder.SerializeToString(), decoder.SerializeToString(), latent)
    return Parts(folder / "encoder.onnx", folder / "decoder.onnx", latent)


def _session(ort: Any, model: Path | bytes, options: Any, cache: Path | None) -> Any:
    """An inference session, from a cached pre-optimized copy of the model when there is one.

    Optimizing the graph is most of the loading time; the optimized copy (portable: no
    machine-specific kernels) loads in about two thirds of the time and gives the same audio.
    """
    providers = ["CPUExecutionProvider"]
    if isinstance(model, bytes):
        return ort.InferenceSession(model, sess_options=options, providers=providers)
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
    """A loaded piper voice. `rate` > 1 speaks faster (piper's length scale is its inverse).

    Each sentence's text becomes latent frames at once; the frames are decoded to audio in
    windows, so the first sound of a sentence is ready after a fraction of its synthesis and
    the working memory does not grow with its length.
    """

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
            from piper.config import PiperConfig
        except ImportError as err:
            raise EngineError(f"piper is not installed ({err}): pip install piper-tts") from None
        self.name = name
        config_path = Path(f"{model}.json")
        # while it speaks the companion is not listening (half duplex): the voice may use both
        # cores; the recognizer runs single-threaded anyway
        threads = threads or min(2, len(os.sched_getaffinity(0)))

        def options() -> Any:
            chosen = onnxruntime.SessionOptions()
            chosen.intra_op_num_threads = threads
            chosen.inter_op_num_threads = 1
            # no arena: each window's working memory goes back at once (see cli: mallopt)
            chosen.enable_cpu_mem_arena = False
            return chosen

        self._decoder: Any = None
        self._latent = ""
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            folder = None
            if cache is not None:
                stat = model.stat()
                folder = cache / f"{model.stem}-{stat.st_size}-{stat.st_mtime_ns}"
            parts = split_voice(model, folder)
            if parts is not None:
                self._session = _session(onnxruntime, parts.encoder, options(), folder)
                self._decoder = _session(onnxruntime, parts.decoder, options(), folder)
                self._latent = parts.latent
                if cache is not None and folder is not None:  # both, or neither
                    _forget_older(cache, model.stem, folder)
            else:
                self._session = _session(onnxruntime, model, options(), cache)
            self._voice = PiperVoice(config=PiperConfig.from_dict(config), session=self._session)
        except (OSError, ValueError, KeyError) as err:
            raise EngineError(f"{model}: cannot load this piper voice ({err})") from None
        except Exception as err:  # onnxruntime raises its own exception types
            raise EngineError(f"{model}: not a usable piper voice ({err})") from None
        voice_config = self._voice.config
        self.sample_rate = voice_config.sample_rate
        self._hop = voice_config.hop_length
        self._lock = threading.Lock()
        # no sampling noise: the same text gives the same audio (for tests and benchmarks)
        self._noise = (
            (0.0, 0.0) if deterministic else (voice_config.noise_scale, voice_config.noise_w_scale)
        )
        self._gain = 1.0
        self._gain = _gain(self, folder)
        logger.info(
            "voice: %s (%s), %d threads, %s",
            name,
            os.path.basename(model),
            threads,
            "decoded in windows" if self._decoder is not None else "whole sentences",
        )

    def synthesize(self, text: str, rate: float = 1.0) -> Iterator[np.ndarray]:
        """Blocks of audio in order; every sentence ends with SENTENCE_PAUSE_S of silence."""
        scales = np.array([self._noise[0], 1.0 / max(0.25, rate), self._noise[1]], np.float32)
        pause = np.zeros(int(self.sample_rate * SENTENCE_PAUSE_S), np.float32)
        for phonemes in self._voice.phonemize(text):
            if not phonemes:
                continue
            ids = np.array([self._voice.phonemes_to_ids(phonemes)], dtype=np.int64)
            feeds = {"input": ids, "input_lengths": np.array([ids.shape[1]]), "scales": scales}
            # one model run at a time: a reply and the phrase cache filling take turns window
            # by window, and two runs at once would only double the working memory
            with self._lock:
                first = self._session.run(None, feeds)[0]
            if self._decoder is None:
                yield np.concatenate([self._level(first.reshape(-1)), pause])
                continue
            frames = first.shape[-1]
            for start, end in windows(frames):
                low, high = max(0, start - CONTEXT_FRAMES), min(frames, end + CONTEXT_FRAMES)
                with self._lock:
                    audio = self._decoder.run(None, {self._latent: first[:, :, low:high]})[0]
                audio = audio.reshape(-1)[(start - low) * self._hop : (end - low) * self._hop]
                block = self._level(audio)
                yield np.concatenate([block, pause]) if end == frames else block

    def _level(self, audio: np.ndarray) -> np.ndarray:
        return soft_limit(audio * np.float32(self._gain)).astype(np.float32, copy=False)

    def warm(self) -> None:
        """One short synthesis, so the first real reply does not pay for allocation."""
        for _ in self.synthesize("Hello."):
            pass


def _gain(voice: PiperEngine, folder: Path | None) -> float:
    """One gain for the voice, from the loudest of a few sentences (kept beside its parts).

    Piper scales each sentence to full level on its own, which needs the whole sentence
    before its first sound; one gain for all keeps sentences at their natural loudness.
    """
    meta = folder / "level.json" if folder is not None else None
    if meta is not None:
        try:
            return float(json.loads(meta.read_text(encoding="utf-8"))["gain"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    saved, noise = voice._gain, voice._noise
    voice._gain, voice._noise = 1.0, (0.0, 0.0)
    try:
        peak = max(float(np.abs(a).max()) for t in CALIBRATION for a in voice.synthesize(t))
    finally:
        voice._gain, voice._noise = saved, noise
    gain = 1.0 / max(peak, 0.05)
    if meta is not None:
        try:
            partial = meta.with_suffix(f".{os.getpid()}.part")
            partial.write_text(json.dumps({"gain": gain}), encoding="utf-8")
            os.replace(partial, meta)
        except OSError as err:
            logger.info("voice level not cached (%s)", err)
    return gain


def _forget_older(cache: Path, stem: str, current: Path) -> None:
    """Remove what older versions of this voice left in the cache."""
    for old in cache.glob(f"{stem}-*"):
        # only this voice's versions (NAME-SIZE-MTIME...), not a voice whose name merely
        # starts the same way
        if old == current or not old.name[len(stem) + 1 :].split("-")[0].isdigit():
            continue
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        elif old.suffix == ".onnx":
            old.unlink(missing_ok=True)
