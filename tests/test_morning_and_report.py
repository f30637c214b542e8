"""Time to rise, and the night report for parents."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from companion.config import parse_config
from companion.errors import ConfigError
from companion.host import Host
from companion.messages import Intent, Transcript
from companion.routine.plan import night_plan
from companion.state.report import night_report
from companion.state.store import Store


def test_wake_time_every_day_or_per_weekday() -> None:
    every = parse_config({"morning": {"wake_time": "07:00"}})
    assert every.wake_on("monday") == every.wake_on("sunday") == time(7, 0)
    weekend = parse_config({"morning": {"wake_time": {"saturday": "07:30", "sunday": "07:45"}}})
    assert weekend.wake_on("saturday") == time(7, 30) and weekend.wake_on("monday") is None
    assert parse_config({}).wake_time == ()


@pytest.mark.parametrize(
    ("morning", "problem"),
    [
        ({"wake_time": "7am"}, 'morning.wake_time: "7am" is not a time (HH:MM)'),
        ({"wake_time": {"funday": "07:00"}}, "morning.wake_time.funday: unknown key"),
        ({"wake": "07:00"}, "morning.wake: unknown key"),
    ],
)
def test_wake_time_mistakes_name_the_key(morning: dict, problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"morning": morning})
    assert problem in err.value.message


def test_schedule_shows_the_wake_up_time(tmp_path: Path) -> None:
    config = tmp_path / "companion.toml"
    config.write_text('[morning]\nwake_time = "06:45"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    shown = subprocess.run(
        [sys.executable, "-m", "companion", "schedule", "--days", "2", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env | {"HOME": str(tmp_path)},
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("wake-up 06:45") == 2


def test_the_night_report_tells_what_happened_not_what_was_said(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    night = "2026-12-04"
    store.log_night(night, "2026-12-04T19:10:00+00:00", "wind_down", "shared night")
    store.finish_story(
        "s003-mara-and-the-pillow-maze",
        "Mara and the Pillow Maze",
        "told",
        [("Luma", "What did Mara find?"), ("Mila", "a secret whistle"), ("Leo", "blue")],
        "the story text",
        night,
    )
    store.log_night(night, "2026-12-04T19:30:00+00:00", "goodnight")
    store.log_night(night, "2026-12-04T19:31:00+00:00", "sleep_sounds", "rain")
    store.log_night(night, "2026-12-05T02:14:00+00:00", "woke_up")
    store.log_night(night, "2026-12-05T02:14:30+00:00", "bad_dream")
    store.log_night(night, "2026-12-05T02:15:00+00:00", "asked_for_grownup")
    report = night_report(store, night)
    assert report.startswith("# Night report: Friday 04 December 2026")
    assert "- 19:10 wind-down started (shared night)" in report
    assert "Mara and the Pillow Maze" in report and "answered by Leo, Mila" in report
    assert "- 19:30 goodnight" in report and "- 19:31 sleep sounds (rain)" in report
    assert "- 02:14 woke up" in report and "- 02:15 asked for a grown-up" in report
    assert "woke up 1 time, 1 a bad dream, 1 asked for a grown-up" in report
    assert "secret whistle" not in report and "blue" not in report
    assert night_report(store) == report  # the last night, when none is named
    with pytest.raises(ValueError):
        store.log_night(night, "2026-12-04T19:10:00+00:00", "what Mila said")
    assert "Nothing to report yet" in night_report(Store(tmp_path / "empty.db"))


LONDON = ZoneInfo("Europe/London")


def morning_host(tmp_path: Path, now: list[datetime]) -> Host:
    config = parse_config(
        {
            "timezone": "Europe/London",
            "family": {"children": [{"name": "Mila", "age": 6}]},
            "morning": {"wake_time": "07:00"},
            "volume": {"day": 0.8, "night": 0.4},
        }
    )
    host = Host(config, [], Store(tmp_path / "m.db"), random.Random(2), clock=lambda: now[0])
    return host


def test_is_it_morning_before_and_after_the_wake_up_time(tmp_path: Path) -> None:
    now = [datetime(2026, 12, 5, 5, 40, tzinfo=LONDON)]
    host = morning_host(tmp_path, now)
    host.after_goodnight, host.goodnight_at = True, datetime(2026, 12, 4, 19, 30, tzinfo=LONDON)
    early = host.respond(Intent("morning", 1), Transcript("is it morning yet?", 1, "t"))
    assert "Not yet" in early.text() and early.cap == 0.4
    now[0] = datetime(2026, 12, 5, 7, 10, tzinfo=LONDON)
    later = host.respond(Intent("morning", 1), Transcript("can I get up now?", 1, "t"))
    assert "Good morning, Mila" in later.text() and later.cap == 0.8


def test_good_morning_once_at_the_wake_up_time_and_the_night_ends(tmp_path: Path) -> None:
    now = [datetime(2026, 12, 5, 6, 59, tzinfo=LONDON)]
    host = morning_host(tmp_path, now)
    host.after_goodnight, host.goodnight_at = True, datetime(2026, 12, 4, 19, 30, tzinfo=LONDON)
    assert host.tick() is None
    now[0] = datetime(2026, 12, 5, 7, 0, 20, tzinfo=LONDON)
    hello = host.tick()
    assert hello is not None and "Good morning, Mila" in hello.text() and hello.cap == 0.8
    assert not host.after_goodnight
    assert host.tick() is None  # once a day
    now[0] = datetime(2026, 12, 6, 8, 0, tzinfo=LONDON)  # switched on an hour late: no greeting
    assert host.tick() is None
    assert "good morning" in night_report(host.store, "2026-12-04")


def test_the_quiet_of_the_night_ends_with_the_quiet_hours(tmp_path: Path) -> None:
    now = [datetime(2026, 12, 5, 21, 0, tzinfo=LONDON)]
    host = morning_host(tmp_path, now)
    host.config = parse_config({"timezone": "Europe/London"})  # no wake-up time set
    host.after_goodnight, host.goodnight_at = True, datetime(2026, 12, 5, 19, 30, tzinfo=LONDON)
    host.tick()
    assert host.after_goodnight  # still the night
    now[0] = datetime(2026, 12, 6, 15, 0, tzinfo=LONDON)  # the next afternoon
    host.tick()
    assert not host.after_goodnight
    story = host.respond(Intent("story.start", 1), Transcript("tell me a story", 1, "t"))
    assert "sleeping time" not in story.text()


def test_a_night_in_the_report(tmp_path: Path) -> None:
    now = [datetime(2026, 12, 4, 19, 10, tzinfo=LONDON)]
    host = morning_host(tmp_path, now)
    plan = night_plan(host.config, date(2026, 12, 4), "freeform")
    assert plan is not None
    host.post_night(plan, rehearsal=True)
    for _ in range(40):  # the routine's steps, each at its time, answered with silence
        reply = host.tick()
        while reply is not None and reply.expect is not None:
            reply = host.silence()
        if host.night is None:
            break
        now[0] = max(now[0] + timedelta(minutes=1), now[0])
    now[0] = datetime(2026, 12, 5, 2, 14, tzinfo=LONDON)
    host.respond(Intent("bad_dream", 1), Transcript("I had a bad dream", 1, "t"))
    host.respond(Intent("grownup", 1), Transcript("I want Mummy", 1, "t"))
    report = night_report(host.store, "2026-12-04")
    for line in (
        "wind-down started (freeform night)",
        "goodnight",
        "sleep sounds",
        "02:14 woke up",
    ):
        assert line in report, report
    assert "a bad dream" in report and "asked for a grown-up" in report


def test_idle_ticks_read_the_store_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [datetime(2026, 12, 5, 7, 5, tzinfo=LONDON)]
    host = morning_host(tmp_path, now)
    reads: list[str] = []
    real = host.store.get_fact
    monkeypatch.setattr(host.store, "get_fact", lambda key: reads.append(key) or real(key))
    assert host.tick() is not None  # the good morning
    for _ in range(500):  # the loop ticks at every idle chunk (30 ms)
        assert host.tick() is None
    assert len(reads) <= 1
