"""Where the companion's data folders are: beside the code in a checkout, or installed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """`stories` or `voices`: $COMPANION_<NAME>_DIR, the checkout's folder, or the installed one."""
    env = os.environ.get(f"COMPANION_{name.upper()}_DIR")
    if env:
        return Path(env)
    local = _ROOT / name
    if local.is_dir():
        return local
    return Path(sys.prefix) / "share" / "companion" / name


def state_dir() -> Path:
    """Where the companion keeps its database ($STATE_DIRECTORY under systemd)."""
    env = os.environ.get("COMPANION_STATE_DIR") or os.environ.get("STATE_DIRECTORY")
    if env:
        return Path(env)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "companion"


def cache_dir() -> Path:
    """Rebuildable files such as optimized voices ($CACHE_DIRECTORY under systemd)."""
    env = os.environ.get("COMPANION_CACHE_DIR") or os.environ.get("CACHE_DIRECTORY")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "companion"
