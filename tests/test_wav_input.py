"""WAV files as input: every common rate works; anything unusable is one line and exit 2."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from companion.audio.files import WavInput, WavOutput
from companion.audio.resample import resample
from companion.audio.wav import read_wav, write_wav
from companion.cli import main


def tone(rate: int, seconds: float = 0.5, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    return np.repeat(mono[:, None], channels, axis=1) if channels > 1 else mono


def write_pcm(path: Path, data: np.ndarray, rate: int, channels: int = 1, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data.tobytes())
    return path


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_any_common_rate_becomes_16k_chunks(tmp_path: Path, rate: int) -> None:
    path = write_pcm(tmp_path / "t.wav", tone(rate, 1.0), rate)
    chunks = list(WavInput(path, tail_s=0).chunks())
    assert all(len(c.samples) == 480 and c.rate == 16000 for c in chunks)
    assert abs(len(chunks) * 0.03 - 1.0) < 0.07
    assert chunks[3].start_s == pytest.approx(0.09)


def test_stereo_is_mixed_down(tmp_path: Path) -> None:
    path = write_pcm(tmp_path / "s.wav", tone(48000, 0.5, 2), 48000, channels=2)
    samples, rate = read_wav(path)
    assert rate == 48000 and samples.ndim == 1 and len(samples) == 24000


def test_resampling_keeps_a_tone_clean() -> None:
    t = np.arange(22050) / 22050
    y = resample(np.sin(2 * np.pi * 440 * t).astype(np.float32), 22050, 16000)
    ref = np.sin(2 * np.pi * 440 * np.arange(len(y)) / 16000)
    assert len(y) == 16000 and np.abs(y[100:-100] - ref[100:-100]).max() < 0.01


def bad_files(tmp: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp / "empty.wav"
    empty.write_bytes(b"")
    riff = tmp / "riff.wav"
    riff.write_bytes(b"RIFF")
    no_frames = write_pcm(tmp / "noframes.wav", np.zeros(0, "<i2"), 16000)
    eight = write_pcm(tmp / "eight.wav", (np.ones(800) * 128).astype(np.uint8), 8000, width=1)
    floats = tmp / "float.wav"
    data = np.zeros(1600, "<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, 1, 16000, 64000, 4, 32)
    floats.write_bytes(
        b"RIFF"
        + struct.pack("<I", 36 + len(data))
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )
    text = tmp / "notes.wav"
    text.write_text("these are not sounds\n")
    return {
        "empty": (empty, "the file is empty"),
        "truncated": (riff, "WAV file"),
        "no frames": (no_frames, "has no audio"),
        "8-bit": (eight, "8-bit samples, not 16-bit"),
        "float": (floats, "not PCM audio"),
        "text": (text, "not a readable WAV file"),
        "missing": (tmp / "missing.wav", "no such file"),
    }


@pytest.mark.parametrize(
    "kind", ["empty", "truncated", "no frames", "8-bit", "float", "text", "missing"]
)
def test_bad_wav_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    path, words = bad_files(tmp_path)[kind]
    assert main(["hear", str(path), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err and str(path) in err
    assert "Traceback" not in err


def test_silent_wav_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_pcm(tmp_path / "quiet.wav", np.zeros(32000, "<i2"), 16000)
    assert main(["hear", str(path), "--json"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("no speech found (the recording is silent or too quiet)")


def test_wav_output_is_capped_and_written_atomically(tmp_path: Path) -> None:
    out = WavOutput(tmp_path / "said.wav", rate=16000, cap=0.3)
    out.play(np.ones(1600, np.float32), 16000)
    assert not (tmp_path / "said.wav").exists()
    out.close()
    samples, rate = read_wav(tmp_path / "said.wav")
    assert rate == 16000 and samples.max() <= 0.3 + 1e-3
    assert [p.name for p in tmp_path.iterdir()] == ["said.wav"]


def test_write_wav_round_trip(tmp_path: Path) -> None:
    data = np.linspace(-0.5, 0.5, 1000, dtype=np.float32)
    write_wav(tmp_path / "r.wav", data, 22050)
    back, rate = read_wav(tmp_path / "r.wav")
    assert rate == 22050 and np.abs(back - data).max() < 1e-3
