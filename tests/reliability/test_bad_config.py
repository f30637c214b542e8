"""Bad configs: each mistake is one line naming its key, and a running companion keeps the last
good config when the file is edited badly."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from companion.audio.wav import write_wav
from companion.cli import main
from companion.config import load_config
from companion.errors import ConfigError
from companion.routine import scheduler
from companion.routine.scheduler import ConfigWatcher

EXAMPLE = Path(__file__).resolve().parents[2] / "companion" / "companion.example.toml"
GOOD = EXAMPLE.read_bytes()


@dataclass(frozen=True)
class Edit:
    """One bad edit of the example config, and the words its one line must contain."""

    name: str
    changes: tuple[tuple[bytes, bytes], ...]
    names: tuple[str, ...]

    def apply(self) -> bytes:
        text = GOOD
        for old, new in self.changes:
            assert text.count(old) >= 1, old
            text = text.replace(old, new, 1)
        return text

    def line(self) -> int:
        """The line of the first change (1-based)."""
        return GOOD[: GOOD.index(self.changes[0][0])].count(b"\n") + 1


def edit(name: str, old: str | bytes, new: str | bytes, *names: str) -> Edit:
    as_bytes = [x.encode() if isinstance(x, str) else x for x in (old, new)]
    return Edit(name, ((as_bytes[0], as_bytes[1]),), names)


VOSK_MISSING = "/nonexistent/vosk-model-small-en-us-0.15"
EDITS: tuple[Edit, ...] = (
    edit("malformed TOML", 'monday = "19:30"', 'monday = "19:30', "invalid TOML", "line {line}"),
    edit(
        "non-UTF-8 bytes",
        b'"Grandpa Bryan"',
        b'"Ren\xe9e"',
        "line {line}: not UTF-8",
        "save the file as UTF-8",
    ),
    edit("wrong type", "day = 0.8", 'day = "loud"', "volume.day", "must be a number"),
    edit("a number as a time", 'monday = "19:30"', "monday = 2100", "bedtime.monday", "HH:MM"),
    edit("25:99", 'monday = "19:30"', 'monday = "25:99"', "bedtime.monday", "HH:MM"),
    edit("7pm", 'monday = "19:30"', 'monday = "7pm"', "bedtime.monday", "HH:MM"),
    edit(
        "unknown time zone",
        'timezone = "Europe/London"',
        'timezone = "Mars/Olympus"',
        "timezone",
        "America/New_York",
    ),
    edit(
        "a path as time zone",
        'timezone = "Europe/London"',
        'timezone = "../../etc/passwd"',
        "timezone",
        "Europe/London",
    ),
    edit(
        "an absolute path as time zone",
        'timezone = "Europe/London"',
        'timezone = "/etc/localtime"',
        "timezone",
        "Europe/London",
    ),
    edit(
        "unknown voice", 'voice = ""', 'voice = "en_GB-nobody"', "speech.voice", "companion voices"
    ),
    edit(
        "a path as voice",
        'voice = ""',
        'voice = "../../etc/passwd"',
        "speech.voice",
        "companion voices",
    ),
    Edit(
        "missing vosk model folder",
        (
            (b'engine = "auto"', b'engine = "vosk"'),
            (b'vosk_model = ""', f'vosk_model = "{VOSK_MISSING}"'.encode()),
        ),
        ("speech.vosk_model", "does not exist", "leave it empty"),
    ),
    edit("negative volume", "day = 0.8", "day = -0.5", "volume.day", "use 0 to 1"),
    edit("volume above 1", "day = 0.8", "day = 1.5", "volume.day", "use 0 to 1"),
    edit("night louder than day", "night = 0.4", "night = 0.9", "volume.night", "volume.day"),
    edit("unknown section", "[quiet_hours]", "[quiet_hour]", "quiet_hour", "quiet_hours"),
    edit("unknown key", 'wake_name = "Luma"', 'wakename = "Luma"', "speech.wakename", "wake_name"),
    edit(
        "duplicate key",
        'tuesday = "19:30"',
        'monday = "19:45"',
        "bedtime.monday",
        "twice",
        "line {line}",
    ),
    edit(
        "empty child name",
        '{ name = "Mila", age = 6 }',
        '{ name = "", age = 6 }',
        "family.children[0].name",
    ),
    edit(
        "duplicated child names",
        '{ name = "Leo", age = 4',
        '{ name = "Mila", age = 4',
        "family.children[1].name",
        "their own name",
    ),
    edit(
        "unknown sleep sound", 'sound = "rain"', 'sound = "thunder"', "sleep_sounds.sound", "ocean"
    ),
    edit(
        "listening value out of range",
        "max_utterance_s = 12.0",
        "max_utterance_s = 600",
        "listening.max_utterance_s",
        "use 2 to 60",
    ),
    edit(
        "true/false as text",
        "child_can_switch = true",
        'child_can_switch = "yes"',
        "routine.child_can_switch",
        "true or false",
    ),
)


def expected(e: Edit) -> list[str]:
    return [n.format(line=e.line()) for n in e.names]


def test_example_is_the_good_config() -> None:
    load_config(EXAMPLE)


@pytest.mark.parametrize("bad", EDITS, ids=[e.name for e in EDITS])
def test_each_bad_edit_is_one_line_naming_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: Edit
) -> None:
    path = tmp_path / "companion.toml"
    path.write_bytes(bad.apply())
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    (problem,) = caught.value.problems
    for words in expected(bad):
        assert words in problem, (words, problem)
    assert "\n" not in problem and len(problem) < 240

    assert main(["check-config", "--config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert err.splitlines() == [f"{path}: {problem}"] and out == ""
    assert path.read_bytes() == bad.apply(), "check-config must not touch the file"


def write_atomically(path: Path, data: bytes, stamp_s: float) -> None:
    """As editors save: a new file renamed over the old one, with its own modification time."""
    tmp = path.with_name(f".{path.name}.new")
    tmp.write_bytes(data)
    os.utime(tmp, (stamp_s, stamp_s))
    os.replace(tmp, path)


def wait_until(check: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def test_a_running_watcher_keeps_the_last_good_config(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    figure: Callable[[str, object], None],
) -> None:
    monkeypatch.setattr(scheduler, "CHECK_EVERY_S", 0.05)
    caplog.set_level(logging.INFO, logger="companion.routine.scheduler")
    path = tmp_path / "companion.toml"
    path.write_bytes(GOOD)
    good = load_config(path)
    applied: list[object] = []
    watcher = ConfigWatcher(path, applied.append)
    hangup = signal.getsignal(signal.SIGHUP)
    stamp = time.time() - 1000
    cases = [*EDITS, Edit("emptied file", ((GOOD, b""),), ("the file is empty",))]
    kept: list[str] = []
    named: list[str] = []
    failures: list[str] = []
    watcher.start()
    try:
        for case in cases:
            calls = len(applied)
            seen = len(caplog.records)
            stamp += 10
            write_atomically(path, case.apply(), stamp)

            def errors(seen: int = seen) -> list[logging.LogRecord]:
                return [r for r in caplog.records[seen:] if r.levelno >= logging.ERROR]

            wait_until(lambda: bool(errors()), 5)
            time.sleep(0.2)
            lines = [r.getMessage() for r in errors()]
            if len(applied) == calls and len(lines) == 1:
                kept.append(case.name)
            words = [str(path), *expected(case)]
            if len(lines) == 1 and all(w in lines[0] for w in words):
                named.append(case.name)
            if case.name not in kept or case.name not in named:
                failures.append(f"{case.name}: applied {len(applied) - calls}x, logged {lines}")

            stamp += 10
            write_atomically(path, GOOD, stamp)
            if not wait_until(lambda calls=calls: len(applied) == calls + 1, 5):
                failures.append(f"{case.name}: the good config was not applied again")
            elif applied[-1] != good:
                failures.append(f"{case.name}: a different config was applied")
    finally:
        watcher.stop()
        signal.signal(signal.SIGHUP, hangup)
    figure(
        "bad edits kept the last good config, each named its key",
        f"{len(set(kept) & set(named))}/{len(cases)} (kept {len(kept)}, named {len(named)})",
    )
    assert not failures, "\n".join(failures)


@dataclass(frozen=True)
class SpeechCase:
    name: str
    toml: str
    key: str
    words: str


def speech_cases(tmp: Path) -> list[SpeechCase]:
    a_file = tmp / "model.zip"
    a_file.write_bytes(b"PK\x03\x04 not a folder")
    empty = tmp / "vosk-empty"
    empty.mkdir()
    return [
        SpeechCase("a path as voice", 'voice = "../../etc/passwd"', "speech.voice", "is a path"),
        SpeechCase("an absolute voice path", 'voice = "/etc/passwd"', "speech.voice", "is a path"),
        SpeechCase("an unknown voice", 'voice = "en_GB-nobody"', "speech.voice", "no voice"),
        SpeechCase(
            "vosk model: missing folder",
            f'engine = "vosk"\nvosk_model = "{tmp / "nowhere"}"',
            "speech.vosk_model",
            "does not exist",
        ),
        SpeechCase(
            "vosk model: a file",
            f'engine = "vosk"\nvosk_model = "{a_file}"',
            "speech.vosk_model",
            "is a file",
        ),
        SpeechCase(
            "vosk model: an empty folder",
            f'engine = "vosk"\nvosk_model = "{empty}"',
            "speech.vosk_model",
            "no am/final.mdl",
        ),
        SpeechCase(
            "whisper model: missing folder",
            f'whisper_model = "{tmp / "base.en"}"',
            "speech.whisper_model",
            "does not exist",
        ),
        SpeechCase(
            "whisper model: a folder without model.bin",
            f'engine = "whisper"\nwhisper_model = "{empty}"',
            "speech.whisper_model",
            "no model.bin",
        ),
    ]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "companion", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_voice_and_model_paths_are_one_line_from_every_command(
    tmp_path: Path, figure: Callable[[str, object], None]
) -> None:
    wav = tmp_path / "hello.wav"
    t = np.arange(16000) / 16000
    write_wav(wav, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)
    out = tmp_path / "said.wav"
    out.write_bytes(b"what was said last night")
    before = out.read_bytes()
    good = 0
    failures: list[str] = []
    cases = speech_cases(tmp_path)
    for case in cases:
        config = tmp_path / f"{case.name.replace(' ', '-').replace(':', '')}.toml"
        config.write_text(f"[speech]\n{case.toml}\n")
        ok = True
        for args in (
            ("check-config", "--config", str(config)),
            ("say", "hi", "--out", str(out), "--config", str(config)),
            ("hear", str(wav), "--config", str(config)),
        ):
            result = cli(*args)
            lines = result.stderr.strip().splitlines()
            if not (
                result.returncode == 2
                and len(lines) == 1
                and lines[0].startswith(f"{config}: {case.key}: ")
                and case.words in lines[0]
                and "Traceback" not in result.stderr
            ):
                ok = False
                failures.append(f"{case.name}, {args[0]}: exit {result.returncode}, {lines}")
        if (
            out.read_bytes() != before
            or sorted(p.name for p in tmp_path.iterdir()).count(out.name) != 1
        ):
            ok = False
            failures.append(f"{case.name}: {out.name} was changed")
        good += ok
    figure(
        "bad voice and model settings: one line naming the key",
        f"{good}/{len(cases)} (check-config, say and hear each)",
    )
    assert not failures, "\n".join(failures)
    stray = [p.name for p in tmp_path.iterdir() if p.name.startswith(".said.wav")]
    assert not stray, stray


def test_auto_engine_without_a_model_is_not_an_error(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[speech]\nengine = "auto"\n')
    assert load_config(config).speech.engine == "auto"
