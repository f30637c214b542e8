"""The real sound path: sounddevice → PulseAudio null sinks, as on a speaker with a microphone.

A WAV played into the sink "kid_mouth" reaches the companion's microphone (that sink's
monitor); the companion speaks into the sink "luma_speaker", whose monitor is recorded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import need

pytestmark = [pytest.mark.audio, pytest.mark.slow]


def wait_for(log: Path, text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("who", ["narrator", "flite:kal16 child"])
def test_spoken_request_is_understood_and_answered_aloud(
    pulse: dict[str, str],
    speak: Callable[..., Path],
    transcribe: Callable[[Path], str],
    voice,
    tmp_path: Path,
    who: str,
) -> None:
    need("paplay")
    need("parecord")
    if who == "narrator":
        request = speak("Hey Luma, good night.", lead_s=0.5, tail_s=0.5)
    else:
        from companion import voicebank

        need("flite")
        label, variant = who.split()
        (child,) = [v for v in voicebank.voices(held_out=False) if v.label == label]
        request = voicebank.render("Hey Luma, good night.", child, variant, tmp_path, voice)
    config = tmp_path / "companion.toml"
    config.write_text('[audio]\ninput_device = "pulse"\noutput_device = "pulse"\n')
    log = tmp_path / "companion.log"
    env = dict(os.environ, **pulse)
    with log.open("w") as handle:
        companion = subprocess.Popen(
            [sys.executable, "-m", "companion", "run", "--config", str(config)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
        )
    recording = tmp_path / "speaker.wav"
    recorder = None
    try:
        assert wait_for(log, "ready in", 120), log.read_text()
        recorder = subprocess.Popen(
            ["parecord", "--device=luma_speaker.monitor", "--file-format=wav", str(recording)]
        )
        time.sleep(0.5)
        # a child says it again when nothing happens; on a null sink's monitor the companion
        # may be reopening a "dead" (all-zero) microphone just as the first one plays
        tries = 0
        while True:
            tries += 1
            subprocess.run(["paplay", "--device=kid_mouth", str(request)], check=True)
            if wait_for(log, "intent goodnight", 12):
                break
            assert tries < 2, log.read_text()
        print(f"\n{who}: understood at try {tries}")
        time.sleep(5)
    finally:
        if recorder is not None:
            recorder.send_signal(signal.SIGINT)
            recorder.wait(10)
        companion.send_signal(signal.SIGTERM)
        code = companion.wait(20)
    text = log.read_text()
    assert code == 0 and "Traceback" not in text, text
    said = transcribe(recording)
    assert "sleep" in said or "night" in said, said
