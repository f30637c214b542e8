"""Home Assistant over MQTT: discovery, status and named events out, a few commands in.

The link runs on its own thread with its own asyncio loop, so a broker that is down or slow
never delays speaking or listening. Only states, story titles and named events leave the
device: never what a child said, never audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aiomqtt
from aiomqtt.exceptions import MqttConnectError

from companion import __version__
from companion.config import Credentials, HomeSettings

logger = logging.getLogger(__name__)

DISCOVERY_PREFIX: Final = "homeassistant"
STATUSES: Final = ("idle", "listening", "wind-down", "story", "sleep sounds", "quiet")
MODES: Final = ("shared", "freeform")
EVENTS: Final = ("asked_for_grownup", "bad_dream", "woke_up_at_night")
COMMANDS: Final = ("stop", "wind_down", "mode", "volume", "sleep_sounds")
PRESS: Final = "PRESS"
"""What Home Assistant sends when a button is pressed."""
NO_STORY: Final = "None"
"""Home Assistant shows a sensor's state as unknown on this payload."""
MAX_PAYLOAD: Final = 32
"""Bytes: every command is a word or a number."""
TITLE_MAX: Final = 100
BACKOFF_FIRST_S: Final = 1.0
BACKOFF_MAX_S: Final = 60.0
KEEPALIVE_S: Final = 30
ACK_TIMEOUT_S: Final = 10.0
"""Longest wait for the broker to acknowledge a message (on the link's own thread)."""
EVENT_KEEP_S: Final = 300.0
"""An event still undelivered after this long (the broker was away) is dropped."""
EVENT_BACKLOG: Final = 20
INCOMING_BACKLOG: Final = 100
"""Messages waiting to be read; beyond this a flood is dropped by the client."""
CLOSE_WAIT_S: Final = 3.0
_REFUSED: Final = frozenset({4, 5, 134, 135})
"""CONNACK codes for a refused login (MQTT 3.1.1 and 5)."""


@dataclass(frozen=True, slots=True)
class HomeState:
    """What Home Assistant shows of the companion."""

    status: str = "idle"
    """One of STATUSES."""
    story: str = ""
    """The title of the story being told; empty: none."""
    mode: str = "shared"
    """Tonight's mode, one of MODES."""
    volume: int = 0
    """Percent of full scale (the cap included)."""
    sleep_sounds: bool = False


@dataclass(frozen=True, slots=True)
class Command:
    """A command from Home Assistant, checked: `value` is a mode, a volume or on/off."""

    name: str
    value: str | float | bool | None = None


def device_id() -> str:
    """A short id that stays the same on this device (a hash: the machine id is not sent)."""
    seed = ""
    for path in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        with contextlib.suppress(OSError):
            seed = Path(path).read_text(encoding="ascii", errors="replace").strip()
        if seed:
            break
    return hashlib.sha256(f"luma:{seed or os.uname().nodename}".encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class Topics:
    """Where each thing is published: state under luma/<id>/, discovery under homeassistant/."""

    ident: str

    @property
    def node(self) -> str:
        return f"luma_{self.ident}"

    @property
    def base(self) -> str:
        return f"luma/{self.ident}"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def events(self) -> str:
        return f"{self.base}/event"

    def state(self, name: str) -> str:
        return f"{self.base}/{name}"

    def command(self, name: str) -> str:
        return f"{self.base}/{name}/set"

    def discovery(self, component: str, name: str) -> str:
        return f"{DISCOVERY_PREFIX}/{component}/{self.node}/{name}/config"


def discovery_configs(topics: Topics) -> list[tuple[str, dict[str, Any]]]:
    """One device "Luma" and its entities, as Home Assistant's MQTT discovery reads them."""
    device = {
        "identifiers": [topics.node],
        "name": "Luma",
        "manufacturer": "Luma",
        "model": "Bedtime companion",
        "sw_version": __version__,
    }

    def entity(component: str, name: str, title: str, **keys: Any) -> tuple[str, dict[str, Any]]:
        config = {
            "name": title,
            "unique_id": f"{topics.node}_{name}",
            "device": device,
            "availability_topic": topics.availability,
            "qos": 1,
            **keys,
        }
        return topics.discovery(component, name), config

    return [
        entity(
            "sensor",
            "status",
            "Status",
            state_topic=topics.state("status"),
            device_class="enum",
            options=list(STATUSES),
            icon="mdi:weather-night",
        ),
        entity(
            "sensor",
            "story",
            "Story",
            state_topic=topics.state("story"),
            icon="mdi:book-open-variant",
        ),
        entity(
            "select",
            "mode",
            "Tonight's mode",
            state_topic=topics.state("mode"),
            command_topic=topics.command("mode"),
            options=list(MODES),
            icon="mdi:account-group",
        ),
        entity(
            "number",
            "volume",
            "Volume",
            state_topic=topics.state("volume"),
            command_topic=topics.command("volume"),
            min=0,
            max=100,
            step=1,
            unit_of_measurement="%",
            mode="slider",
            icon="mdi:volume-medium",
        ),
        entity(
            "button",
            "wind_down",
            "Start wind-down",
            command_topic=topics.command("wind_down"),
            payload_press=PRESS,
            icon="mdi:bed-clock",
        ),
        entity(
            "button",
            "stop",
            "Stop",
            command_topic=topics.command("stop"),
            payload_press=PRESS,
            icon="mdi:stop",
        ),
        entity(
            "switch",
            "sleep_sounds",
            "Sleep sounds",
            state_topic=topics.state("sleep_sounds"),
            command_topic=topics.command("sleep_sounds"),
            payload_on="ON",
            payload_off="OFF",
            icon="mdi:weather-rainy",
        ),
        entity(
            "event",
            "night",
            "Night",
            state_topic=topics.events,
            event_types=list(EVENTS),
            icon="mdi:account-child",
        ),
    ]


def parse_command(name: str, payload: object) -> Command | str:
    """The command a message on luma/<id>/<name>/set asks for; a string says why it is ignored."""
    if name not in COMMANDS:
        return "not a command the companion knows"
    if not isinstance(payload, bytes | bytearray):
        return "the payload is not bytes"
    if len(payload) > MAX_PAYLOAD:
        return f"the payload is too long ({len(payload)} bytes)"
    try:
        text = bytes(payload).decode("utf-8").strip()
    except UnicodeDecodeError:
        return "the payload is not UTF-8 text"
    if not text.isprintable():
        return "the payload is not plain text"
    if name in ("stop", "wind_down"):
        return Command(name) if text.upper() == PRESS else f"a button press is {PRESS}"
    if name == "mode":
        mode = text.lower()
        return Command(name, mode) if mode in MODES else f"the mode is one of: {', '.join(MODES)}"
    if name == "sleep_sounds":
        switch = text.upper()
        return Command(name, switch == "ON") if switch in ("ON", "OFF") else "use ON or OFF"
    try:
        level = float(text)
    except ValueError:
        return "the volume is a number from 0 to 100"
    if not math.isfinite(level) or not 0 <= level <= 100:
        return "the volume is a number from 0 to 100"
    return Command(name, level)


def state_payloads(topics: Topics, state: HomeState) -> dict[str, str]:
    return {
        topics.state("status"): state.status,
        topics.state("story"): state.story[:TITLE_MAX] or NO_STORY,
        topics.state("mode"): state.mode,
        topics.state("volume"): str(state.volume),
        topics.state("sleep_sounds"): "ON" if state.sleep_sounds else "OFF",
    }


class HomeLink:
    """One device "Luma" in Home Assistant, kept up to date over MQTT.

    `publish_status` and `event` return at once from any thread; the link's thread publishes
    what changed, reconnects with backoff (1 s doubling to 60 s) and hands each checked command
    to `on_command` (on that thread). The broker announces "offline" if the link dies.
    """

    def __init__(
        self,
        settings: HomeSettings,
        credentials: Credentials | None,
        on_command: Callable[[Command], None],
        ident: str | None = None,
    ) -> None:
        self.settings = settings
        self.credentials = credentials
        self.on_command = on_command
        self.topics = Topics(ident or device_id())
        self.connected = threading.Event()
        """Set while the broker is connected."""
        self.connections = 0
        self._wanted: dict[str, str] = {}
        self._sent: dict[str, str] = {}
        self._events: deque[tuple[float, str]] = deque(maxlen=EVENT_BACKLOG)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._reported = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="home-link", daemon=True)

    @property
    def broker(self) -> str:
        host = self.settings.host
        return f"[{host}]:{self.settings.port}" if ":" in host else f"{host}:{self.settings.port}"

    def start(self) -> None:
        self._thread.start()

    def publish_status(self, state: HomeState) -> None:
        """Publish what changed (retained), now or once the broker is back."""
        changed = False
        with self._lock:
            for topic, payload in state_payloads(self.topics, state).items():
                if self._wanted.get(topic) != payload:
                    self._wanted[topic] = payload
                    changed = True
        if changed:
            self._poke(self._wake)

    def event(self, name: str) -> None:
        """Send a named event (one of EVENTS); kept a few minutes while the broker is away."""
        if name not in EVENTS:
            raise ValueError(f"not a home event: {name!r}")
        with self._lock:
            self._events.append((time.monotonic(), name))
        self._poke(self._wake)

    def close(self) -> None:
        """Publish what is left and "offline", then disconnect (waits a few seconds at most,
        and hardly at all without a broker: the last will says "offline" then)."""
        self._closing.set()
        self._poke(self._stop)
        if self._thread.is_alive():
            self._thread.join(CLOSE_WAIT_S if self.connected.is_set() else 0.2)

    def _poke(self, event: asyncio.Event | None) -> None:
        loop = self._loop
        if loop is None or event is None:
            return
        with contextlib.suppress(RuntimeError):  # the link's loop has ended
            loop.call_soon_threadsafe(event.set)

    # -- the link's thread ------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception:  # the home link must never take the companion down
            logger.exception("home: the link stopped")
        finally:
            self.connected.clear()

    async def _main(self) -> None:
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        delay = BACKOFF_FIRST_S
        while not self._closing.is_set():
            was_connected = self.connections
            try:
                await self._session()
            except aiomqtt.MqttError as err:
                self._report(err, lost=self.connections > was_connected)
            self.connected.clear()
            if self._closing.is_set():
                return
            if self.connections > was_connected:
                delay = BACKOFF_FIRST_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            delay = min(BACKOFF_MAX_S, delay * 2)

    def _report(self, err: aiomqtt.MqttError, lost: bool) -> None:
        """One line per outage, naming the setting to look at; the rest at debug level."""
        if self._reported:
            logger.debug("home: still no broker at %s (%s)", self.broker, err)
            return
        self._reported = True
        code = getattr(err, "rc", None)
        code = getattr(code, "value", code)
        if isinstance(err, MqttConnectError) and code in _REFUSED:
            if self.credentials is None:
                why = "wants a user name and password (set home.credentials_file)"
            else:
                why = f'refused the login of "{self.credentials.user}"'
            logger.error(
                "home.credentials_file: the broker at %s %s (%s); carrying on without the home "
                "link, trying again now and then",
                self.broker,
                why,
                err,
            )
        elif lost:
            logger.warning("home: lost the broker at %s (%s); reconnecting", self.broker, err)
        else:
            logger.error(
                "home.mqtt_url: cannot reach the broker at %s (%s); carrying on without the home "
                "link, trying again now and then",
                self.broker,
                err,
            )

    async def _session(self) -> None:
        """One connection: announce, publish, listen, until it drops or the link closes."""
        topics = self.topics
        login = self.credentials
        async with aiomqtt.Client(
            self.settings.host,
            self.settings.port,
            username=login.user if login else None,
            password=login.password if login else None,
            identifier=topics.node,
            will=aiomqtt.Will(topics.availability, "offline", qos=1, retain=True),
            keepalive=KEEPALIVE_S,
            timeout=ACK_TIMEOUT_S,
            max_queued_incoming_messages=INCOMING_BACKLOG,
            # a command's acknowledgement and the new state go out at once, not 40 ms apart
            socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
        ) as client:
            self.connections += 1
            again = " again" if self._reported else ""
            logger.info("home: connected to the broker at %s%s", self.broker, again)
            self._reported = False
            # listening first: once Home Assistant sees "online", its commands are heard
            await client.subscribe(topics.command("+"), qos=1)
            await client.subscribe(f"{DISCOVERY_PREFIX}/status", qos=1)
            await self._announce(client)
            self.connected.set()
            assert self._stop is not None and self._wake is not None
            # Python 3.11's wait_for (inside publish) can swallow a cancel that meets a reply:
            # the tasks also end on `ended`, and are not waited for forever
            ended = asyncio.Event()
            tasks = {
                asyncio.create_task(self._receive(client, ended)),
                asyncio.create_task(self._send(client, ended)),
                asyncio.create_task(self._stop.wait()),
            }
            for task in tasks:
                task.add_done_callback(_retrieve)
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            finally:
                ended.set()
                self._wake.set()
                for task in tasks:
                    task.cancel()
                await asyncio.wait(tasks, timeout=CLOSE_WAIT_S)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            # closing: the last will is for when the link cannot say goodbye itself
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                await asyncio.wait_for(self._flush(client), CLOSE_WAIT_S)
                await client.publish(topics.availability, "offline", qos=1, retain=True)

    async def _announce(self, client: aiomqtt.Client) -> None:
        """Discovery configs, every state, then "online" (all retained)."""
        with self._lock:
            self._sent.clear()
        for topic, config in discovery_configs(self.topics):
            await client.publish(topic, json.dumps(config), qos=1, retain=True)
        await self._flush(client)
        await client.publish(self.topics.availability, "online", qos=1, retain=True)

    async def _send(self, client: aiomqtt.Client, ended: asyncio.Event) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            if ended.is_set():
                return
            self._wake.clear()
            await self._flush(client)

    async def _flush(self, client: aiomqtt.Client) -> None:
        """Publish the states that changed, then the events waiting (each once)."""
        while True:
            with self._lock:
                pending = [(t, p) for t, p in self._wanted.items() if self._sent.get(t) != p]
            if not pending:
                break
            for topic, payload in pending:
                await client.publish(topic, payload, qos=1, retain=True)
                with self._lock:
                    self._sent[topic] = payload
        while True:
            with self._lock:
                if not self._events:
                    return
                at, name = self._events[0]
            if time.monotonic() - at <= EVENT_KEEP_S:
                await client.publish(self.topics.events, json.dumps({"event_type": name}), qos=1)
            with self._lock:
                if self._events and self._events[0] == (at, name):
                    self._events.popleft()

    async def _receive(self, client: aiomqtt.Client, ended: asyncio.Event) -> None:
        base = self.topics.base + "/"
        async for message in client.messages:
            if ended.is_set():
                return
            topic = message.topic.value
            if topic == f"{DISCOVERY_PREFIX}/status":
                if message.payload == b"online":  # Home Assistant restarted: tell it again
                    await self._announce(client)
                continue
            name = topic.removeprefix(base).removesuffix("/set")[:40]
            if message.retain:  # a stale command must not act again at every reconnect
                logger.warning("home: ignored a retained %r command", name)
                continue
            command = parse_command(name, message.payload)
            if isinstance(command, str):
                logger.warning("home: ignored a %r command: %s", name, command)
                continue
            try:
                self.on_command(command)
            except Exception:
                logger.exception("home: the %s command failed", name)


def _retrieve(task: asyncio.Task[Any]) -> None:
    """Take a finished task's exception, so a task left behind is not reported as lost."""
    if not task.cancelled():
        task.exception()
