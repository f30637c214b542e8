"""The systemd unit verifies, and the service talks to systemd (ready, watchdog)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from companion.service import Watchdog, notify, unit_text
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
