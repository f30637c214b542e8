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


@pytest.mark.parametrize(
    ("home", "expected"),
    [
        ("", 'home.mqtt_url: is missing (e.g. mqtt_url = "mqtt://192.168.1.20:1883")'),
        (
            'credentials_file = "/etc/companion/mqtt.credentials"',
            'home.mqtt_url: is missing (e.g. mqtt_url = "mqtt://192.168.1.20:1883")',
        ),
        (
            'mqtt_url = "http://192.168.1.20"',
            'home.mqtt_url: "http://192.168.1.20" is not an MQTT address '
            '(e.g. "mqtt://192.168.1.20:1883")',
        ),
        (
            'mqtt_url = "mqtt://homeassistant.local:1883"',
            'home.mqtt_url: "homeassistant.local" is not an IP address: give the broker\'s '
            '(e.g. "mqtt://192.168.1.20:1883"), the only address the companion\'s service may '
            "reach",
        ),
        (
            'mqtt_url = "mqtt://192.168.1.20:99999"',
            'home.mqtt_url: "mqtt://192.168.1.20:99999" is not an MQTT address '
            '(e.g. "mqtt://192.168.1.20:1883")',
        ),
        (
            'mqtt_url = "mqtt://luma:secret@192.168.1.20"',
            "home.mqtt_url: keep the user name and password out of the address: "
            "use credentials_file",
        ),
        (
            "mqtt_url = 1883",
            "home.mqtt_url: must be the broker's address in quotes "
            '(e.g. "mqtt://192.168.1.20:1883")',
        ),
        (
            'mqtt_url = "mqtt://192.168.1.20"\ncredentials_file = "mqtt.credentials"',
            'home.credentials_file: "mqtt.credentials" must be a full path, like '
            '"/etc/companion/mqtt.credentials"',
        ),
        (
            'mqtt_url = "mqtt://192.168.1.20"\npasword = "x"',
            "home.pasword: unknown key",
        ),
    ],
)
def test_home_mistakes_name_the_key(tmp_path: Path, home: str, expected: str) -> None:
    assert problems(tmp_path, f"[home]\n{home}\n") == [expected]


def test_home_is_off_unless_set() -> None:
    assert Config().home is None
    assert load_config(EXAMPLE).home is None  # commented out in the example
    home = load_config_text('[home]\nmqtt_url = "mqtt://[fd00::20]"\n').home
    assert home is not None and (home.host, home.port) == ("fd00::20", 1883)


def load_config_text(text: str) -> Config:
    import tomllib

    from companion.config import parse_config

    return parse_config(tomllib.loads(text))


@pytest.mark.parametrize(
    ("content", "mode", "expected"),
    [
        (None, 0o600, "does not exist"),
        ('user = "luma"\npassword = "pw"\n', 0o644, "is open to other users (mode 0644); only "),
        ('user = "luma"\npassword = "pw"\n', 0o640, "is open to other users (mode 0640)"),
        ('user = "luma"\n', 0o600, "has no password"),
        ('password = "pw"\n', 0o600, "has no user"),
        ("user = luma\npassphrase = pw\n", 0o600, 'unknown key "passphrase"'),
        (b"user = \xff\n", 0o600, "is not UTF-8 text"),
    ],
)
def test_check_config_names_the_credentials_file(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | bytes | None,
    mode: int,
    expected: str,
) -> None:
    secret = tmp_path / "mqtt.credentials"
    if content is not None:
        secret.write_bytes(content.encode() if isinstance(content, str) else content)
        secret.chmod(mode)
    path = tmp_path / "companion.toml"
    path.write_text(f'[home]\nmqtt_url = "mqtt://127.0.0.1"\ncredentials_file = "{secret}"\n')
    assert main(["check-config", str(path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"{path}: home.credentials_file: {secret}") and expected in line
    assert "pw" not in line.split(str(secret))[-1]


@pytest.mark.parametrize(
    "content",
    ['user = "luma"\npassword = "pw = 1"\n', "# the broker\nuser = luma\npassword = 'pw'\n"],
)
def test_check_config_accepts_a_private_credentials_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    from companion.config import read_credentials

    secret = tmp_path / "mqtt.credentials"
    secret.write_text(content)
    secret.chmod(0o600)
    path = tmp_path / "companion.toml"
    path.write_text(f'[home]\nmqtt_url = "mqtt://127.0.0.1:1884"\ncredentials_file = "{secret}"\n')
    assert main(["check-config", str(path)]) == 0
    assert capsys.readouterr().out.strip() == f"{path}: ok"
    home = load_config(path).home
    assert home is not None
    login = read_credentials(home)
    assert login is not None and login.user == "luma" and "pw" not in repr(login)
