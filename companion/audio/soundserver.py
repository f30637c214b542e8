"""The sound server's own speakers and microphones (PulseAudio or PipeWire), by name.

PortAudio sees the whole sound server as one device ("pulse"); its sinks and sources are
listed here through `pulsectl`, so a parent can pick "the USB speaker" rather than "pulse",
and a device opened through "pulse" is pointed at that sink or source.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S: Final = 1.0


@dataclass(frozen=True, slots=True)
class ServerDevice:
    """A sink (speaker) or source (microphone) of the sound server."""

    name: str
    description: str
    kind: str
    """ "input" (a source) or "output" (a sink)."""
    monitor: bool = False
    """A source that only records what a sink plays (no microphone)."""

    def matches(self, wanted: str) -> bool:
        low = wanted.lower()
        return low == self.name.lower() or low in self.description.lower()


def server_devices() -> list[ServerDevice] | None:
    """The sound server's sinks and sources; None when there is no server to ask."""
    try:
        import pulsectl
    except (ImportError, OSError):  # not installed, or no libpulse on this machine
        return None
    try:
        pulse = pulsectl.Pulse("companion", connect=False)
    except Exception as err:  # libpulse missing or broken: no server to ask
        logger.debug("no sound server client: %s", err)
        return None
    try:
        pulse.connect(timeout=CONNECT_TIMEOUT_S)
        found = [ServerDevice(s.name, s.description, "output") for s in pulse.sink_list()]
        found += [
            ServerDevice(s.name, s.description, "input", s.monitor_of_sink != 0xFFFFFFFF)
            for s in pulse.source_list()
        ]
    except pulsectl.PulseError as err:
        logger.debug("no sound server: %s", err)
        return None
    finally:
        pulse.close()
    return found


def server_device(wanted: str, kind: str) -> ServerDevice | None:
    """The sink or source named `wanted` (its name, or a part of its description)."""
    if not wanted or wanted.lower() in ("default", "pulse"):
        return None
    found = [d for d in server_devices() or () if d.kind == kind]
    exact = [d for d in found if d.name.lower() == wanted.lower()]
    # a monitor records what a speaker plays: taken only when named exactly
    described = [d for d in found if not d.monitor and d.matches(wanted)]
    return (exact or described or [None])[0]
