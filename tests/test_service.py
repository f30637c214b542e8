"""The systemd unit verifies, and the service talks to systemd (ready, watchdog)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from companion.config import HomeSettings
from companion.service import Watchdog, home_dropin, notify, unit_text, write_home_dropin
from tests.conftest import need


def test_unit_verifies(tmp_path: Path) -> None:
    tool = need("systemd-analyze")
    exe = Path(sys.executable).with_name("companion")
    unit = tmp_path / "companion.service"
    unit.write_text(unit_text(str(exe)))
    result = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True)
    problems = [line for line in result.stderr.splitlines() if "companion.service" in line]
    assert result.returncode == 0 and problems == [], result.stderr


def test_unit_keeps_the_promises() -> None:
    text = unit_text("/usr/bin/companion")
    for line in (
        "Restart=on-failure",
        "StartLimitBurst=",
        "After=sound.target",
        "PrivateNetwork=yes",
        "IPAddressDeny=any",
        "ProtectSystem=strict",
        "StateDirectory=companion",
        "SupplementaryGroups=audio",
        "WatchdogSec=",
        "Type=notify",
        "ExecStart=/usr/bin/companion run",
    ):
        assert line in text, line


def test_ready_and_watchdog_reach_systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "2000000")
    assert notify("READY=1")
    assert sock.recv(64) == b"READY=1"
    dog = Watchdog()
    assert dog.interval == 1.0
    dog.feed()
    dog.feed()  # too soon: nothing more is sent
    assert sock.recv(64) == b"WATCHDOG=1"
    sock.settimeout(0.2)
    with pytest.raises(TimeoutError):
        sock.recv(64)
    sock.close()


def test_without_systemd_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify("READY=1") is False


HOME = HomeSettings("mqtt://192.168.1.20:1883", "192.168.1.20", 1883, "/etc/companion/mqtt.secret")


@pytest.mark.parametrize(
    "home", [HOME, HomeSettings("mqtt://[fd00::20]", "fd00::20"), HomeSettings("x", "10.0.0.2")]
)
def test_home_dropin_verifies(tmp_path: Path, home: HomeSettings) -> None:
    tool = need("systemd-analyze")
    exe = Path(sys.executable).with_name("companion")
    unit = tmp_path / "companion.service"
    unit.write_text(unit_text(str(exe)))
    dropin = write_home_dropin(home, tmp_path / "companion.service.d" / "home.conf")
    assert dropin is not None
    result = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True)
    problems = [line for line in result.stderr.splitlines() if "companion.service" in line]
    assert result.returncode == 0 and problems == [], result.stderr


def test_home_dropin_allows_only_the_broker() -> None:
    lines = home_dropin(HOME).splitlines()
    assert lines[lines.index("[Service]") + 1 :] == [
        "PrivateNetwork=no",
        "RestrictAddressFamilies=",
        "RestrictAddressFamilies=AF_UNIX AF_INET",
        "IPAddressDeny=any",
        "IPAddressAllow=192.168.1.20",
        "LoadCredential=mqtt:/etc/companion/mqtt.secret",
    ]
    assert "AF_INET6" in home_dropin(HomeSettings("mqtt://[fd00::20]", "fd00::20"))
    assert "LoadCredential" not in home_dropin(HomeSettings("mqtt://10.0.0.2", "10.0.0.2"))


def test_without_home_the_dropin_goes(tmp_path: Path) -> None:
    target = tmp_path / "companion.service.d" / "home.conf"
    assert write_home_dropin(HOME, target) == target and target.is_file()
    assert write_home_dropin(None, target) is None
    assert not target.exists() and not target.parent.exists()
    assert write_home_dropin(None, target) is None  # nothing there: nothing to do
