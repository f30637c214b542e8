"""The parents' TOML config, parsed once into frozen dataclasses with one-line errors."""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import logging
import os
import re
import stat
import tomllib
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, Final, TypeVar

from companion.errors import CompanionError, ConfigError

logger = logging.getLogger(__name__)

WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ENGINES: Final = ("auto", "whisper", "vosk", "pocketsphinx")
SYSTEM_CONFIG: Final = Path("/etc/companion/companion.toml")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z .'-]{0,39}$")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Child:
    """A child in the family; `bedtime` holds the weekdays where theirs differs."""

    name: str
    age: int
    bedtime: tuple[tuple[str, time], ...] = ()


@dataclass(frozen=True, slots=True)
class Family:
    """Who is at bedtime: children by name and age, adults by name."""

    children: tuple[Child, ...] = ()
    adults: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.children) + self.adults


@dataclass(frozen=True, slots=True)
class SpeechSettings:
    """Wake name, recognizer and voice."""

    wake_name: str = "Luma"
    """Said after "hey" to wake the companion."""
    engine: str = "auto"
    """auto (whisper, else vosk when a model is found, else pocketsphinx), whisper, vosk or
    pocketsphinx."""
    whisper_model: str = ""
    """Folder of a faster-whisper model (base.en, small.en…); empty: the embedded tiny.en."""
    vosk_model: str = ""
    """Folder of a vosk model; empty: look in voices/ and vosk's cache."""
    voice: str = ""
    """Narrator voice name (a .onnx in voices/); empty: the one voices/voices.toml names."""

    @property
    def wake_phrase(self) -> str:
        return f"hey {self.wake_name.lower()}"


@dataclass(frozen=True, slots=True)
class AudioSettings:
    """Sound devices, by name (a part of the name is enough); empty: the system default."""

    input_device: str = ""
    output_device: str = ""


@dataclass(frozen=True, slots=True)
class VolumeCaps:
    """Highest output volume, 0.0 to 1.0 of full scale."""

    day: float = 0.8
    night: float = 0.5


@dataclass(frozen=True, slots=True)
class ListeningSettings:
    """Endpointing, in seconds of audio."""

    trailing_silence_s: float = 0.7
    """Silence that ends an utterance."""
    silence_timeout_s: float = 8.0
    """How long to wait for a child to start speaking after a question."""
    max_utterance_s: float = 12.0
    """Longest utterance; longer speech is cut here."""
    stop_while_speaking: bool = True
    """Listen for "stop" over the companion's own voice (best with an echo-cancelled mic)."""


@dataclass(frozen=True, slots=True)
class SafetySettings:
    """Extra words the companion must never repeat."""

    blocked_words: tuple[str, ...] = ()


STEPS: Final = (
    "announce",
    "reminders",
    "breathing",
    "gratitude",
    "story",
    "goodnight",
    "sleep_sounds",
)
SLEEP_SOUNDS: Final = ("rain", "ocean", "brown_noise")
MODES: Final = ("shared", "freeform")
DEFAULT_BEDTIME: Final = tuple((day, time(19, 30)) for day in WEEKDAYS)
"""Bedtime with no config written, or a config with no [bedtime] table."""


@dataclass(frozen=True, slots=True)
class RoutineSettings:
    """The nightly wind-down."""

    wind_down_minutes: int = 20
    """The wind-down starts this long before bedtime."""
    steps: tuple[str, ...] = STEPS
    """In order; goodnight is said at bedtime, sleep sounds start a minute after."""
    reminders: tuple[str, ...] = ("pyjamas on", "teeth brushed")
    grace_minutes: int = 15
    """A routine missed by longer than this (the device was off) is skipped, not run late."""
    max_session_minutes: int = 60
    """After this long the companion says goodnight and stops."""
    child_can_switch: bool = True
    """Whether a child may switch tonight between shared and freeform by voice."""
    stories_after_goodnight: bool = False


@dataclass(frozen=True, slots=True)
class NightPlanSettings:
    """Shared or freeform, per weekday, or alternating night by night."""

    weekdays: tuple[tuple[str, str], ...] = ()
    alternate: bool = False
    modes: tuple[str, str] = ("shared", "freeform")


@dataclass(frozen=True, slots=True)
class SleepSoundSettings:
    sound: str = "rain"
    minutes: float = 30.0
    fade_minutes: float = 10.0


@dataclass(frozen=True, slots=True)
class QuietHours:
    """When the companion only answers sleep sounds, bad dreams and stop, at night volume."""

    start: time = time(20, 30)
    end: time = time(6, 30)

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True, slots=True)
class HomeSettings:
    """The optional link to Home Assistant over MQTT; off when [home] is absent."""

    mqtt_url: str
    """mqtt://ADDRESS[:PORT] of the broker."""
    host: str
    """The broker's IP address: the service may reach that address and no other."""
    port: int = 1883
    credentials_file: str = ""
    """A file only its owner may read, with the broker's `user` and `password`; empty: none."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """The broker login read from `home.credentials_file` (the password never printed)."""

    user: str
    password: str = field(repr=False)


CREDENTIAL_NAME: Final = "mqtt"
"""Under systemd, the credentials file is handed over as $CREDENTIALS_DIRECTORY/mqtt."""
MQTT_PORT: Final = 1883
_CREDENTIALS_MAX: Final = 4096


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the parents set, validated."""

    family: Family = field(default_factory=Family)
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    volume: VolumeCaps = field(default_factory=VolumeCaps)
    listening: ListeningSettings = field(default_factory=ListeningSettings)
    bedtime: tuple[tuple[str, time], ...] = ()
    safety: SafetySettings = field(default_factory=SafetySettings)
    routine: RoutineSettings = field(default_factory=RoutineSettings)
    nights: NightPlanSettings = field(default_factory=NightPlanSettings)
    sleep_sounds: SleepSoundSettings = field(default_factory=SleepSoundSettings)
    quiet_hours: QuietHours = field(default_factory=QuietHours)
    timezone: str = "UTC"
    path: str | None = None
    home: HomeSettings | None = None
    wake_time: tuple[tuple[str, time], ...] = ()
    """When the children may get up, per weekday (`[morning] wake_time`); none: not set."""

    def bedtime_on(self, weekday: str) -> time | None:
        return dict(self.bedtime).get(weekday)

    def wake_on(self, weekday: str) -> time | None:
        return dict(self.wake_time).get(weekday)

    @property
    def listener_name(self) -> str:
        """The name used when talking to one child."""
        return self.family.children[0].name if self.family.children else "friend"


class _Reader:
    """Walks one TOML table, collecting every problem instead of stopping at the first."""

    def __init__(self, data: dict[str, Any], prefix: str, problems: list[str]) -> None:
        self.data = data
        self.prefix = prefix
        self.problems = problems
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def problem(self, name: str, text: str) -> None:
        self.problems.append(f"{self.key(name)}: {text}")

    def get(self, name: str, default: T, check: Callable[[Any], T | str]) -> T:
        self.seen.add(name)
        if name not in self.data:
            return default
        result = check(self.data[name])
        if isinstance(result, _Problem):
            self.problem(name, result.text)
            return default
        return result

    def table(self, name: str) -> _Reader:
        self.seen.add(name)
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            self.problem(name, f"must be a table ([{self.key(name)}]), not {_kind(value)}")
            value = {}
        return _Reader(value, self.key(name), self.problems)

    def finish(self) -> None:
        for name, value in self.data.items():
            if name not in self.seen:
                hint = difflib.get_close_matches(name, sorted(self.seen), n=1)
                tip = f" (did you mean '{hint[0]}'?)" if hint else ""
                what = f"unknown section [{self.key(name)}]" if isinstance(value, dict) else ""
                self.problem(name, f"{what or 'unknown key'}{tip}")


class _Problem:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _kind(value: Any) -> str:
    return {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)


def _text(max_len: int = 200) -> Callable[[Any], str | _Problem]:
    def check(value: Any) -> str | _Problem:
        if not isinstance(value, str):
            return _Problem(f"must be text in quotes, not {_kind(value)}")
        if len(value) > max_len or "\x00" in value:
            return _Problem(f"must be at most {max_len} characters of plain text")
        return value.strip()

    return check


def _number(lo: float, hi: float) -> Callable[[Any], float | _Problem]:
    def check(value: Any) -> float | _Problem:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _Problem(f"must be a number from {lo:g} to {hi:g}, not {_kind(value)}")
        if not lo <= value <= hi:
            return _Problem(f"{value:g} is out of range (use {lo:g} to {hi:g})")
        return float(value)

    return check


def _choice(options: tuple[str, ...]) -> Callable[[Any], str | _Problem]:
    def check(value: Any) -> str | _Problem:
        if not isinstance(value, str) or value.lower() not in options:
            return _Problem(f"{_show(value)} is not one of: {', '.join(options)}")
        return value.lower()

    return check


def _person_name(value: Any) -> str | _Problem:
    if not isinstance(value, str) or not _NAME.match(value.strip()):
        return _Problem(
            f"{_show(value)} is not a name (letters, spaces, ' and -, up to 40 characters)"
        )
    return value.strip()


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def parse_time(value: Any) -> time | _Problem:
    """Parse "HH:MM" (24-hour clock)."""
    if not isinstance(value, str):
        return _Problem(f"{_show(value)} is not a time (HH:MM, in quotes)")
    match = _TIME.match(value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return _Problem(f"{_show(value)} is not a time (HH:MM)")
    return time(int(match[1]), int(match[2]))


def _family(reader: _Reader) -> Family:
    children: list[Child] = []
    raw = reader.get(
        "children",
        [],
        lambda v: (
            v
            if isinstance(v, list)
            else _Problem(f'must be a list like [{{ name = "Mila", age = 6 }}], not {_kind(v)}')
        ),
    )
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            reader.problem(f"children[{i}]", 'must be a table like { name = "Mila", age = 6 }')
            continue
        child = _Reader(item, reader.key(f"children[{i}]"), reader.problems)
        name = child.get("name", "", _person_name)
        age = child.get("age", 6, _whole(1, 17))
        own = child.table("bedtime")
        own_times = tuple(
            (day, t) for day in WEEKDAYS if (t := own.get(day, None, parse_time)) is not None
        )
        own.finish()
        child.finish()
        if "name" not in item:
            child.problem("name", 'is missing (e.g. name = "Mila")')
        elif name:
            children.append(Child(name, age, own_times))
    adults = reader.get("adults", (), _names)
    reader.finish()
    _unique_names(children, adults, reader)
    return Family(tuple(children), adults)


def _unique_names(children: list[Child], adults: tuple[str, ...], reader: _Reader) -> None:
    """Every person needs their own name: turns and answers go by name."""
    first: dict[str, str] = {}
    keys = [f"children[{i}].name" for i in range(len(children))] + ["adults"] * len(adults)
    for key, name in zip(keys, [c.name for c in children] + list(adults), strict=True):
        folded = " ".join(name.lower().split())
        if folded in first:
            where = "twice" if first[folded] == key else f"as {reader.key(first[folded])} too"
            reader.problem(key, f'"{name}" is listed {where} (each person needs their own name)')
        else:
            first[folded] = key


def _whole(lo: int, hi: int) -> Callable[[Any], int | _Problem]:
    def check(value: Any) -> int | _Problem:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            return _Problem(f"{_show(value)} is not a whole number from {lo} to {hi}")
        return value

    return check


def _names(value: Any) -> tuple[str, ...] | _Problem:
    if not isinstance(value, list):
        return _Problem(
            f'must be a list of names like ["Mom", "Grandpa Bryan"], not {_kind(value)}'
        )
    names = []
    for item in value:
        checked = _person_name(item)
        if isinstance(checked, _Problem):
            return checked
        names.append(checked)
    return tuple(names)


def _words(value: Any) -> tuple[str, ...] | _Problem:
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        return _Problem('must be a list of words in quotes, like ["poop", "stupid"]')
    return tuple(w.strip().lower() for w in value if w.strip())


STEP_MINUTES: Final = {
    "announce": 1,
    "roll_call": 1,
    "reminders": 3,
    "breathing": 2,
    "gratitude": 5,
}
"""How long each structured step takes; the story gets the rest of the wind-down."""


def _bool(value: Any) -> bool | _Problem:
    if not isinstance(value, bool):
        return _Problem(f"{_show(value)} must be true or false")
    return value


def _steps(value: Any) -> tuple[str, ...] | _Problem:
    if not isinstance(value, list) or not value:
        return _Problem(f"must be a list of steps from: {', '.join(STEPS)}")
    for item in value:
        if item not in STEPS:
            return _Problem(f"{_show(item)} is not a step (use: {', '.join(STEPS)})")
    if len(set(value)) != len(value):
        return _Problem("a step is listed twice")
    return tuple(value)


def _phrases(value: Any) -> tuple[str, ...] | _Problem:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and 0 < len(v.strip()) <= 80 for v in value
    ):
        return _Problem('must be a list of short phrases, like ["pyjamas on", "teeth brushed"]')
    return tuple(v.strip() for v in value)


def _timezone(value: Any) -> str | _Problem:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(value, str) or not re.fullmatch(
        r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*", value
    ):
        return _Problem(f'{_show(value)} is not a time zone name like "Europe/London"')
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return _Problem(f'{_show(value)} is not a known time zone (e.g. "America/New_York")')
    return value


def _wake_name(value: Any) -> str | _Problem:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2,20}", value.strip()):
        return _Problem(f'{_show(value)} must be one word of 2 to 20 letters, like "Luma"')
    return value.strip()


def _check_speech_files(speech: SpeechSettings, reader: _Reader) -> None:
    """The chosen voice and vosk model folder must exist (looked up on this machine)."""
    from companion.paths import data_dir

    if speech.voice:
        from companion.speech.tts import voice_problem

        problem = voice_problem(speech.voice, data_dir("voices"))
        if problem:
            reader.problem("voice", problem)
    if speech.whisper_model and speech.engine in ("auto", "whisper"):
        from companion.speech.whisper_engine import model_problem

        problem = model_problem(Path(speech.whisper_model).expanduser())
        if problem:
            reader.problem(
                "whisper_model",
                f'"{speech.whisper_model}" is not a faster-whisper model folder ({problem}); '
                "give the folder with model.bin, or leave it empty for the embedded tiny.en",
            )
    if speech.vosk_model and speech.engine != "pocketsphinx":
        from companion.speech.vosk_engine import vosk_model_problem

        problem = vosk_model_problem(Path(speech.vosk_model).expanduser())
        if problem:
            reader.problem(
                "vosk_model",
                f'"{speech.vosk_model}" is not a vosk model folder ({problem}); give the '
                "unpacked model's folder, or leave it empty to look in voices/ and ~/.cache/vosk",
            )


def _mqtt_url(value: Any) -> tuple[str, int] | _Problem:
    """The broker's address and port from mqtt://ADDRESS[:PORT] (1883 when left out)."""
    example = '(e.g. "mqtt://192.168.1.20:1883")'
    if not isinstance(value, str) or len(value) > 200:
        return _Problem(f"must be the broker's address in quotes {example}")
    try:
        url = urllib.parse.urlsplit(value.strip())
        port = url.port
    except ValueError:
        return _Problem(f"{_show(value)} is not an MQTT address {example}")
    if url.scheme != "mqtt" or not url.hostname:
        return _Problem(f"{_show(value)} is not an MQTT address {example}")
    if url.username is not None or url.password is not None:
        return _Problem("keep the user name and password out of the address: use credentials_file")
    if url.path not in ("", "/") or url.query or url.fragment:
        return _Problem(f"{_show(value)} has more than an address and a port {example}")
    try:
        ipaddress.ip_address(url.hostname)
    except ValueError:
        return _Problem(
            f'"{url.hostname}" is not an IP address: give the broker\'s {example}, the only '
            "address the companion's service may reach"
        )
    if port == 0:
        return _Problem(f"{_show(value)}: the port must be from 1 to 65535")
    return url.hostname, port or MQTT_PORT


def _file_path(value: Any) -> str | _Problem:
    example = 'like "/etc/companion/mqtt.credentials"'
    if not isinstance(value, str) or not value.strip():
        return _Problem(f"must be the full path of a file, {example}")
    if len(value) > 500 or any(ord(c) < 32 for c in value):
        return _Problem("must be a path of at most 500 characters of plain text")
    if not Path(value.strip()).expanduser().is_absolute():
        return _Problem(f"{_show(value)} must be a full path, {example}")
    return value.strip()


def _home(reader: _Reader, present: bool) -> HomeSettings | None:
    address = reader.get("mqtt_url", None, _mqtt_url)
    credentials = reader.get("credentials_file", "", _file_path)
    reader.finish()
    if not present:
        return None
    if "mqtt_url" not in reader.data:
        reader.problem("mqtt_url", 'is missing (e.g. mqtt_url = "mqtt://192.168.1.20:1883")')
        return None
    if address is None:
        return None
    return HomeSettings(reader.data["mqtt_url"].strip(), address[0], address[1], credentials)


def read_credentials(home: HomeSettings, config_path: str | None = None) -> Credentials | None:
    """The broker login, or None without a credentials file.

    Raises ConfigError with one line naming home.credentials_file: missing, unreadable, open to
    other users, or not `user = ...` and `password = ...` lines. Under systemd the file comes
    from $CREDENTIALS_DIRECTORY (LoadCredential=, private to the service).
    """
    if not home.credentials_file:
        return None
    handed = Path(os.environ.get("CREDENTIALS_DIRECTORY", "")) / CREDENTIAL_NAME
    systemd = bool(os.environ.get("CREDENTIALS_DIRECTORY")) and handed.is_file()
    path = handed if systemd else Path(home.credentials_file).expanduser()

    def fail(text: str) -> ConfigError:
        return ConfigError([f"home.credentials_file: {text}"], config_path)

    try:
        info = path.stat()
    except FileNotFoundError:
        raise fail(f"{path} does not exist") from None
    except OSError as err:
        raise fail(f"{path} cannot be read ({err.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise fail(f"{path} is not a file")
    if not systemd and info.st_mode & 0o077:
        raise fail(
            f"{path} is open to other users (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"only its owner may read it: chmod 600 {path}"
        )
    if info.st_size > _CREDENTIALS_MAX:
        raise fail(f"{path} is too long for a user name and a password")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise fail(f"{path} cannot be read ({err.strerror})") from None
    except UnicodeDecodeError:
        raise fail(f"{path} is not UTF-8 text") from None
    fields = _credential_fields(text)
    if isinstance(fields, _Problem):
        raise fail(f"{path}: {fields.text}")
    user = fields.get("user") or fields.get("username")
    password = fields.get("password")
    if not user:
        raise fail(f'{path} has no user (a line: user = "luma")')
    if password is None:
        raise fail(f'{path} has no password (a line: password = "...")')
    return Credentials(user, password)


def _credential_fields(text: str) -> dict[str, str] | _Problem:
    """`key = "value"` as TOML, or plain `key = value` lines (# starts a comment)."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        data = {}
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                return _Problem(f"line {number} is not `key = value`")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            data[key.strip()] = value
    known = ("user", "username", "password")
    for key, value in data.items():
        if key not in known:
            return _Problem(f"unknown key {_show(key)} (use user and password)")
        if not isinstance(value, str):
            return _Problem(f"{key} must be text")
    return data


def parse_config(data: dict[str, Any], path: str | None = None) -> Config:
    """Validate a parsed TOML document; raise ConfigError listing every problem."""
    problems: list[str] = []
    root = _Reader(data, "", problems)
    family = _family(root.table("family"))

    s = root.table("speech")
    speech = SpeechSettings(
        wake_name=s.get("wake_name", "Luma", _wake_name),
        engine=s.get("engine", "auto", _choice(ENGINES)),
        whisper_model=s.get("whisper_model", "", _text(500)),
        vosk_model=s.get("vosk_model", "", _text(500)),
        voice=s.get("voice", "", _text(100)),
    )
    s.finish()
    _check_speech_files(speech, s)

    a = root.table("audio")
    audio = AudioSettings(
        input_device=a.get("input_device", "", _text(200)),
        output_device=a.get("output_device", "", _text(200)),
    )
    a.finish()

    v = root.table("volume")
    volume = VolumeCaps(
        day=v.get("day", 0.8, _number(0, 1)), night=v.get("night", 0.5, _number(0, 1))
    )
    v.finish()
    if volume.night > volume.day:
        problems.append(
            f"volume.night: {volume.night:g} is louder than volume.day ({volume.day:g})"
        )

    li = root.table("listening")
    listening = ListeningSettings(
        trailing_silence_s=li.get("trailing_silence_s", 0.7, _number(0.2, 3.0)),
        silence_timeout_s=li.get("silence_timeout_s", 8.0, _number(1.0, 60.0)),
        max_utterance_s=li.get("max_utterance_s", 12.0, _number(2.0, 60.0)),
        stop_while_speaking=li.get("stop_while_speaking", True, _bool),
    )
    li.finish()

    b = root.table("bedtime")
    bedtime = tuple((day, t) for day in WEEKDAYS if (t := b.get(day, None, parse_time)) is not None)
    b.finish()
    if "bedtime" not in data:  # no [bedtime] at all: the built-in one (an empty table: none)
        bedtime = DEFAULT_BEDTIME

    sa = root.table("safety")
    safety = SafetySettings(blocked_words=sa.get("blocked_words", (), _words))
    sa.finish()

    r = root.table("routine")
    routine = RoutineSettings(
        wind_down_minutes=r.get("wind_down_minutes", 20, _whole(10, 120)),
        steps=r.get("steps", STEPS, _steps),
        reminders=r.get("reminders", ("pyjamas on", "teeth brushed"), _phrases),
        grace_minutes=r.get("grace_minutes", 15, _whole(0, 120)),
        max_session_minutes=r.get("max_session_minutes", 60, _whole(10, 240)),
        child_can_switch=r.get("child_can_switch", True, _bool),
        stories_after_goodnight=r.get("stories_after_goodnight", False, _bool),
    )
    r.finish()
    structured = sum(STEP_MINUTES.get(s, 0) for s in routine.steps) + 5
    if routine.wind_down_minutes < structured:
        problems.append(
            f"routine.wind_down_minutes: {routine.wind_down_minutes} is too short for its steps "
            f"(at least {structured})"
        )

    n = root.table("nights")
    alternate = n.get("alternate", False, _bool)
    weekdays = tuple(
        (day, m) for day in WEEKDAYS if (m := n.get(day, None, _choice(MODES))) is not None
    )
    first = n.get("alternate_first", "shared", _choice(MODES))
    n.finish()
    nights = NightPlanSettings(
        weekdays, alternate, (first, "freeform" if first == "shared" else "shared")
    )

    so = root.table("sleep_sounds")
    sleep_sounds = SleepSoundSettings(
        sound=so.get("sound", "rain", _choice(SLEEP_SOUNDS)),
        minutes=so.get("minutes", 30.0, _number(0.05, 480)),
        fade_minutes=so.get("fade_minutes", 10.0, _number(0, 480)),
    )
    so.finish()
    if sleep_sounds.fade_minutes > sleep_sounds.minutes:
        problems.append(
            f"sleep_sounds.fade_minutes: {sleep_sounds.fade_minutes:g} is longer than "
            f"sleep_sounds.minutes ({sleep_sounds.minutes:g})"
        )

    q = root.table("quiet_hours")
    quiet = QuietHours(
        start=q.get("start", time(20, 30), parse_time), end=q.get("end", time(6, 30), parse_time)
    )
    q.finish()
    timezone = root.get("timezone", "UTC", _timezone)
    home = _home(root.table("home"), isinstance(data.get("home"), dict))
    wake_time = _morning(root.table("morning"))

    root.finish()
    if problems:
        raise ConfigError(problems, path)
    return Config(
        family,
        speech,
        audio,
        volume,
        listening,
        bedtime,
        safety,
        routine,
        nights,
        sleep_sounds,
        quiet,
        timezone,
        path,
        home=home,
        wake_time=wake_time,
    )


def _morning(reader: _Reader) -> tuple[tuple[str, time], ...]:
    """`[morning] wake_time = "07:00"` (every day) or a table of weekdays."""
    raw = reader.data.get("wake_time")
    if raw is None or isinstance(raw, str):
        at = reader.get("wake_time", None, parse_time)
        reader.finish()
        return tuple((day, at) for day in WEEKDAYS) if at is not None else ()
    days = reader.table("wake_time")
    found = tuple(
        (day, t) for day in WEEKDAYS if (t := days.get(day, None, parse_time)) is not None
    )
    days.finish()
    reader.finish()
    return found


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate one config file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(["file not found (copy companion.example.toml there)"], str(p)) from None
    except OSError as err:
        raise ConfigError([f"cannot be read: {err.strerror}"], str(p)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ConfigError(
            [f"line {line}: not UTF-8 text (save the file as UTF-8)"], str(p)
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([_toml_problem(err, text)], str(p)) from None
    return parse_config(data, str(p))


def _toml_problem(err: tomllib.TOMLDecodeError, text: str) -> str:
    """One line for a TOML syntax error: where it is, and which key when that is clear."""
    message = str(err)
    at = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if at is None:
        return f"invalid TOML: {message}; check that every [ and quote is closed"
    where = at[0][4:-1]
    key = _key_on_line(text, int(at[1]))
    if key and message.startswith(("Cannot overwrite", "Cannot declare")):
        return f"invalid TOML: {key} is set twice ({where}); keep one of them"
    if key and message.startswith("Illegal character '\\n'"):
        return f'invalid TOML: {key}: the quotes are not closed ({where}); end the text with "'
    return f"invalid TOML: {message}; check the quotes, brackets and '=' there"


def _key_on_line(text: str, number: int) -> str:
    """The dotted name of the key or table set on line `number` (1-based), or ""."""
    lines = text.splitlines()
    if not 0 < number <= len(lines):
        return ""
    header = re.compile(r"^\s*\[+\s*([A-Za-z0-9_.\- ]+?)\s*\]+")
    own = header.match(lines[number - 1])
    if own:
        return f"[{own[1]}]"
    assign = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*=", lines[number - 1])
    if not assign:
        return ""
    table = next((m[1] for line in reversed(lines[: number - 1]) if (m := header.match(line))), "")
    return f"{table}.{assign[1]}" if table else assign[1]


def find_config(explicit: str | None = None) -> Path | None:
    """--config PATH, else the user's config dir, else /etc/companion; None: built-in defaults."""
    if explicit:
        return Path(explicit)
    for candidate in (user_config_path(), SYSTEM_CONFIG):
        if candidate.is_file():
            return candidate
    return None


def built_in() -> Config:
    """The config with no file written: bedtime 19:30 every day in this machine's time zone,
    a 20-minute wind-down, shared nights."""
    return Config(bedtime=DEFAULT_BEDTIME, timezone=system_timezone())


def system_timezone() -> str:
    """This machine's IANA time zone ("Europe/London"), or UTC when it cannot be told."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    try:
        link = os.readlink("/etc/localtime")
        candidates.append(link.split("zoneinfo/", 1)[1] if "zoneinfo/" in link else "")
    except OSError:
        pass
    for name in candidates:
        if name and _valid_zone(name):
            return name
    return "UTC"


def _valid_zone(name: str) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        return False
    return "/" in name or name == "UTC"


EXAMPLE_CONFIG: Final = Path(__file__).with_name("companion.example.toml")


def init_config(path: Path, family: str | None = None, bedtime: str | None = None) -> Path:
    """Write the commented example config to `path`, with this family and bedtime, then check
    it. Never overwrites a file; on any problem nothing is left behind."""
    if path.exists():
        raise CompanionError(
            f"{path} already exists: edit it, or check it with `companion check-config`"
        )
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^timezone = "[^"]*"', f'timezone = "{system_timezone()}"', text, count=1)
    if family is not None:
        rows = "\n".join(
            f'  {{ name = "{name}", age = {age} }},' for name, age in _family_arg(family)
        )
        text = re.sub(r"(?ms)^children = \[\n.*?^\]", f"children = [\n{rows}\n]", text, count=1)
        text = re.sub(r"(?m)^adults = \[.*\]", "adults = []", text, count=1)
    if bedtime is not None:
        at = parse_time(bedtime)
        if isinstance(at, _Problem):
            raise CompanionError(f"--bedtime: {at.text}, like 19:30")
        head, _, rest = text.partition("[bedtime]")
        table, _, tail = rest.partition("\n[")
        table = re.sub(r'(?m)^(\w+day) = "[^"]*"', rf'\1 = "{at:%H:%M}"', table)
        text = f"{head}[bedtime]{table}\n[{tail}"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("x", encoding="utf-8") as out:
            out.write(text)
        load_config(path)
    except FileExistsError:
        raise CompanionError(f"{path} already exists") from None
    except (ConfigError, OSError):
        path.unlink(missing_ok=True)
        raise
    return path


def _family_arg(text: str) -> list[tuple[str, int]]:
    """ "Mila:6,Leo:4" → [("Mila", 6), ("Leo", 4)]; a mistake is one line naming --family."""
    out: list[tuple[str, int]] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, _, age = part.partition(":")
        name = name.strip()
        if not re.fullmatch(r"[^\W\d_][\w' -]{0,30}", name) or not age.strip().isdigit():
            raise CompanionError(f'--family: {part!r} is not NAME:AGE, like "Mila:6,Leo:4"')
        if not 2 <= int(age) <= 14:
            raise CompanionError(f"--family: {name}'s age must be from 2 to 14")
        out.append((name, int(age)))
    if not out:
        raise CompanionError('--family: no child given, like "Mila:6,Leo:4"')
    return out


def user_config_path() -> Path:
    """Where `companion init` writes the config, and where it is looked for first."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "companion" / "companion.toml"


def resolve_config(explicit: str | None = None) -> Config:
    """Load the config the command line or the usual places point to."""
    path = find_config(explicit)
    if path is None:
        logger.info("no config file found; using built-in defaults")
        return built_in()
    logger.info("config: %s", path)
    return load_config(path)
