"""The command line: say, run with WAVs, devices, bench."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from companion.audio.wav import read_wav
from companion.cli import main

pytestmark = pytest.mark.slow


def test_say_writes_the_voice_speaking(tmp_path: Path, transcribe: Callable[[Path], str]) -> None:
    out = tmp_path / "hello.wav"
    assert main(["say", "Goodnight, sleep tight.", "--out", str(out)]) == 0
    samples, rate = read_wav(out)
    assert rate == 22050 and 0.8 < len(samples) / rate < 4
    assert 0.1 < abs(samples).max() <= 0.8 + 1e-3  # never above the day cap
    assert "sleep" in transcribe(out)


def test_say_to_an_unwritable_place_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["say", "hello", "--out", "/nonexistent/dir/x.wav"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "companion: /nonexistent/dir/x.wav: cannot write (No such file or directory)"


def test_run_headless_from_a_recording(
    speak: Callable[..., Path], tmp_path: Path, transcribe: Callable[[Path], str]
) -> None:
    out = tmp_path / "reply.wav"
    wav = speak("Hey Luma, I had a bad dream.")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "companion",
            "run",
            "--input-wav",
            str(wav),
            "--output-wav",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "intent bad_dream" in result.stderr
    said = transcribe(out)
    assert "breath" in said or "safe" in said or "dream" in said, said


def test_devices_never_crashes(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["devices"])
    out, err = capsys.readouterr()
    assert code in (0, 2) and "Traceback" not in err
    assert "audio.input_device" in out or "PortAudio" in err


def test_bench_prints_every_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--json", "--rounds", "1", "--quick"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in (
        "latency_p50_s",
        "latency_p95_s",
        "tts_rtf",
        "stt_rtf",
        "startup_s",
        "peak_rss_mb",
        "story_first_audio_s",
    ):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert result["latency_p50_s"] <= result["latency_p95_s"] < 30
    assert 0 < result["tts_rtf"] < 10 and 0 < result["stt_rtf"] < 10
    assert 10 < result["peak_rss_mb"] < 24_000
    assert result["engine"] == "whisper"
    for key in ("intent_accuracy", "answer_accuracy", "wake_accepted"):
        assert 0 <= result[key] <= 1, key
    for family in ("espeak-ng", "flite", "narrator-shifted"):
        for variant in ("plain", "child"):
            assert 0 <= result["intent_accuracy_by_family"][family][variant] <= 1
    by_family = result["intent_accuracy_by_family"]
    worst = min(sum(v.values()) / len(v) for v in by_family.values())
    assert result["intent_accuracy"] == pytest.approx(worst, abs=0.01)  # the worst family
    assert result["false_wakes_per_hour"] >= 0 and result["room_audio_s"] == 60
    assert result["night_audio_s"] > 60  # the memory figure covers a whole rehearsed night
    assert 0 <= result["idle_cpu_pct"] < 200


def test_a_missing_microphone_names_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[audio]\ninput_device = "no such microphone"\n')
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert (
        'audio.input_device: no microphone named "no such microphone"' in err or "PortAudio" in err
    )
    assert "companion devices" in err or "libportaudio2" in err
