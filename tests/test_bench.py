"""The bench's own pieces: the recorded room, the answers WAV, matching turns to requests."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from companion import voicebank
from companion.audio.wav import read_wav, write_wav
from companion.bench import _idle_at, _score, _woken_from_idle, answers_wav, room_audio


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if voicebank.missing_tools():
        pytest.skip(f"not installed: {', '.join(voicebank.missing_tools())}")
    return tmp_path_factory.mktemp("bank")


def test_the_room_is_the_same_every_time_and_as_long_as_asked(bank: Path) -> None:
    # espeak-ng and flite only: the narrator's voice would take seconds to load
    voices = [v for v in voicebank.voices(held_out=True) if v.family != "narrator-shifted"]
    audio, events = room_audio(0.75, bank, voices=voices, seed=3)
    again, events_again = room_audio(0.75, bank, voices=voices, seed=3)
    assert len(audio) == 45 * voicebank.RATE and audio.dtype == np.float32
    assert np.array_equal(audio, again) and events == events_again
    assert events and all(0 <= at < 45 for at, _ in events)
    assert [at for at, _ in events] == sorted(at for at, _ in events)
    # never a request to the companion, and never clipped much
    assert not any("luma" in label.lower() for _, label in events)
    assert np.mean(np.abs(audio) >= 1.0) < 1e-4
    # the fan runs all the time: no stretch of digital silence
    assert float(np.sqrt(np.mean(audio[: voicebank.RATE // 2] ** 2))) > 1e-4
    other, _ = room_audio(0.75, bank, voices=voices, seed=4)
    assert not np.array_equal(audio, other)


def test_answers_can_be_recordings_or_a_render_function(tmp_path: Path) -> None:
    rate = 16_000
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(rate // 2) / rate)).astype(np.float32)
    recorded = tmp_path / "tone.wav"
    write_wav(recorded, tone, rate)
    made: list[str] = []

    def render(text: str) -> Path:
        made.append(text)
        return recorded

    one = answers_wav(render, ["Purple.", "A tiger."], tmp_path / "a.wav", gap_s=1.0)
    two = answers_wav(None, [recorded, recorded], tmp_path / "b.wav", gap_s=1.0)
    assert made == ["Purple.", "A tiger."]
    a, a_rate = read_wav(one)
    b, _ = read_wav(two)
    assert a_rate == rate and len(a) == 3 * rate + 2 * len(tone)
    assert np.array_equal(a, b)


def test_turns_are_matched_to_the_request_they_ended_in() -> None:
    def turn(at: float, intent: str) -> SimpleNamespace:
        return SimpleNamespace(at_s=at, intent=SimpleNamespace(name=intent))

    starts = [0.0, 3.0, 6.0]
    got = _score([turn(2.5, "stop"), turn(8.0, "goodnight"), turn(8.5, "none")], starts)
    assert got == {0: "stop", 2: "goodnight"}
    transitions = [
        (2.0, "understanding", "end of utterance"),
        (2.1, "replying", "none"),
        (2.6, "listening", "waiting for an answer"),
        (5.0, "understanding", "end of utterance"),
        (5.1, "replying", "stop"),
        (5.5, "idle", "done"),
        (7.0, "understanding", "end of utterance"),
        (7.1, "idle", "no wake phrase"),
    ]
    assert _idle_at(transitions, starts) == [True, False, True]
    assert _woken_from_idle(transitions) == [2.1]
