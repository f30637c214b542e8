"""A JSON-lines log of what the companion heard and said, timed in seconds of input audio."""

from __future__ import annotations

import json
import os
import threading
from typing import Any


class EventLog:
    """One JSON object per line: {"t", "event", ...}; written as it happens, flushed each time.

    Events: `heard` (text, intent), `saying` and `said` (text; `said` also whether it was
    stopped), `stopped` (the words that stopped it).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file = open(path, "w", encoding="utf-8")  # noqa: SIM115 - open for the whole run

    def write(self, t: float, event: str, **fields: Any) -> None:
        line = json.dumps({"t": round(t, 3), "event": event, **fields}, ensure_ascii=False)
        with self._lock:
            if not self._file.closed:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The events of a log, in order."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
