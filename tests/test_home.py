"""The home link against a real broker (Debian's mosquitto): what Home Assistant sees through a
rehearsed night, its commands, a broker that goes away and comes back, bad logins, hostile
payloads; and without [home], no socket at all."""

from __future__ import annotations

import getpass
import json
import logging
import os
import random
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as paho
import pytest

from companion.app import Companion, HomeBridge
from companion.audio.base import CHUNK_S
from companion.audio.files import WavOutput
from companion.config import parse_config
from companion.dialog.replies import GROWNUP_TOLD, RARE_REPLIES
from companion.home.mqtt import (
    COMMANDS,
    EVENTS,
    STATUSES,
    Command,
    HomeState,
    Topics,
    device_id,
    discovery_configs,
    parse_command,
    state_payloads,
)
from companion.host import STOPPED, Host
from companion.messages import SAMPLE_RATE, AudioChunk, Grammar, Transcript
from companion.routine.plan import night_plan
from companion.routine.scheduler import done_key
from companion.speech.tts import VoiceRole
from companion.state.store import Store
from companion.storytelling.format import parse_story
from tests.conftest import SHORT_STORY, daytime, need

FRIDAY = daytime().date()
WAIT_S = 10.0
NIGHT_STEPS = ["announce", "roll_call", "reminders", "story", "goodnight", "sleep_sounds"]
CONFIG: dict[str, Any] = {
    "timezone": "Europe/London",
    "family": {"children": [{"name": "Mila", "age": 6}]},
    "bedtime": {"friday": "19:30"},
    "volume": {"day": 0.6, "night": 0.3},
    "listening": {"silence_timeout_s": 1.0, "stop_while_speaking": False},
    "sleep_sounds": {"sound": "rain", "minutes": 0.05, "fade_minutes": 0.02},
    "routine": {
        "reminders": ["pyjamas on"],
        "steps": ["announce", "reminders", "story", "goodnight", "sleep_sounds"],
    },
}


# -- fakes for the speech engines: the home link is what is tested here --------------------


class QuickVoice:
    """Says anything at once: a few milliseconds of silence per character."""

    name = "quick"
    sample_rate = SAMPLE_RATE

    def warm(self) -> None:
        return None

    def synthesize(self, text: str, rate: float = 1.0) -> Iterator[np.ndarray]:
        yield np.zeros(160 + 16 * len(text), np.float32)


class DeafEars:
    """A recognizer for a silent room."""

    def start(self, grammar: Grammar) -> None:
        return None

    def feed(self, samples: np.ndarray) -> None:
        return None

    def partial(self) -> str:
        return ""

    def finish(self) -> Transcript:
        return Transcript("", 0.0, "deaf")


class PacedSilence:
    """A quiet bedroom's microphone, in real time (`speed` 0: as fast as it is read).

    `late_s` is how long the listening loop kept the next chunk waiting at worst: what a real
    microphone would have had to buffer.
    """

    name = "paced silence"

    def __init__(self, seconds: float = 120.0, speed: float = 1.0) -> None:
        self.seconds = seconds
        self.speed = speed
        self.stop = threading.Event()
        self.late_s = 0.0

    def chunks(self) -> Iterator[AudioChunk]:
        zeros = np.zeros(int(SAMPLE_RATE * CHUNK_S), np.int16)
        began = time.monotonic()
        for i in range(int(self.seconds / CHUNK_S)):
            if self.stop.is_set():
                return
            if self.speed:
                due = began + i * CHUNK_S / self.speed
                self.late_s = max(self.late_s, time.monotonic() - due - CHUNK_S)
                self.stop.wait(max(0.0, due - time.monotonic()))
            yield AudioChunk(zeros, SAMPLE_RATE, i * CHUNK_S)

    def close(self) -> None:
        self.stop.set()


def config_for(url: str | None, **home: str) -> Any:
    data = dict(CONFIG)
    if url is not None:
        data["home"] = {"mqtt_url": url, **home}
    return parse_config(data)


@dataclass
class Run:
    """A companion built and run on its own thread (SQLite keeps to one thread)."""

    config: Any
    tmp_path: Path
    input: PacedSilence
    rehearse: str | None = "shared"
    companion: Companion = field(init=False)
    host: Host = field(init=False)
    ready: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, name="night", daemon=True)
        self.thread.start()
        assert self.ready.wait(WAIT_S)
        if self.error is not None:
            raise self.error

    @property
    def db(self) -> Path:
        return self.tmp_path / "state.db"

    def _run(self) -> None:
        try:
            store = Store(self.db)
            self.host, self.companion = build(self.config, self.tmp_path, self.input, store, True)
            if self.rehearse:
                plan = night_plan(self.config, FRIDAY, self.rehearse)
                assert plan is not None
                self.host.post_night(plan, rehearsal=True)
            self.ready.set()
            self.companion.run(drain=True)
        except BaseException as err:
            self.error = err
        finally:
            self.ready.set()

    def join(self, timeout: float = WAIT_S * 3) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the night did not end"
        if self.error is not None:
            raise self.error

    @property
    def bridge(self) -> HomeBridge:
        assert self.companion.home is not None
        return self.companion.home

    @property
    def topics(self) -> Topics:
        return self.bridge.link.topics


def build(
    config: Any, tmp_path: Path, audio_in: Any, store: Store | None = None, live: bool = False
):
    """Host and companion; `live`: sleep sounds play in real time, as on the device."""
    story = parse_story(SHORT_STORY, "stories/owl-and-the-door.toml")
    host = Host(config, [story], store, random.Random(3), clock=daytime)
    out = WavOutput(tmp_path / "out.wav", rate=SAMPLE_RATE, cap=config.volume.day)
    companion = Companion(
        config,
        audio_in,
        out,
        half_duplex=live,
        stt=DeafEars(),
        voice=(QuickVoice(), VoiceRole()),  # type: ignore[arg-type]
        warm_all=False,
        brain=host,
    )
    return host, companion


def said(companion: Companion) -> list[str]:
    return [turn.reply.text() for turn in companion.loop.turns]


# -- the broker and a Home Assistant stand-in ----------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Broker:
    """Debian's mosquitto on a free local port; stopped and started again at will."""

    folder: Path
    logins: dict[str, str] | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        exe = shutil.which("mosquitto", path=os.environ.get("PATH", "") + ":/usr/sbin")
        if exe is None:
            need("mosquitto")
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"user {getpass.getuser()}",
            "persistence false",
            "log_dest stderr",
            "log_type information",
        ]
        if self.logins is None:
            lines.append("allow_anonymous true")
        else:
            passwords = self.folder / "passwords"
            passwords.unlink(missing_ok=True)
            for user, password in self.logins.items():
                flags = ["-b", "-c"] if not passwords.exists() else ["-b"]
                subprocess.run(
                    [need("mosquitto_passwd"), *flags, str(passwords), user, password], check=True
                )
            passwords.chmod(0o600)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        conf = self.folder / "mosquitto.conf"
        conf.write_text("\n".join(lines) + "\n")
        self.process = subprocess.Popen(
            [str(exe), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        running = threading.Event()

        def read(out: Any) -> None:  # until it says it is running; then drain its log
            for line in out:
                if b" running" in line:
                    running.set()

        threading.Thread(target=read, args=(self.process.stderr,), daemon=True).start()
        if not running.wait(WAIT_S):
            self.kill()
            raise AssertionError("mosquitto did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    folder = tmp_path / "broker"
    folder.mkdir()
    b = Broker(folder)
    b.start()
    yield b
    b.kill()


class Watcher:
    """Home Assistant's side: everything under homeassistant/ and luma/, and commands to send."""

    def __init__(self, port: int, login: tuple[str, str] | None = None) -> None:
        self.seen: list[tuple[str, bytes, bool]] = []
        self.arrived = threading.Condition()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="home-assistant")
        if login:
            self.client.username_pw_set(*login)
        self.client.on_connect = self._connected
        self.client.on_message = self._message
        self.client.reconnect_delay_set(0.05, 0.2)
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()

    def _connected(self, client: paho.Client, *_: Any) -> None:
        client.subscribe([("homeassistant/#", 1), ("luma/#", 1)])

    def _message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        with self.arrived:
            self.seen.append((message.topic, bytes(message.payload), bool(message.retain)))
            self.arrived.notify_all()

    def mark(self) -> int:
        """Where the messages seen so far end: wait_for(since=mark()) waits for a new one."""
        with self.arrived:
            return len(self.seen)

    def wait_for(
        self, topic: str, payload: bytes | None = None, since: int = 0, timeout: float = WAIT_S
    ) -> tuple[bytes, bool]:
        """The first message on `topic` (with `payload`) from message number `since` on."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                for got, body, retained in self.seen[since:]:
                    if got == topic and (payload is None or body == payload):
                        return body, retained
                since = len(self.seen)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"nothing on {topic} ({payload!r})")
                self.arrived.wait(left)

    def send(self, topic: str, payload: bytes | str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(WAIT_S)

    def states(self, topic: str) -> list[bytes]:
        """The payloads seen on a topic, in order, repeats folded."""
        out: list[bytes] = []
        for got, body, _ in list(self.seen):
            if got == topic and (not out or out[-1] != body):
                out.append(body)
        return out

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def watcher(broker: Broker) -> Iterator[Watcher]:
    w = Watcher(broker.port)
    yield w
    w.close()


class LogWatch(logging.Handler):
    """The companion's log lines, and an event for the first one that contains `needle`."""

    def __init__(self, needle: str = "\0") -> None:
        super().__init__(logging.DEBUG)
        self.needle = needle
        self.lines: list[str] = []
        self.found = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        if record.levelno >= logging.INFO:
            self.lines.append(line)
        if self.needle in line:
            self.found.set()

    def count(self, text: str) -> int:
        return sum(text in line for line in self.lines)


@pytest.fixture
def logs() -> Iterator[Callable[[str], LogWatch]]:
    watches: list[LogWatch] = []
    root = logging.getLogger("companion")
    level = root.level
    root.setLevel(logging.INFO)

    def watch(needle: str = "\0") -> LogWatch:
        handler = LogWatch(needle)
        root.addHandler(handler)
        watches.append(handler)
        return handler

    yield watch
    for handler in watches:
        root.removeHandler(handler)
    root.setLevel(level)


# -- what is published ---------------------------------------------------------------------


def test_commands_are_checked() -> None:
    assert parse_command("stop", b"PRESS") == Command("stop")
    assert parse_command("wind_down", b"press") == Command("wind_down")
    assert parse_command("mode", b" Freeform ") == Command("mode", "freeform")
    assert parse_command("volume", b"42.5") == Command("volume", 42.5)
    assert parse_command("volume", b"100") == Command("volume", 100.0)
    assert parse_command("sleep_sounds", b"ON") == Command("sleep_sounds", True)
    assert parse_command("sleep_sounds", b"off") == Command("sleep_sounds", False)
    for name, payload in [
        ("volume", b"999"),
        ("volume", b"-1"),
        ("volume", b"nan"),
        ("volume", b"inf"),
        ("volume", b""),
        ("volume", b"loud"),
        ("volume", b"\xff\xfe50"),
        ("volume", b"5" * 10_000),
        ("mode", b"party"),
        ("mode", b"shared\nfreeform"),
        ("stop", b"BOOM"),
        ("sleep_sounds", b"MAYBE"),
        ("selfdestruct", b"PRESS"),
        ("stop", "PRESS"),
    ]:
        assert isinstance(parse_command(name, payload), str), (name, payload)


def test_discovery_describes_one_device() -> None:
    topics = Topics("abcd1234")
    configs = dict(discovery_configs(topics))
    assert sorted(configs) == sorted(
        f"homeassistant/{component}/luma_abcd1234/{name}/config"
        for component, name in [
            ("sensor", "status"),
            ("sensor", "story"),
            ("select", "mode"),
            ("number", "volume"),
            ("button", "wind_down"),
            ("button", "stop"),
            ("switch", "sleep_sounds"),
            ("event", "night"),
        ]
    )
    ids = {c["unique_id"] for c in configs.values()}
    assert len(ids) == len(configs)
    for config in configs.values():
        assert config["device"]["identifiers"] == ["luma_abcd1234"]
        assert config["device"]["name"] == "Luma"
        assert config["availability_topic"] == "luma/abcd1234/availability"
        for key in ("state_topic", "command_topic"):
            assert config.get(key, "luma/abcd1234/").startswith("luma/abcd1234/")
    status = configs["homeassistant/sensor/luma_abcd1234/status/config"]
    assert status["device_class"] == "enum" and status["options"] == list(STATUSES)
    assert configs["homeassistant/event/luma_abcd1234/night/config"]["event_types"] == list(EVENTS)
    volume = configs["homeassistant/number/luma_abcd1234/volume/config"]
    assert (volume["min"], volume["max"], volume["command_topic"]) == (
        0,
        100,
        "luma/abcd1234/volume/set",
    )
    commands = {c["command_topic"].split("/")[2] for c in configs.values() if "command_topic" in c}
    assert commands == set(COMMANDS)
    quiet = state_payloads(topics, HomeState("quiet", "", "shared", 30, False))
    assert quiet["luma/abcd1234/story"] == "None"  # Home Assistant: unknown
    assert len(device_id()) == 8 and device_id() == device_id()


# -- a night, seen from Home Assistant -----------------------------------------------------


def test_home_assistant_sees_the_night_and_stops_the_story(
    broker: Broker, watcher: Watcher, tmp_path: Path
) -> None:
    run = Run(config_for(broker.url), tmp_path, PacedSilence())
    topics = run.topics
    node = topics.node
    for component, name in [("sensor", "status"), ("select", "mode"), ("event", "night")]:
        body, retained = watcher.wait_for(f"homeassistant/{component}/{node}/{name}/config")
        assert retained or json.loads(body)["unique_id"] == f"{node}_{name}"
    watcher.wait_for(topics.availability, b"online")
    watcher.wait_for(topics.state("status"), b"wind-down")
    watcher.wait_for(topics.state("story"), b"The Owl and the Door")
    watcher.wait_for(topics.state("status"), b"story")

    since = watcher.mark()
    watcher.send(topics.command("volume"), "20")
    watcher.wait_for(topics.state("volume"), b"20", since)
    since = watcher.mark()
    asked = time.monotonic()
    watcher.send(topics.command("volume"), "95")  # above the cap of 60 %
    watcher.wait_for(topics.state("volume"), b"60", since)
    round_trip = time.monotonic() - asked
    assert run.companion.audio_out.volume == pytest.approx(0.6)  # type: ignore[attr-defined]
    assert run.host.volume_level == 1.0

    since = watcher.mark()
    watcher.send(topics.command("stop"), "PRESS")
    watcher.wait_for(topics.state("story"), b"None", since)
    watcher.wait_for(topics.state("status"), b"quiet", since)
    run.input.stop.set()
    run.join()

    assert STOPPED in said(run.companion)
    stopped = [t for t in run.companion.loop.turns if t.transcript.engine == "home"]
    assert [t.intent.name for t in stopped] == ["stop"]
    assert "owl-and-the-door" in Store(run.db).unfinished()  # kept for next time
    assert run.host.last_night is not None and run.host.last_night.done == NIGHT_STEPS
    statuses = watcher.states(topics.state("status"))
    order = [s for s in statuses if s in (b"wind-down", b"story", b"sleep sounds", b"quiet")]
    assert order[:2] == [b"wind-down", b"story"] and order[-2:] == [b"sleep sounds", b"quiet"]
    assert watcher.states(topics.state("volume"))[-1] == b"30"  # the night cap after goodnight
    watcher.wait_for(topics.availability, b"offline", since)  # said on closing
    assert round_trip < 2.0


def test_a_broker_that_goes_away_mid_night(
    broker: Broker, watcher: Watcher, tmp_path: Path, logs: Callable[[str], LogWatch]
) -> None:
    log = logs("lost the broker")
    run = Run(config_for(broker.url), tmp_path, PacedSilence(speed=2))
    topics = run.topics
    watcher.wait_for(topics.availability, b"online")
    watcher.wait_for(topics.state("status"), b"story")
    broker.kill()
    assert log.found.wait(WAIT_S)
    since = watcher.mark()
    broker.start()
    restarted = time.monotonic()
    watcher.wait_for(topics.availability, b"online", since)  # the companion is back on its own
    reconnect_s = time.monotonic() - restarted
    watcher.wait_for(topics.state("status"), b"quiet", since, timeout=WAIT_S * 2)
    run.input.stop.set()
    run.join()

    assert run.host.last_night is not None and run.host.last_night.done == NIGHT_STEPS
    assert run.input.late_s < 1.0, "the listening loop waited on the broker"
    assert log.count("lost the broker") == 1 and log.count("connected to the broker at") == 2
    assert run.bridge.link.connections == 2
    assert reconnect_s < 5.0


def test_buttons_mode_and_sleep_sounds(broker: Broker, watcher: Watcher, tmp_path: Path) -> None:
    run = Run(config_for(broker.url), tmp_path, PacedSilence(), rehearse=None)
    topics = run.topics
    watcher.wait_for(topics.state("status"), b"idle")
    watcher.wait_for(topics.state("mode"), b"shared")  # Friday's, from the config

    since = watcher.mark()
    watcher.send(topics.command("sleep_sounds"), "ON")
    watcher.wait_for(topics.state("sleep_sounds"), b"ON", since)
    watcher.wait_for(topics.state("status"), b"sleep sounds", since)
    since = watcher.mark()
    watcher.send(topics.command("sleep_sounds"), "OFF")  # stopped without a word
    watcher.wait_for(topics.state("sleep_sounds"), b"OFF", since)
    watcher.wait_for(topics.state("status"), b"idle", since)
    watcher.send(topics.command("sleep_sounds"), "ON")
    watcher.wait_for(topics.state("status"), b"sleep sounds", since)
    since = watcher.mark()
    watcher.send(topics.command("mode"), "freeform")
    watcher.wait_for(topics.state("mode"), b"freeform", since)
    since = watcher.mark()
    watcher.send(topics.command("wind_down"), "PRESS")  # the sounds make way for it
    watcher.wait_for(topics.state("status"), b"wind-down", since)
    run.input.stop.set()
    run.join()

    night = run.host.night
    assert night is not None and night.plan.mode == "freeform" and not night.rehearsal
    assert night.plan.steps[0].at == daytime()  # begun now, not at the planned time
    lines = said(run.companion)
    assert "freeform" in lines[-1]  # "Tonight is a freeform night."
    assert lines[:-1] == ["Here comes the gentle rain."] * 2  # and nothing for OFF
    assert Store(run.db).get_fact(done_key(FRIDAY)) is not None  # not started again tonight


def test_events_say_what_happened_never_what_was_said(
    broker: Broker, watcher: Watcher, tmp_path: Path
) -> None:
    host, companion = build(config_for(broker.url), tmp_path, PacedSilence(0))
    assert companion.home is not None
    topics = companion.home.link.topics
    watcher.wait_for(topics.availability, b"online")
    companion.home.update(force=True)
    host.after_goodnight = True
    companion.loop.command(Transcript("I want mummy, I'm scared", 1.0, "child"))
    assert said(companion)[-1] == GROWNUP_TOLD
    companion.loop.command(Transcript("I had a bad dream about a purple wolf", 1.0, "child"))
    for name in EVENTS:
        watcher.wait_for(topics.events, json.dumps({"event_type": name}).encode())
    events = [json.loads(body)["event_type"] for t, body, _ in watcher.seen if t == topics.events]
    companion.close()

    assert sorted(events) == sorted(EVENTS)
    assert not any(retained for topic, _, retained in watcher.seen if topic == topics.events)
    everything = b" ".join(body for _, body, _ in watcher.seen).lower()
    for word in (b"mummy", b"scared", b"purple", b"wolf"):
        assert word not in everything


def test_hostile_payloads_are_ignored(
    broker: Broker, watcher: Watcher, tmp_path: Path, logs: Callable[[str], LogWatch]
) -> None:
    log = logs()
    base = f"luma/{device_id()}"
    watcher.send(f"{base}/stop/set", "PRESS", retain=True)  # stale, before the companion is up
    run = Run(config_for(broker.url), tmp_path, PacedSilence(), rehearse=None)
    watcher.wait_for(run.topics.availability, b"online")
    hostile: list[tuple[str, bytes]] = [
        ("volume", b"999"),
        ("volume", b"-5"),
        ("volume", b"nan"),
        ("volume", b"loud"),
        ("volume", b"\xff\xfe\x00"),
        ("volume", b"7" * 100_000),
        ("mode", b"party"),
        ("stop", b"BOOM"),
        ("sleep_sounds", b"MAYBE"),
        ("selfdestruct", b"PRESS"),
    ]
    for name, payload in hostile:
        watcher.send(f"{base}/{name}/set", payload)
    watcher.send(f"{base}/volume/set", "40")
    watcher.wait_for(f"{base}/volume", b"40")
    run.input.stop.set()
    run.join()

    assert log.count("home: ignored") == len(hostile) + 1  # and the retained stop
    assert log.count("retained") == 1
    assert STOPPED not in said(run.companion) and "Okay." not in said(run.companion)
    assert run.companion.audio_out.volume == pytest.approx(0.4)  # type: ignore[attr-defined]


# -- the companion runs on without its home link -------------------------------------------


def test_no_broker_there_the_night_runs_on(tmp_path: Path, logs: Callable[[str], LogWatch]) -> None:
    log = logs("home.mqtt_url: cannot reach the broker")
    host, companion = build(
        config_for(f"mqtt://127.0.0.1:{free_port()}"), tmp_path, PacedSilence(30, 0)
    )
    assert log.found.wait(WAIT_S)
    companion.loop.command(Transcript("I want mummy", 1.0, "child"))
    assert said(companion)[-1] == RARE_REPLIES["grownup"][0]  # no promise it cannot keep
    plan = night_plan(companion.config, FRIDAY, "shared")
    assert plan is not None
    host.post_night(plan, rehearsal=True)
    companion.run(drain=True)
    assert host.last_night is not None and host.last_night.done == NIGHT_STEPS
    assert log.count("home.mqtt_url: cannot reach the broker") == 1


def test_a_refused_login_is_one_line(tmp_path: Path, logs: Callable[[str], LogWatch]) -> None:
    folder = tmp_path / "broker"
    folder.mkdir()
    broker = Broker(folder, logins={"luma": "right horse battery"})
    broker.start()
    try:
        good = tmp_path / "good.credentials"
        good.write_text('user = "luma"\npassword = "right horse battery"\n')
        good.chmod(0o600)
        watcher = Watcher(broker.port, ("luma", "right horse battery"))
        _, companion = build(
            config_for(broker.url, credentials_file=str(good)), tmp_path, PacedSilence(0)
        )
        assert companion.home is not None
        watcher.wait_for(companion.home.link.topics.availability, b"online")
        companion.close()
        watcher.close()

        log = logs("home.credentials_file: the broker at")
        bad = tmp_path / "bad.credentials"
        bad.write_text("user = luma\npassword = wrong\n")  # plain lines do too
        bad.chmod(0o600)
        host, companion = build(
            config_for(broker.url, credentials_file=str(bad)), tmp_path, PacedSilence(30, 0)
        )
        assert log.found.wait(WAIT_S)
        plan = night_plan(companion.config, FRIDAY, "shared")
        assert plan is not None
        host.post_night(plan, rehearsal=True)
        companion.run(drain=True)
        assert host.last_night is not None and host.last_night.done == NIGHT_STEPS
        assert log.count("home.credentials_file") == 1
        assert "wrong" not in " ".join(log.lines)
    finally:
        broker.kill()


def test_an_open_or_missing_password_file_is_one_line(
    tmp_path: Path, logs: Callable[[str], LogWatch]
) -> None:
    log = logs()
    loose = tmp_path / "loose.credentials"
    loose.write_text('user = "luma"\npassword = "secret"\n')
    loose.chmod(0o644)
    for path in (loose, tmp_path / "missing.credentials"):
        config = config_for(f"mqtt://127.0.0.1:{free_port()}", credentials_file=str(path))
        _, companion = build(config, tmp_path, PacedSilence(0))
        assert companion.home is None
        companion.close()
    problems = [line for line in log.lines if "home.credentials_file" in line]
    assert len(problems) == 2, log.lines
    assert "open to other users (mode 0644)" in problems[0] and "does not exist" in problems[1]
    assert "secret" not in " ".join(log.lines)


def test_without_home_no_socket_is_ever_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    class NoSocket(socket.socket):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            opened.append(f"socket{args}")
            raise OSError("no network here")

    def no_connection(*args: Any, **kwargs: Any) -> socket.socket:
        opened.append(f"create_connection{args}")
        raise OSError("no network here")

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setattr(socket, "socket", NoSocket)
    monkeypatch.setattr(socket, "create_connection", no_connection)
    host, companion = build(
        config_for(None), tmp_path, PacedSilence(30, 0), Store(tmp_path / "s.db")
    )
    assert companion.home is None and host.on_event is None
    plan = night_plan(companion.config, FRIDAY, "shared")
    assert plan is not None
    host.post_night(plan, rehearsal=True)
    companion.run(drain=True)
    assert host.last_night is not None and host.last_night.done == NIGHT_STEPS
    assert opened == []
