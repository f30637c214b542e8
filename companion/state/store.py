"""SQLite state that survives power cuts: story progress, the journal, small facts."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from companion.errors import CompanionError

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS progress (
    story_id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    night TEXT NOT NULL,
    created_at TEXT NOT NULL,
    story_id TEXT NOT NULL,
    title TEXT NOT NULL,
    mode TEXT NOT NULL,
    exchanges TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS facts (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS night_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    night TEXT NOT NULL,
    at TEXT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL
);
"""
NIGHT_EVENTS = (
    "wind_down",
    "story",
    "goodnight",
    "sleep_sounds",
    "quiet",
    "woke_up",
    "bad_dream",
    "asked_for_grownup",
    "morning",
)
"""What the night report may tell; `detail` is a title or a mode, never what a child said."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: int
    night: str
    created_at: str
    story_id: str
    title: str
    mode: str
    exchanges: list[tuple[str, str]]
    text: str


class Store:
    """One SQLite file in WAL mode; every write is one committed transaction (synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA secure_delete=ON")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise CompanionError(f"{path}: cannot open the companion's state ({err})") from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def save_progress(self, story_id: str, data: dict[str, Any]) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO progress (story_id, data, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(story_id) DO UPDATE SET data = excluded.data, "
                "updated_at = excluded.updated_at",
                (story_id, json.dumps(data), _now()),
            )

    def forget_progress(self, story_id: str) -> None:
        """Drop a story's saved place (a new bad dream starts afresh, not where one stopped)."""
        with self._write() as db:
            db.execute("DELETE FROM progress WHERE story_id = ?", (story_id,))

    def load_progress(self, story_id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT data FROM progress WHERE story_id = ?", (story_id,)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def unfinished(self) -> list[str]:
        """Stories stopped part-way, most recent first."""
        rows = self._db.execute("SELECT story_id FROM progress ORDER BY updated_at DESC").fetchall()
        return [r[0] for r in rows]

    def finish_story(
        self,
        story_id: str,
        title: str,
        mode: str,
        exchanges: list[tuple[str, str]],
        text: str,
        night: str | None = None,
    ) -> int:
        """Save the finished story in the journal and forget its progress, in one transaction."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO journal (night, created_at, story_id, title, mode, exchanges, text) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (night or _today(), _now(), story_id, title, mode, json.dumps(exchanges), text),
            )
            db.execute("DELETE FROM progress WHERE story_id = ?", (story_id,))
        entry = int(cursor.lastrowid or 0)
        logger.info("journal entry %d saved (%s)", entry, story_id)
        return entry

    def journal(self, nights: int | None = None) -> list[JournalEntry]:
        """Entries, oldest first; `nights` keeps only the most recent N nights."""
        rows = self._db.execute(
            "SELECT id, night, created_at, story_id, title, mode, exchanges, text FROM journal "
            "ORDER BY night, id"
        ).fetchall()
        if nights is not None:
            keep = sorted({r[1] for r in rows})[-nights:] if nights > 0 else []
            rows = [r for r in rows if r[1] in keep]
        return [
            JournalEntry(
                r[0], r[1], r[2], r[3], r[4], r[5], [tuple(x) for x in json.loads(r[6])], r[7]
            )
            for r in rows
        ]

    def delete_entry(self, entry_id: int) -> bool:
        """Delete a journal entry; its words are overwritten in the file and the WAL emptied."""
        with self._write() as db:
            gone = db.execute("DELETE FROM journal WHERE id = ?", (entry_id,)).rowcount
        self._empty_wal()
        return gone > 0

    def _empty_wal(self, tries: int = 50) -> None:
        """Copy the WAL into the database and truncate it (waiting for readers to finish)."""
        for _ in range(tries):
            busy = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                return
            time.sleep(0.1)
        logger.warning(
            "%s: the write-ahead log is in use; it is emptied when the last reader closes",
            self.path,
        )

    def log_night(self, night: str, at: str, event: str, detail: str = "") -> None:
        """One line of the night's report (see NIGHT_EVENTS)."""
        if event not in NIGHT_EVENTS:
            raise ValueError(f"unknown night event {event!r}")
        with self._write() as db:
            db.execute(
                "INSERT INTO night_log (night, at, event, detail) VALUES (?, ?, ?, ?)",
                (night, at, event, detail),
            )

    def night_log(self, night: str) -> list[tuple[str, str, str]]:
        """(at, event, detail) for one night, in order."""
        rows = self._db.execute(
            "SELECT at, event, detail FROM night_log WHERE night = ? ORDER BY at, id", (night,)
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    def last_logged_night(self) -> str | None:
        row = self._db.execute("SELECT MAX(night) FROM night_log").fetchone()
        journal = self._db.execute("SELECT MAX(night) FROM journal").fetchone()
        found = [n for n in (row[0] if row else None, journal[0] if journal else None) if n]
        return max(found) if found else None

    def recent_stories(self, limit: int = 5) -> list[str]:
        rows = self._db.execute(
            "SELECT story_id FROM journal ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [r[0] for r in rows]

    def get_fact(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM facts WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_fact(self, key: str, value: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO facts (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def integrity_ok(self) -> bool:
        return self._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    def close(self) -> None:
        self._db.close()


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _today() -> str:
    return datetime.now().astimezone().date().isoformat()


def journal_markdown(entries: list[JournalEntry]) -> str:
    """The journal for parents, as Markdown."""
    if not entries:
        return "# Bedtime journal\n\nNo stories yet.\n"
    out = ["# Bedtime journal", ""]
    night = None
    for e in entries:
        if e.night != night:
            night = e.night
            out += [f"## {night}", ""]
        finished = f"*{e.mode} story, finished {e.created_at[11:16]}, entry {e.id}*"
        out += [f"### {e.title}", "", finished, ""]
        said = [(who, what) for who, what in e.exchanges if who != "Luma"]
        if said:
            out += ["Who said what:", ""]
            out += [f"- **{who}:** {what}" for who, what in said]
            out.append("")
        out += [e.text, ""]
    return "\n".join(out)
