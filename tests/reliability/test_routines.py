"""Missed and doubled routines: the real scheduler, its own jobs followed on an injected clock."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from companion.config import Config, parse_config
from companion.routine.plan import NightPlan, night_plan
from companion.routine.scheduler import ConfigWatcher, RoutineScheduler
from companion.state.store import Store

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONDAY = date(2027, 3, 22)
"""A night in the future, so the scheduler's own thread has nothing due while a test runs."""


def utc(moment: datetime) -> datetime:
    """Compare moments in UTC (in one zone Python compares wall clocks)."""
    return moment.astimezone(UTC)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def config(zone: str = "Europe/London", **bedtimes: str) -> Config:
    week = {d: "19:30" for d in DAYS} | bedtimes
    routine = {"grace_minutes": 15, "wind_down_minutes": 30}
    return parse_config({"timezone": zone, "bedtime": week, "routine": routine})


def write_config(path: Path, monday: str) -> None:
    week = "\n".join(f'{d} = "{monday if d == "monday" else "19:30"}"' for d in DAYS)
    path.write_text(f'timezone = "Europe/London"\n[bedtime]\n{week}\n')


def next_fire(sched: RoutineScheduler, after: datetime) -> datetime | None:
    """When the scheduler's own jobs fire next after `after` (what APScheduler would do)."""
    times = [
        job.trigger.get_next_fire_time(None, after + timedelta(seconds=1))
        for job in sched.scheduler.get_jobs()
    ]
    return min((t for t in times if t is not None), key=utc, default=None)


def follow(sched: RoutineScheduler, clock: Clock, until: datetime) -> list[str]:
    """Fire each job at its time until `until`; the verdicts."""
    verdicts = []
    while (moment := next_fire(sched, clock.moment)) is not None and moment <= until:
        assert utc(moment) > utc(clock.moment), f"fires again at {moment} ({clock.moment})"
        clock.moment = moment
        verdicts.append(sched.fire())
    return verdicts


def test_off_through_wind_down(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, figure: Callable[[str, object], None]
) -> None:
    """Back within the grace period: runs once, also across a second restart; hours late: skipped
    and logged, never replayed."""
    store = Store(tmp_path / "state.db")
    plan = night_plan(config(), MONDAY)
    assert plan is not None
    started: list[NightPlan] = []
    clock = Clock(plan.wind_down_at + timedelta(minutes=10))
    for restart in range(3):
        sched = RoutineScheduler(config(), store, started.append, clock)
        sched.start()
        sched.shutdown()
        clock.moment += timedelta(minutes=2 + restart)
    back_in_grace = [p.night for p in started]
    tuesday = night_plan(config(), MONDAY + timedelta(days=1))
    assert tuesday is not None
    clock.moment = tuesday.wind_down_at + timedelta(hours=3)
    caplog.set_level(logging.INFO, "companion.routine.scheduler")
    verdicts = []
    for _ in range(2):
        sched = RoutineScheduler(config(), store, started.append, clock)
        verdicts.append(sched.fire())
    missed = [r.getMessage() for r in caplog.records if "missed" in r.getMessage()]
    figure(
        "missed routines",
        f"back 10 min after the wind-down: ran {len(back_in_grace)}x over 3 restarts; "
        f"back 3 h late: {verdicts[0]}, then {verdicts[1]}, {len(missed)} log line",
    )
    assert back_in_grace == [MONDAY]
    assert verdicts == ["skip", "done"] and len(started) == 1
    assert missed == [f"routine for {tuesday.night} missed (wind-down was 19:00); skipped"]


def test_off_in_the_hour_daylight_saving_repeats(
    tmp_path: Path, figure: Callable[[str, object], None]
) -> None:
    """Saturday's wind-down at 01:15 on the night the clocks go back: late is counted in real
    minutes, not by the wall clock that shows 01:00-02:00 twice."""
    conf = config(saturday="01:45")
    plan = night_plan(conf, date(2026, 10, 24))
    assert plan is not None and plan.wind_down_at.fold == 0
    first = datetime(2026, 10, 25, 0, 15, tzinfo=UTC)  # 01:15 the first time
    verdicts = {}
    for late in (10, 65, 50):
        again = (first + timedelta(minutes=late)).astimezone(ZoneInfo("Europe/London"))
        store = Store(tmp_path / f"state{late}.db")
        sched = RoutineScheduler(conf, store, lambda _: None, Clock(again))
        verdicts[f"{again:%H:%M}+{again.utcoffset().seconds // 3600}h ({late} min late)"] = (
            sched.fire()
        )
    figure("off in the repeated hour", ", ".join(f"back {k}: {v}" for k, v in verdicts.items()))
    assert list(verdicts.values()) == ["run", "skip", "skip"], verdicts


def test_config_reloaded_at_bedtime_runs_once(
    tmp_path: Path, figure: Callable[[str, object], None]
) -> None:
    """Reloads at bedtime (later, earlier, broken) re-plan the jobs but never run the night again."""
    path = tmp_path / "companion.toml"
    write_config(path, "19:30")
    store = Store(tmp_path / "state.db")
    started: list[NightPlan] = []
    clock = Clock(datetime(2027, 3, 22, 12, 0, tzinfo=ZoneInfo("Europe/London")))
    sched = RoutineScheduler(config(), store, started.append, clock)
    watcher = ConfigWatcher(path, sched.replan)
    verdicts = follow(sched, clock, datetime(2027, 3, 22, 19, 30, tzinfo=clock.moment.tzinfo))
    reloads = []
    for monday in ("21:00", "18:00", "25:99", "20:15"):
        write_config(path, monday)
        reloads.append(watcher.reload())
        clock.moment += timedelta(minutes=5)
        verdicts += follow(sched, clock, clock.moment + timedelta(hours=3))
    verdicts += follow(sched, clock, datetime(2027, 3, 25, 23, 0, tzinfo=clock.moment.tzinfo))
    nights = Counter(p.night for p in started)
    figure(
        "reloaded at bedtime",
        f"4 reloads at bedtime ({reloads.count(False)} invalid, kept the last good): "
        f"Monday ran {nights[MONDAY]}x; {len(nights)}/4 nights ran once",
    )
    assert reloads == [True, True, False, True]
    assert sched.config.bedtime_on("monday").strftime("%H:%M") == "20:15"
    assert nights == Counter({MONDAY + timedelta(days=i): 1 for i in range(4)}), nights
    assert verdicts.count("run") == 4


YEAR = {
    "Europe/London": ({"saturday": "01:45", "friday": "21:00"}, 30),
    "America/New_York": ({"saturday": "02:40", "sunday": "18:45"}, 75),
}
"""Saturday's bedtime is after midnight; its wind-down falls in the hour daylight saving skips
in March or repeats in October/November (and New York's bedtime in the skipped hour too)."""


@pytest.mark.parametrize("zone", YEAR)
def test_a_year_of_nights(zone: str, tmp_path: Path, figure: Callable[[str, object], None]) -> None:
    """Every night of 2026 runs exactly once, with restarts mid-night on random nights."""
    bedtimes, wind_down = YEAR[zone]
    week = {d: "19:30" for d in DAYS} | bedtimes
    conf = parse_config(
        {"timezone": zone, "bedtime": week, "routine": {"wind_down_minutes": wind_down}}
    )
    tz = ZoneInfo(zone)
    store = Store(tmp_path / "state.db")
    started: list[NightPlan] = []
    clock = Clock(datetime(2025, 12, 31, 12, 0, tzinfo=tz))
    sched = RoutineScheduler(conf, store, started.append, clock)
    rng = random.Random(zone)
    restarts = 0
    end = datetime(2027, 1, 1, 12, 0, tzinfo=tz)
    while (moment := next_fire(sched, clock.moment)) is not None and moment <= end:
        assert utc(moment) > utc(clock.moment), f"fires again at {moment} ({clock.moment})"
        clock.moment = moment
        sched.fire()
        if rng.random() < 0.2:  # the service restarts later that night
            clock.moment += timedelta(minutes=rng.uniform(1, 180))
            sched = RoutineScheduler(conf, store, started.append, clock)
            assert sched.fire() in ("done", "wait")
            restarts += 1
    nights = Counter(p.night for p in started if p.night.year == 2026)
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]
    once = sum(nights[d] == 1 for d in days)
    doubled = sum(nights[d] > 1 for d in days)
    missed = sum(nights[d] == 0 for d in days)
    figure(
        f"a year of nights ({zone})",
        f"{once}/365 nights ran once in {zone} ({restarts} restarts mid-night); "
        f"{doubled} doubled, {missed} missed",
    )
    assert once == 365 and doubled == missed == 0
    for plan in started:
        assert utc(plan.bedtime) - utc(plan.wind_down_at) == timedelta(minutes=wind_down)
