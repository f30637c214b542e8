"""The parents' TOML config, parsed once into frozen dataclasses with one-line errors."""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, Final, TypeVar

from companion.errors import ConfigError

logger = logging.getLogger(__name__)

WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ENGINES: Final = ("auto", "vosk", "pocketsphinx")
SYSTEM_CONFIG: Final = Path("/etc/companion/companion.toml")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z .'-]{0,39}$")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Child:
    """A child in the family."""

    name: str
    age: int


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
    """auto (vosk when a model is found, else pocketsphinx), vosk or pocketsphinx."""
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


@dataclass(frozen=True, slots=True)
class SafetySettings:
    """Extra words the companion must never repeat."""

    blocked_words: tuple[str, ...] = ()


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
    path: str | None = None

    def bedtime_on(self, weekday: str) -> time | None:
        return dict(self.bedtime).get(weekday)

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
        for name in self.data:
            if name not in self.seen:
                hint = difflib.get_close_matches(name, sorted(self.seen), n=1)
                tip = f" (did you mean '{hint[0]}'?)" if hint else ""
                self.problem(name, f"unknown key{tip}")


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
        child.finish()
        if not name:
            child.problem("name", "is missing")
        else:
            children.append(Child(name, age))
    adults = reader.get("adults", (), _names)
    reader.finish()
    return Family(tuple(children), adults)


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


def _wake_name(value: Any) -> str | _Problem:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2,20}", value.strip()):
        return _Problem(f'{_show(value)} must be one word of 2 to 20 letters, like "Luma"')
    return value.strip()


def parse_config(data: dict[str, Any], path: str | None = None) -> Config:
    """Validate a parsed TOML document; raise ConfigError listing every problem."""
    problems: list[str] = []
    root = _Reader(data, "", problems)
    family = _family(root.table("family"))

    s = root.table("speech")
    speech = SpeechSettings(
        wake_name=s.get("wake_name", "Luma", _wake_name),
        engine=s.get("engine", "auto", _choice(ENGINES)),
        vosk_model=s.get("vosk_model", "", _text(500)),
        voice=s.get("voice", "", _text(100)),
    )
    s.finish()

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
    )
    li.finish()

    b = root.table("bedtime")
    bedtime = tuple((day, t) for day in WEEKDAYS if (t := b.get(day, None, parse_time)) is not None)
    b.finish()

    sa = root.table("safety")
    safety = SafetySettings(blocked_words=sa.get("blocked_words", (), _words))
    sa.finish()

    root.finish()
    if problems:
        raise ConfigError(problems, path)
    return Config(family, speech, audio, volume, listening, bedtime, safety, path)


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
        raise ConfigError([f"invalid TOML: {err}"], str(p)) from None
    return parse_config(data, str(p))


def find_config(explicit: str | None = None) -> Path | None:
    """--config PATH, else the user's config dir, else /etc/companion; None: built-in defaults."""
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    for candidate in (Path(base) / "companion" / "companion.toml", SYSTEM_CONFIG):
        if candidate.is_file():
            return candidate
    return None


def resolve_config(explicit: str | None = None) -> Config:
    """Load the config the command line or the usual places point to."""
    path = find_config(explicit)
    if path is None:
        logger.info("no config file found; using built-in defaults")
        return Config()
    logger.info("config: %s", path)
    return load_config(path)
