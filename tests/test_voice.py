"""The piper voice decoded in windows: the same audio as whole sentences, sooner."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from companion.speech import piper_engine
from companion.speech.piper_engine import (
    CONTEXT_FRAMES,
    FIRST_FRAMES,
    LIMIT,
    MAX_FRAMES,
    PiperEngine,
    soft_limit,
    windows,
)
from companion.speech.tts import DEFAULT_VOICE, SENTENCE_PAUSE_S, voice_files

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("frames", [1, FIRST_FRAMES, FIRST_FRAMES + 1, 100, 503, 2000])
def test_windows_cover_every_frame_once(frames: int) -> None:
    spans = list(windows(frames))
    assert spans[0] == (0, min(frames, FIRST_FRAMES))
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert spans[-1][1] == frames
    assert max(end - start for start, end in spans) <= MAX_FRAMES


def test_soft_limit_keeps_quiet_audio_and_rounds_off_peaks() -> None:
    audio = np.linspace(-1.6, 1.6, 1001, dtype=np.float32)
    limited = soft_limit(audio.copy())
    quiet = np.abs(audio) <= LIMIT
    assert np.array_equal(limited[quiet], audio[quiet])
    assert np.all(np.abs(limited) < 1.0)
    assert np.all(np.diff(limited) > 0)  # still rising: no folding, no flat clipping


def test_windowed_audio_is_the_whole_sentence_audio(voice: PiperEngine) -> None:
    """Decoding 1.5 s windows with their context gives what one run over the sentence gives."""
    if voice._decoder is None:
        pytest.fail("the default voice was not cut into encoder and decoder")
    text = "Once upon a time, a little owl flew over the sleepy town, humming a lullaby."
    blocks = list(voice.synthesize(text))
    assert len(blocks) > 2
    pause = int(voice.sample_rate * SENTENCE_PAUSE_S)
    windowed = np.concatenate(blocks)
    assert not windowed[-pause:].any()

    ids = np.array([voice._voice.phonemes_to_ids(voice._voice.phonemize(text)[0])], np.int64)
    scales = np.array([0.0, 1.0, 0.0], np.float32)
    feeds = {"input": ids, "input_lengths": np.array([ids.shape[1]]), "scales": scales}
    latent = voice._session.run(None, feeds)[0]
    whole = voice._decoder.run(None, {voice._latent: latent})[0].reshape(-1)
    expected = voice._level(whole)
    assert len(windowed) == len(expected) + pause
    error = np.sqrt(np.mean((windowed[:-pause] - expected) ** 2))
    assert error < 1e-4 * np.sqrt(np.mean(expected**2)), f"seams: {error}"
    assert latent.shape[-1] > FIRST_FRAMES + 2 * CONTEXT_FRAMES


def test_the_cut_voice_is_kept_and_a_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    model = voice_files(ROOT / "voices")[DEFAULT_VOICE]
    first = PiperEngine(model, DEFAULT_VOICE, deterministic=True, cache=tmp_path)
    folders = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(folders) == 1
    kept = sorted(p.name for p in folders[0].iterdir())
    assert {"encoder.onnx", "decoder.onnx", "parts.json", "level.json"} <= set(kept)
    said = np.concatenate(list(first.synthesize("Goodnight, little owl.")))

    (folders[0] / "parts.json").write_text("{not json", encoding="utf-8")
    (folders[0] / "level.json").write_text("", encoding="utf-8")
    again = PiperEngine(model, DEFAULT_VOICE, deterministic=True, cache=tmp_path)
    assert again._decoder is not None
    assert again._gain == pytest.approx(first._gain)
    assert np.allclose(np.concatenate(list(again.synthesize("Goodnight, little owl."))), said)


def test_without_onnx_the_voice_speaks_whole_sentences(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_onnx(name: str, *args: object, **kwargs: object) -> object:
        if name == "onnx" or name.startswith("onnx."):
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    model = voice_files(ROOT / "voices")[DEFAULT_VOICE]
    voice = PiperEngine(model, DEFAULT_VOICE, deterministic=True)
    assert voice._decoder is None
    blocks = list(voice.synthesize("Sleep tight. Sweet dreams."))
    assert len(blocks) == 2  # one per sentence, each with its pause
    pause = int(voice.sample_rate * SENTENCE_PAUSE_S)
    assert all(not block[-pause:].any() and block[:-pause].any() for block in blocks)
    assert piper_engine.split_voice(model, None) is None
