"""The sound server's sinks and sources, listed and picked by name (PulseAudio null sinks)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from companion.audio import devices
from companion.audio.devices import DeviceInput, DeviceOutput
from companion.audio.soundserver import server_device, server_devices

pytestmark = pytest.mark.audio


@pytest.fixture
def by_name(pulse: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """PortAudio restarted with no sink or source chosen in the environment."""
    for name in pulse:
        monkeypatch.delenv(name, raising=False)
    sd = devices.sounddevice()
    sd._terminate()
    sd._initialize()
    yield
    for name in pulse:
        os.environ.pop(name, None)
    sd._terminate()
    sd._initialize()


def test_devices_lists_the_sound_servers_sinks_and_sources(pulse: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in pulse}
    shown = subprocess.run(
        [sys.executable, "-m", "companion", "devices"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "luma_speaker" in shown.stdout and "kid_mouth" in shown.stdout
    assert "kid_mouth.monitor" in shown.stdout and "records a speaker" in shown.stdout
    assert "ALSA lib" not in shown.stderr


def test_a_speaker_and_microphone_picked_by_the_servers_names(by_name: None) -> None:
    served = server_devices()
    assert served is not None
    assert server_device("luma_speaker", "output") is not None
    assert server_device("kid_mouth", "input") is None  # a sink is no microphone
    mic = DeviceInput("kid_mouth.monitor")
    out = DeviceOutput("kid_mouth")
    heard: list[float] = []
    done = threading.Event()

    def listen() -> None:
        for chunk in mic.chunks():
            heard.append(float(np.sqrt(np.mean(chunk.samples.astype(np.float64) ** 2))))
            if len(heard) > 150 or done.is_set():
                return

    reader = threading.Thread(target=listen)
    reader.start()
    try:
        t = np.arange(16000 * 2) / 16000
        out.play((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)
        out.wait()
        done.set()
    finally:
        out.close()
        mic.close()
        reader.join(5)
    assert os.environ["PULSE_SINK"] == "kid_mouth"
    assert os.environ["PULSE_SOURCE"] == "kid_mouth.monitor"
    assert max(heard) > 1000, heard[:20]  # the tone played on kid_mouth came back from its monitor
