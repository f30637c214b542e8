"""Running under systemd: readiness and watchdog notifications, and installing the unit."""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from companion.config import CREDENTIAL_NAME, HomeSettings, load_config
from companion.errors import CompanionError
from companion.paths import data_dir

logger = logging.getLogger(__name__)

UNIT_TARGET: Final = Path("/etc/systemd/system/companion.service")
CONFIG_TARGET: Final = Path("/etc/companion/companion.toml")
DROPIN_TARGET: Final = Path("/etc/systemd/system/companion.service.d/home.conf")


def notify(message: str) -> bool:
    """Send one sd_notify message ("READY=1", "WATCHDOG=1"); False when not under systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as err:
        logger.debug("sd_notify failed: %s", err)
        return False
    return True


class Watchdog:
    """Feeds systemd's watchdog from the audio loop, so a hung loop gets restarted."""

    def __init__(self) -> None:
        usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
        self.interval = usec / 2e6 if usec else 0.0
        self._last = 0.0

    def feed(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            notify("WATCHDOG=1")


def unit_text(executable: str) -> str:
    """The unit file with ExecStart pointing at this installation."""
    template = (data_dir("systemd") / "companion.service").read_text(encoding="utf-8")
    return template.replace("@COMPANION@", executable)


def home_dropin(home: HomeSettings) -> str:
    """The unit's drop-in for the home link: a network, but only the broker's address on it."""
    family = "AF_INET6" if ipaddress.ip_address(home.host).version == 6 else "AF_INET"
    lines = [
        "# Written by `companion install-service` because the config has a [home] section:",
        f"# the companion may reach its MQTT broker ({home.host}) and no other address.",
        "[Service]",
        "PrivateNetwork=no",
        "RestrictAddressFamilies=",
        f"RestrictAddressFamilies=AF_UNIX {family}",
        "IPAddressDeny=any",
        f"IPAddressAllow={home.host}",
    ]
    if home.credentials_file:
        # systemd reads the file as root and hands the service a private copy
        path = Path(home.credentials_file).expanduser()
        lines.append(f"LoadCredential={CREDENTIAL_NAME}:{path}")
    return "\n".join(lines) + "\n"


def write_home_dropin(home: HomeSettings | None, target: Path = DROPIN_TARGET) -> Path | None:
    """Write the drop-in when [home] is set; else remove it, so the unit keeps no network."""
    if home is None:
        target.unlink(missing_ok=True)
        if target.parent.is_dir() and not any(target.parent.iterdir()):
            target.parent.rmdir()
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(home_dropin(home), encoding="utf-8")
    return target


def companion_executable() -> str:
    found = shutil.which("companion")
    return str(Path(found).resolve()) if found else f"{sys.executable} -m companion"


def install_service(config: str | None) -> int:
    """Install the unit (root), or print the commands a parent should run."""
    exe = companion_executable()
    if os.geteuid() != 0:
        print("Run this as root to install the service:")
        print(f"  sudo {exe} install-service" + (f" --config {config}" if config else ""))
        return 1
    if (
        shutil.which("useradd")
        and subprocess.run(["id", "companion"], capture_output=True).returncode
    ):
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--groups", "audio", "companion"],
            check=True,
        )
    CONFIG_TARGET.parent.mkdir(parents=True, exist_ok=True)
    if config:
        load_config(config)  # a broken config is reported before anything is installed
        shutil.copyfile(config, CONFIG_TARGET)
    elif not CONFIG_TARGET.exists():
        shutil.copyfile(Path(__file__).with_name("companion.example.toml"), CONFIG_TARGET)
    UNIT_TARGET.write_text(unit_text(exe), encoding="utf-8")
    home = load_config(CONFIG_TARGET).home
    if write_home_dropin(home) is not None:
        assert home is not None
        print(f"network: only the MQTT broker at {home.host} ({DROPIN_TARGET})")
    for command in (["systemctl", "daemon-reload"], ["systemctl", "enable", "--now", "companion"]):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            raise CompanionError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    print(f"installed {UNIT_TARGET}; logs: journalctl -u companion -f")
    return 0
