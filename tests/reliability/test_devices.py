"""Sound devices that vanish, come back, or go deaf — on the real PortAudio path (PulseAudio).

A device is "unplugged" the way PortAudio reports it: its stream's callback aborts, it can no
longer be opened, and it is missing from the device list, until it is "plugged in" again.
"""

from __future__ import annotations

import bisect
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from companion.app import Speaker
from companion.audio import devices
from companion.audio.devices import DEAD_MIC_S, DeviceInput, DeviceOutput
from companion.messages import Reply
from companion.speech.piper_engine import PiperEngine
from companion.speech.tts import PhraseCache, VoiceRole

pytestmark = [pytest.mark.audio, pytest.mark.slow]

TRIALS = 20
PARAGRAPHS = (
    "Mila tiptoed to the window and looked up at the moon.",
    "The moon was round and soft, like a pillow in the sky.",
    "Far away, a little owl said hoo, as if it were saying goodnight.",
    "Mila waved to the owl, and the owl waved one soft wing back.",
    "Then she climbed into bed and pulled the blanket up to her chin.",
    "Her dream pod glowed a gentle blue, and the stars began to hum.",
)


class Flaky:
    """The real sounddevice module, with devices that can be unplugged and plugged in."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.unplugged: set[str] = set()
        self.deaf = False
        """The microphone still runs but delivers no frames at all."""
        self.zeros = False
        """The microphone delivers nothing but digital zeros."""
        self.opened = {"input": 0, "output": 0}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def query_devices(self) -> list[dict[str, Any]]:
        found = [dict(d) for d in self.real.query_devices()]
        for d in found:
            if "input" in self.unplugged:
                d["max_input_channels"] = 0
            if "output" in self.unplugged:
                d["max_output_channels"] = 0
        return found

    def _stream(self, make: Callable[..., Any], kind: str, options: dict[str, Any]) -> Any:
        if kind in self.unplugged:
            raise self.real.PortAudioError(f"{kind} device unavailable")
        callback = options["callback"]

        def flaky(data: np.ndarray, *rest: Any) -> None:
            if kind in self.unplugged:
                raise self.real.CallbackAbort
            if kind == "input" and self.deaf:
                return
            if kind == "input" and self.zeros:
                data = np.zeros_like(data)
            callback(data, *rest)

        self.opened[kind] += 1
        return make(**dict(options, callback=flaky))

    def InputStream(self, **options: Any) -> Any:
        return self._stream(self.real.InputStream, "input", options)

    def OutputStream(self, **options: Any) -> Any:
        return self._stream(self.real.OutputStream, "output", options)


@pytest.fixture
def flaky(pulse: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Flaky]:
    for name, value in pulse.items():
        monkeypatch.setenv(name, value)
    real = devices.sounddevice()
    real._terminate()  # start from a PortAudio that sees the test's PulseAudio sinks
    real._initialize()
    fake = Flaky(real)
    monkeypatch.setattr(devices, "sounddevice", lambda: fake)
    yield fake


def wait_until(condition: Callable[[], bool], seconds: float) -> float | None:
    """Seconds until `condition` held, or None if it never did."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(0.02)
    return None


@pytest.mark.parametrize(
    "trials",
    [pytest.param(8, id="8-times"), pytest.param(TRIALS, id="20-times", marks=pytest.mark.full)],
)
def test_speaker_lost_and_back_resumes_the_paragraph(
    flaky: Flaky, voice: PiperEngine, figure: Callable[[str, object], None], trials: int
) -> None:
    rng = random.Random(6)
    out = DeviceOutput("pulse")
    role = VoiceRole(rate=1.0, volume=0.9)
    cache = PhraseCache()
    starts = [0.0]
    for text in PARAGRAPHS:  # cached audio: the test knows where every paragraph starts
        audio = tuple(voice.synthesize(text, role.rate))
        cache.put(voice.name, role.rate, text, audio)
        length = sum(len(a) for a in audio) / voice.sample_rate
        starts.append(starts[-1] + length)  # each sentence ends in its own pause
    speaker = Speaker(voice, out, role, cache)
    reply = Reply(lines=PARAGRAPHS)
    recovered, right_place, times = 0, 0, []
    try:
        for _ in range(trials):
            done = threading.Event()
            errors: list[BaseException] = []

            def tell(done: threading.Event = done, errors: list[BaseException] = errors) -> None:
                try:
                    speaker.reply(reply)
                except BaseException as err:  # reported below
                    errors.append(err)
                finally:
                    done.set()

            resumed_before = len(speaker.resumed)
            recoveries = out.recoveries
            base = out.queued_s  # the speaker is idle: the reply starts playing here
            teller = threading.Thread(target=tell)
            teller.start()
            # unplug somewhere inside a paragraph, not on a boundary
            while True:
                moment = rng.uniform(0.5, starts[3])
                line = bisect.bisect_right(starts, moment) - 1
                if min(abs(moment - s) for s in starts) > 0.3:
                    break
            reached = wait_until(lambda m=base + moment: out.played_s >= m, 30)
            assert reached is not None, errors
            flaky.unplugged.add("output")
            time.sleep(rng.uniform(0.5, 2.0))
            flaky.unplugged.discard("output")
            back = wait_until(lambda r=recoveries: out.recoveries > r and out.played_s > 0.3, 20)
            out.stop()  # the rest of the story is not needed: let the reply end
            assert done.wait(30) and not errors, errors
            teller.join()
            if back is not None and back <= 10:
                recovered += 1
                times.append(back)
            # a fresh stream that stalls is reopened once more: still at the same paragraph
            if set(speaker.resumed[resumed_before:]) == {line}:
                right_place += 1
    finally:
        out.close()
    figure(
        "speaker lost and back",
        f"{recovered}/{trials} recovered within 10 s (slowest {max(times, default=0):.1f} s), "
        f"{right_place}/{trials} resumed at the paragraph that was playing",
    )
    assert recovered == trials and right_place == trials


def test_microphone_lost_and_back(flaky: Flaky, figure: Callable[[str, object], None]) -> None:
    rng = random.Random(7)
    mic = DeviceInput("pulse")
    heard: list[float] = []
    reader = threading.Thread(target=lambda: [heard.append(time.monotonic()) for _ in mic.chunks()])
    reader.start()
    times = []
    try:
        assert wait_until(lambda: len(heard) > 10, 10) is not None
        for _ in range(TRIALS):
            flaky.unplugged.add("input")
            time.sleep(rng.uniform(0.5, 2.0))
            flaky.unplugged.discard("input")
            returned = time.monotonic()
            back = wait_until(lambda t=returned: bool(heard) and heard[-1] > t, 15)
            if back is not None:
                times.append(back)
    finally:
        mic.close()
        reader.join(5)
    ok = sum(t <= 10 for t in times)
    figure(
        "microphone lost and back",
        f"{ok}/{TRIALS} recovered within 10 s (slowest {max(times, default=0):.1f} s), no restart",
    )
    assert ok == TRIALS


@pytest.mark.parametrize("fault", ["no frames", "only zeros"])
def test_a_dead_microphone_is_noticed_and_reopened(
    flaky: Flaky, fault: str, figure: Callable[[str, object], None]
) -> None:
    mic = DeviceInput("pulse")
    heard: list[np.ndarray] = []
    reader = threading.Thread(target=lambda: [heard.append(c.samples) for c in mic.chunks()])
    reader.start()
    try:
        assert wait_until(lambda: len(heard) > 10, 10) is not None
        opened = flaky.opened["input"]
        if fault == "no frames":
            flaky.deaf = True
        else:
            flaky.zeros = True
        noticed = wait_until(lambda: flaky.opened["input"] > opened, 10)
        flaky.deaf = flaky.zeros = False
    finally:
        mic.close()
        reader.join(5)
    figure(f"dead microphone ({fault})", f"reopened after {noticed or 0:.1f} s")
    assert noticed is not None and noticed <= 5.0
    assert DEAD_MIC_S <= 5.0


def test_the_watchdog_is_fed_only_while_audio_flows(
    flaky: Flaky,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    figure: Callable[[str, object], None],
) -> None:
    from companion.config import Config
    from companion.dialog.replies import SimpleBrain

    address = str(tmp_path / "notify")
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(address)
    sink.settimeout(0.1)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # fed every 0.2 s while healthy

    from companion.app import Companion

    companion = Companion(
        Config(),
        DeviceInput("pulse"),
        DeviceOutput("pulse"),
        half_duplex=True,
        brain=SimpleBrain(),
        warm_all=False,
    )
    runner = threading.Thread(target=companion.run)
    runner.start()
    fed: list[float] = []

    def listen(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                if sink.recv(64) == b"WATCHDOG=1":
                    fed.append(time.monotonic())
            except TimeoutError:
                pass

    try:
        listen(2.0)
        healthy = len(fed)
        # the microphone hangs for good: no frames, and it cannot be opened again
        flaky.deaf = True
        flaky.unplugged.add("input")
        hung_at = time.monotonic()
        listen(4.0)
        while_hung = sum(t > hung_at + 0.5 for t in fed)
    finally:
        flaky.unplugged.clear()
        flaky.deaf = False
        companion.loop.finish()
        companion.audio_in.close()
        runner.join(15)
        sink.close()
    figure(
        "watchdog",
        f"{healthy} feeds in 2 s while listening, {while_hung} in 3.5 s with the microphone hung",
    )
    assert healthy >= 5 and while_hung == 0
