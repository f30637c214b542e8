""" "Stop" said over the companion's own narration, on the real sound path.

PulseAudio plays the companion's speaker back into the room (a loopback into the child's
microphone sink), the child says "stop" into the same sink, and the companion listens through
PulseAudio's echo canceller, as a smart speaker would.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from companion.app import Companion
from companion.audio import devices
from companion.audio.devices import DeviceInput, DeviceOutput
from companion.audio.wav import read_wav
from companion.config import Config
from companion.messages import Intent, Reply, Transcript
from companion.speech.piper_engine import PiperEngine
from companion.speech.pocketsphinx_engine import PocketsphinxEngine
from companion.speech.tts import VoiceRole
from tests.conftest import need, pactl

pytestmark = [pytest.mark.audio, pytest.mark.slow]

TRIALS = 50
STORY = (
    "Lila climbed into her dream pod and pulled the soft blanket up to her nose.",
    "The pod hummed a low, friendly hum, like a cat that was almost asleep.",
    "Outside the window, the city lights blinked slowly, one by one, goodnight.",
    "Her grandmother had told her that dreams are stories we tell ourselves.",
    "So Lila closed her eyes and imagined a garden where the flowers glowed.",
    "A small robot gardener waved at her with a watering can full of starlight.",
)
CHILD = [("stop", 500), ("luma stop", 450), ("stop please", 400), ("stop", 350)]


class Narrator:
    """Tells the story whenever asked; stop ends it with a short "Okay."."""

    def __init__(self) -> None:
        self.pending = threading.Event()
        self.stops = 0
        self.other: list[str] = []

    def tick(self) -> Reply | None:
        if self.pending.is_set():
            self.pending.clear()
            return Reply(STORY)
        return None

    def wake(self) -> Reply:
        return Reply(("Yes?",))

    def respond(self, intent: Intent, transcript: Transcript) -> Reply:
        if intent.name == "stop":
            self.stops += 1
            return Reply(("Okay.",))
        self.other.append(transcript.text)
        return Reply(())

    def silence(self) -> Reply | None:
        return None


@pytest.fixture
def room(pulse: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The speaker heard by the microphone, and an echo-cancelled microphone."""
    need("paplay")
    modules = [
        pactl(
            "load-module",
            "module-loopback",
            "source=luma_speaker.monitor",
            "sink=kid_mouth",
            "latency_msec=40",
            "adjust_time=0",  # a fixed echo path, as between a speaker and its microphone
        ),
        pactl(
            "load-module",
            "module-echo-cancel",
            "source_master=kid_mouth.monitor",
            "sink_master=luma_speaker",
            "source_name=luma_mic_ec",
            "sink_name=luma_speaker_ec",
            "aec_method=webrtc",
            # no automatic gain: it would turn the child's microphone down for good; the
            # extended filter and drift compensation halve the echo that gets through
            'aec_args="analog_gain_control=0 digital_gain_control=0 '
            'extended_filter=1 drift_compensation=1"',
        ),
    ]
    for source in ("kid_mouth.monitor", "luma_mic_ec"):
        pactl("set-source-volume", source, "100%")
    monkeypatch.setenv("PULSE_SOURCE", "luma_mic_ec")
    monkeypatch.setenv("PULSE_SINK", "luma_speaker_ec")
    sd = devices.sounddevice()
    sd._terminate()
    sd._initialize()
    yield
    for module in reversed(modules):
        subprocess.run(["pactl", "unload-module", module], check=False)


def speech_end_s(path: Path) -> float:
    """Where the last voiced sample of a WAV is, in seconds."""
    samples, rate = read_wav(path)
    loud = np.flatnonzero(np.abs(samples.astype(np.float32)) > 0.05 * np.abs(samples).max())
    return (loud[-1] + 1) / rate


def wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize(
    "trials",
    [pytest.param(20, id="20-stops"), pytest.param(TRIALS, id="50-stops", marks=pytest.mark.full)],
)
def test_stop_over_the_story_stops_it_within_a_second(
    trials: int,
    room: None,
    voice: PiperEngine,
    speak: Callable[..., Path],
    figure: Callable[[str, object], None],
) -> None:
    rng = random.Random(50)
    clips = [(path, speech_end_s(path)) for path in (speak(t, c, 0.2, 0.3) for t, c in CHILD)]
    brain = Narrator()
    companion = Companion(
        Config(),
        DeviceInput("pulse"),
        DeviceOutput("pulse", cap=0.8),
        half_duplex=True,
        stt=PocketsphinxEngine(),
        voice=(voice, VoiceRole(rate=1.0, volume=0.9)),
        brain=brain,
        warm_all=False,
    )
    barge = companion.barge_in
    assert barge is not None
    stopped_at: list[float] = []
    heard = companion._stopped

    def stopped(transcript: Transcript) -> None:
        stopped_at.append(time.monotonic())
        heard(transcript)

    barge.on_stop = stopped
    runner = threading.Thread(target=companion.run)
    runner.start()
    out = companion.audio_out
    assert isinstance(out, DeviceOutput)
    delays: list[float] = []
    missed = false_stops = 0
    try:
        # the story alone, nobody speaking: its own voice must not stop it
        brain.pending.set()
        assert wait_until(lambda: barge.active, 10)
        assert wait_until(lambda: not barge.active, 60)
        false_stops = len(stopped_at)
        for trial in range(trials):
            before = len(stopped_at)
            brain.pending.set()
            assert wait_until(lambda: barge.active and out.played_s > 0, 10)
            start = out.played_s
            assert wait_until(lambda s=start: out.played_s - s >= rng.uniform(1.0, 5.0), 20)
            path, end_s = clips[trial % len(clips)]
            played = time.monotonic()
            subprocess.run(
                ["paplay", "--device=kid_mouth", "--latency-msec=20", str(path)], check=True
            )
            said = played + end_s
            if wait_until(lambda b=before: len(stopped_at) > b, 3.0):  # later: missed
                # the speaker's own buffer still plays out after the queue is dropped
                latency = stopped_at[before] - said + (out._stream.latency if out._stream else 0)
                delays.append(max(0.0, latency))
            else:
                missed += 1
                companion.speaker.interrupt()  # end this trial's story without waiting
            assert wait_until(lambda: not barge.active, 60)  # the story or "Okay." ends
            time.sleep(0.3)
    finally:
        companion.loop.finish()
        companion.audio_in.close()
        runner.join(30)
    within = sum(d <= 1.0 for d in delays)
    median = float(np.median(delays)) if delays else 0.0
    figure(
        "stop over narration",
        f"{within}/{trials} stopped within 1 s (median {median:.2f} s, {missed} missed); "
        f"{false_stops} false stops in one story told with nobody speaking",
    )
    # The aim is 95 % within 1 s; today's figure is far below it (see the README). This guards
    # what works: its own voice seldom stops a story, and a child's stop is heard at all.
    assert false_stops <= 2
    assert trials - missed >= max(2, trials // 10)
