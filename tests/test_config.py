"""The parents' config: the example is valid; every kind of mistake gets its own line."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from companion.cli import main
from companion.config import Config, load_config
from companion.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "companion" / "companion.example.toml"


def problems(tmp_path: Path, text: str | bytes) -> list[str]:
    path = tmp_path / "companion.toml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [p for p in caught.value.problems]


def test_example_config_is_valid() -> None:
    config = load_config(EXAMPLE)
    assert [c.name for c in config.family.children] == ["Mila", "Leo"]
    assert config.family.adults == ("Nora", "Grandpa Bryan")
    assert config.speech.wake_phrase == "hey luma"
    assert config.bedtime_on("friday") == time(20, 0)
    assert config.volume.night <= config.volume.day


def test_check_config_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(EXAMPLE)]) == 0
    assert "ok" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[bedtime]\nmonday = "25:99"\n', 'bedtime.monday: "25:99" is not a time (HH:MM)'),
        ('[bedtime]\nmonday = "7pm"\n', 'bedtime.monday: "7pm" is not a time (HH:MM)'),
        ("[bedtime]\nmonday = 2100\n", "bedtime.monday: 2100 is not a time (HH:MM, in quotes)"),
        ("[volume]\nday = -0.5\n", "volume.day: -0.5 is out of range (use 0 to 1)"),
        ('[volume]\nday = "loud"\n', "volume.day: must be a number from 0 to 1, not text"),
        ("[volume]\nday = 0.3\nnight = 0.6\n", "volume.night: 0.6 is louder than volume.day (0.3)"),
        (
            '[speech]\nengine = "kaldi"\n',
            'speech.engine: "kaldi" is not one of: auto, whisper, vosk, pocketsphinx',
        ),
        ('[speech]\nengin = "vosk"\n', "speech.engin: unknown key (did you mean 'engine'?)"),
        (
            '[speech]\nwake_name = "hey there"\n',
            'speech.wake_name: "hey there" must be one word of 2 to 20 letters, like "Luma"',
        ),
        (
            "[listening]\ntrailing_silence_s = 10\n",
            "listening.trailing_silence_s: 10 is out of range (use 0.2 to 3)",
        ),
        (
            '[family]\nchildren = [{ name = "Mila", age = 40 }]\n',
            "family.children[0].age: 40 is not a whole number from 1 to 17",
        ),
        (
            '[family]\nadults = "Mom"\n',
            'family.adults: must be a list of names like ["Mom", "Grandpa Bryan"], not text',
        ),
        ("volume = 3\n", "volume: must be a table ([volume]), not a number"),
        ("surprise = true\n", "surprise: unknown key"),
    ],
)
def test_each_mistake_has_a_precise_line(tmp_path: Path, toml: str, expected: str) -> None:
    assert problems(tmp_path, toml) == [expected]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found = problems(tmp_path, '[bedtime]\nmonday = "25:99"\nsunday = "9"\n[volume]\nday = 2\n')
    assert len(found) == 3


def test_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    (line,) = problems(tmp_path, '[bedtime]\nmonday = "19:30\n')
    assert line.startswith("invalid TOML:") and "line 2" in line


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    assert problems(tmp_path, b'[family]\nadults = ["Ren\xe9e"]\n') == [
        "line 2: not UTF-8 text (save the file as UTF-8)"
    ]


def test_check_config_exit_2_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[bedtime]\nmonday = "25:99"\n[volume]\nnight = 7\n')
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"{path}: volume.night: 7 is out of range (use 0 to 1)",
        f'{path}: bedtime.monday: "25:99" is not a time (HH:MM)',
    ]


def test_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err
    assert "Traceback" not in capsys.readouterr().err


def test_config_is_frozen() -> None:
    config = Config()
    with pytest.raises(AttributeError):
        config.volume.day = 1.0  # type: ignore[misc]
