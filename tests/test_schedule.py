"""Schedule maths as pure functions: weekdays, daylight saving, after midnight, missed, reloads."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from companion.cli import main
from companion.config import load_config, parse_config
from companion.routine.plan import decide, night_plan, plans, tonight
from companion.routine.scheduler import ConfigWatcher, RoutineScheduler, cron_fields
from companion.state.store import Store

LONDON = ZoneInfo("Europe/London")
EXAMPLE = Path(__file__).resolve().parent.parent / "companion" / "companion.example.toml"


def cfg(**tables: dict) -> object:
    data = {
        "timezone": "Europe/London",
        "bedtime": {
            d: "19:30"
            for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        },
    }
    data["routine"] = {"wind_down_minutes": 30}
    data.update(tables)
    return parse_config(data)


def test_every_weekday_has_its_bedtime_and_mode() -> None:
    config = cfg(
        bedtime={
            "monday": "19:00",
            "tuesday": "19:05",
            "wednesday": "19:10",
            "thursday": "19:15",
            "friday": "20:00",
            "saturday": "20:30",
            "sunday": "18:45",
        },
        nights={"monday": "shared", "tuesday": "freeform"},
    )
    week = plans(config, date(2026, 11, 23), 7)  # a Monday
    assert [p.bedtime.strftime("%a %H:%M") for p in week] == [
        "Mon 19:00",
        "Tue 19:05",
        "Wed 19:10",
        "Thu 19:15",
        "Fri 20:00",
        "Sat 20:30",
        "Sun 18:45",
    ]
    assert [p.mode for p in week][:2] == ["shared", "freeform"]
    monday = week[0]
    assert monday.wind_down_at == datetime(2026, 11, 23, 18, 30, tzinfo=LONDON)
    assert [s.step for s in monday.steps] == [
        "announce",
        "roll_call",
        "reminders",
        "breathing",
        "gratitude",
        "story",
        "goodnight",
        "sleep_sounds",
    ]
    assert [s.at.strftime("%H:%M") for s in monday.steps] == [
        "18:30",
        "18:31",
        "18:32",
        "18:35",
        "18:37",
        "18:42",
        "19:00",
        "19:01",
    ]


def test_freeform_nights_have_fewer_structured_steps() -> None:
    plan = night_plan(cfg(), date(2026, 11, 24), "freeform")
    assert plan is not None
    assert [s.step for s in plan.steps] == [
        "announce",
        "reminders",
        "story",
        "goodnight",
        "sleep_sounds",
    ]


def test_alternating_nights() -> None:
    config = cfg(nights={"alternate": True, "alternate_first": "freeform"})
    modes = [p.mode for p in plans(config, date(2026, 11, 23), 4)]
    assert modes in (["freeform", "shared"] * 2, ["shared", "freeform"] * 2)
    assert len(set(modes[::2])) == 1 and modes[0] != modes[1]


@pytest.mark.parametrize(
    ("night", "offset_before", "offset_after"),
    [(date(2026, 3, 28), 0, 1), (date(2026, 10, 24), 1, 0)],
)
def test_daylight_saving_changes(night: date, offset_before: int, offset_after: int) -> None:
    """Bedtime stays at 19:30 local on both sides of each change; the wind-down is 30 real minutes."""
    config = cfg()
    for day in (night, night + timedelta(days=1)):
        plan = night_plan(config, day)
        assert plan is not None
        assert plan.bedtime.strftime("%H:%M") == "19:30"
        assert plan.bedtime - plan.wind_down_at == timedelta(minutes=30)
    before = night_plan(config, night)
    after = night_plan(config, night + timedelta(days=1))
    assert before is not None and after is not None
    assert before.bedtime.utcoffset() == timedelta(hours=offset_before)
    assert after.bedtime.utcoffset() == timedelta(hours=offset_after)


def test_bedtime_after_midnight_belongs_to_the_evening_before() -> None:
    config = cfg(bedtime={"saturday": "00:15"}, routine={"wind_down_minutes": 45})
    plan = night_plan(config, date(2026, 11, 28))  # Saturday night
    assert plan is not None
    assert plan.bedtime == datetime(2026, 11, 29, 0, 15, tzinfo=LONDON)
    assert plan.wind_down_at == datetime(2026, 11, 28, 23, 30, tzinfo=LONDON)
    assert tonight(config, datetime(2026, 11, 29, 0, 5, tzinfo=LONDON)) == plan


def test_bedtime_in_the_spring_forward_gap_moves_later() -> None:
    config = cfg(bedtime={"saturday": "01:30"})
    plan = night_plan(config, date(2026, 3, 28))
    assert plan is not None
    assert plan.bedtime.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert plan.bedtime - plan.wind_down_at == timedelta(minutes=30)


def test_a_child_with_an_earlier_bedtime_sets_the_night() -> None:
    config = cfg(family={"children": [{"name": "Leo", "age": 4, "bedtime": {"friday": "19:00"}}]})
    plan = night_plan(config, date(2026, 11, 27))
    assert plan is not None and plan.bedtime.strftime("%H:%M") == "19:00"


def test_missed_routine_is_skipped_not_replayed() -> None:
    plan = night_plan(cfg(), date(2026, 11, 23))
    assert plan is not None
    grace = timedelta(minutes=15)
    start = plan.wind_down_at
    assert decide(plan, start - timedelta(minutes=1), grace, False) == "wait"
    assert decide(plan, start + timedelta(minutes=10), grace, False) == "run"
    assert decide(plan, start + timedelta(hours=3), grace, False) == "skip"
    assert decide(plan, start + timedelta(minutes=10), grace, True) == "done"


class FakeClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def scheduler(config, tmp_path: Path, clock: FakeClock) -> tuple[RoutineScheduler, list]:
    started: list = []
    return RoutineScheduler(config, Store(tmp_path / "s.db"), started.append, clock), started


def test_runs_once_and_a_reload_at_bedtime_does_not_run_it_again(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 19, 1, tzinfo=LONDON))
    sched, started = scheduler(cfg(), tmp_path, clock)
    assert sched.fire() == "run"
    assert sched.fire() == "done"
    sched.replan(cfg(bedtime={"monday": "19:45"}))  # edited mid-evening
    clock.moment = datetime(2026, 11, 23, 19, 16, tzinfo=LONDON)
    assert sched.fire() == "done"
    assert len(started) == 1


def test_back_within_grace_runs_once_hours_later_skips(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 19, 10, tzinfo=LONDON))
    sched, started = scheduler(cfg(), tmp_path, clock)
    assert sched.fire() == "run" and len(started) == 1
    clock.moment = datetime(2026, 11, 24, 22, 0, tzinfo=LONDON)  # off through Tuesday's bedtime
    assert sched.fire() == "skip" and len(started) == 1


def test_cron_jobs_fire_once_per_local_date_for_a_year() -> None:
    """The real cron triggers, across both changes, in two zones."""
    from apscheduler.triggers.cron import CronTrigger

    for zone_name in ("Europe/London", "America/New_York"):
        zone = ZoneInfo(zone_name)
        config = parse_config(
            {
                "timezone": zone_name,
                "bedtime": {
                    "monday": "19:30",
                    "tuesday": "19:30",
                    "wednesday": "19:30",
                    "thursday": "19:30",
                    "friday": "19:30",
                    "saturday": "00:15",
                    "sunday": "19:30",
                },
            }
        )
        nights: list[date] = []
        for dow, hour, minute, _ in cron_fields(config):
            trigger = CronTrigger(day_of_week=dow, hour=hour, minute=minute, timezone=zone)
            moment = datetime(2026, 1, 1, tzinfo=zone)
            while True:
                moment = trigger.get_next_fire_time(None, moment + timedelta(seconds=1))
                if moment.year > 2026:
                    break
                plan = tonight(config, moment)
                assert plan is not None and decide(plan, moment, timedelta(0), False) == "run"
                nights.append(plan.night)
        assert len(nights) == len(set(nights)) >= 364


def test_invalid_edit_keeps_the_last_good_plan(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "companion.toml"
    path.write_text('timezone = "Europe/London"\n[bedtime]\nmonday = "19:30"\n')
    applied = []
    watcher = ConfigWatcher(path, applied.append)
    path.write_text('timezone = "Europe/London"\n[bedtime]\nmonday = "25:99"\n')
    assert watcher.reload() is False and applied == []
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert (
        len(errors) == 1
        and 'bedtime.monday: "25:99" is not a time (HH:MM)' in errors[0].getMessage()
    )
    path.write_text('timezone = "Europe/London"\n[bedtime]\nmonday = "20:00"\n')
    assert watcher.reload() is True
    assert applied[0].bedtime_on("monday") == time(20, 0)


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("Mars/Olympus", '"Mars/Olympus" is not a known time zone'),
        ("../../etc/passwd", '"../../etc/passwd" is not a time zone name'),
    ],
)
def test_bad_time_zone(tmp_path: Path, zone: str, message: str) -> None:
    from companion.errors import ConfigError

    path = tmp_path / "c.toml"
    path.write_text(f'timezone = "{zone}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems[0].startswith(f"timezone: {message}")


def test_schedule_command_shows_the_example_week(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["schedule", "--days", "7", "--json", "--config", str(EXAMPLE)]) == 0
    week = json.loads(capsys.readouterr().out)
    assert len(week) == 7
    for night in week:
        assert set(night) == {"date", "mode", "wind_down_at", "bedtime", "steps", "wake_at"}
        assert night["mode"] in ("shared", "freeform")
        bedtime = datetime.fromisoformat(night["bedtime"])
        assert bedtime.utcoffset() is not None
        assert datetime.fromisoformat(night["wind_down_at"]) == bedtime - timedelta(minutes=30)
        assert [s["step"] for s in night["steps"]][-2:] == ["goodnight", "sleep_sounds"]


def test_the_watcher_notices_an_edited_file(tmp_path: Path) -> None:
    import time as clock

    path = tmp_path / "companion.toml"
    path.write_text('timezone = "Europe/London"\n[bedtime]\nmonday = "19:30"\n')
    applied: list = []
    watcher = ConfigWatcher(path, applied.append)
    watcher.start()
    try:
        clock.sleep(0.1)
        path.write_text('timezone = "Europe/London"\n[bedtime]\nmonday = "20:15"\n')
        deadline = clock.monotonic() + 10
        while not applied and clock.monotonic() < deadline:
            clock.sleep(0.1)
    finally:
        watcher.stop()
    assert applied and applied[-1].bedtime_on("monday") == time(20, 15)
