"""Tonight's plan as a pure function of the config and the date: mode, wind-down, step times."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from companion.config import STEP_MINUTES, WEEKDAYS, Config

FREEFORM_SKIPS: Final = frozenset({"breathing", "gratitude"})
"""Freeform nights are child-led: fewer structured steps."""
SLEEP_SOUNDS_AFTER: Final = timedelta(minutes=1)
NOON: Final = time(12, 0)


@dataclass(frozen=True, slots=True)
class PlannedStep:
    at: datetime
    step: str


@dataclass(frozen=True, slots=True)
class NightPlan:
    """One night: `night` is the evening's date (a bedtime after midnight still belongs to it)."""

    night: date
    mode: str
    wind_down_at: datetime
    bedtime: datetime
    steps: tuple[PlannedStep, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.night.isoformat(),
            "mode": self.mode,
            "wind_down_at": self.wind_down_at.isoformat(),
            "bedtime": self.bedtime.isoformat(),
            "steps": [{"at": s.at.isoformat(), "step": s.step} for s in self.steps],
        }


def local(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time on a day, made real: a time in the spring-forward gap moves later."""
    naive = datetime.combine(day, wall)
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone)


def instant(moment: datetime) -> datetime:
    """The moment in UTC: in one zone Python compares and subtracts wall clocks, so in the hour
    daylight saving repeats 01:10 (second time) would count as before 01:15 (first time)."""
    return moment.astimezone(UTC)


def shift(moment: datetime, delta: timedelta) -> datetime:
    """Add real elapsed time (not wall-clock time) across daylight saving changes."""
    return (moment.astimezone(UTC) + delta).astimezone(moment.tzinfo)


def bedtime_wall(config: Config, night: date) -> time | None:
    """The evening's bedtime: the family's for that weekday, or the earliest child's if earlier."""
    weekday = WEEKDAYS[night.weekday()]
    times = [t for t in (config.bedtime_on(weekday),) if t is not None]
    times += [t for c in config.family.children for d, t in c.bedtime if d == weekday]
    if not times:
        return None
    # after-midnight bedtimes sort after evening ones
    return min(times, key=lambda t: (t < NOON, t))


def mode_for(config: Config, night: date) -> str:
    nights = config.nights
    if nights.alternate:
        return nights.modes[night.toordinal() % 2]
    return dict(nights.weekdays).get(WEEKDAYS[night.weekday()], "shared")


def steps_for(config: Config, mode: str) -> tuple[str, ...]:
    steps = [s for s in config.routine.steps if not (mode == "freeform" and s in FREEFORM_SKIPS)]
    if mode == "shared" and "announce" in steps and "roll_call" not in steps:
        steps.insert(steps.index("announce") + 1, "roll_call")
    return tuple(steps)


def night_plan(config: Config, night: date, mode: str | None = None) -> NightPlan | None:
    """The plan for the evening of `night`, or None when no bedtime is set that day."""
    wall = bedtime_wall(config, night)
    if wall is None:
        return None
    zone = ZoneInfo(config.timezone)
    day = night + timedelta(days=1) if wall < NOON else night
    bedtime = local(day, wall, zone)
    wind_down_at = shift(bedtime, -timedelta(minutes=config.routine.wind_down_minutes))
    return _timed(config, night, mode or mode_for(config, night), wind_down_at, bedtime)


def _timed(
    config: Config, night: date, mode: str, wind_down_at: datetime, bedtime: datetime
) -> NightPlan:
    """The steps of `mode`, from the wind-down to goodnight at bedtime, sleep sounds after."""
    planned: list[PlannedStep] = []
    at = wind_down_at
    for step in steps_for(config, mode):
        if step == "goodnight":
            planned.append(PlannedStep(bedtime, step))
        elif step == "sleep_sounds":
            planned.append(PlannedStep(shift(bedtime, SLEEP_SOUNDS_AFTER), step))
        else:
            planned.append(PlannedStep(at, step))
            at = shift(at, timedelta(minutes=STEP_MINUTES.get(step, 0)))
    return NightPlan(night, mode, wind_down_at, bedtime, tuple(planned))


def night_of(config: Config, now: datetime) -> date:
    """The evening `now` belongs to: today from noon, yesterday's in the small hours."""
    start = now.astimezone(ZoneInfo(config.timezone))
    return start.date() if start.time() >= NOON else start.date() - timedelta(days=1)


def begun_now(config: Config, now: datetime, mode: str | None = None) -> NightPlan:
    """Tonight's routine started by hand at `now`: its usual steps and spacing, the wind-down
    from now and bedtime `wind_down_minutes` later."""
    start = now.astimezone(ZoneInfo(config.timezone))
    night = night_of(config, now)
    bedtime = shift(start, timedelta(minutes=config.routine.wind_down_minutes))
    return _timed(config, night, mode or mode_for(config, night), start, bedtime)


def with_mode(config: Config, plan: NightPlan, mode: str) -> NightPlan:
    """The same night in another mode (not begun yet): that mode's steps, at the same times."""
    if mode == plan.mode:
        return plan
    return _timed(config, plan.night, mode, plan.wind_down_at, plan.bedtime)


def plans(config: Config, start: date, days: int) -> list[NightPlan]:
    """The next `days` nights from `start` (nights without a bedtime are left out)."""
    out = []
    for i in range(days):
        plan = night_plan(config, start + timedelta(days=i))
        if plan is not None:
            out.append(plan)
    return out


def tonight(config: Config, now: datetime) -> NightPlan | None:
    """The night `now` belongs to: the evening's plan, also in the small hours after it."""
    zone = ZoneInfo(config.timezone)
    today = now.astimezone(zone).date()
    for night in (today, today - timedelta(days=1)):
        plan = night_plan(config, night)
        if (
            plan is not None
            and instant(now) <= instant(plan.bedtime) + timedelta(hours=12)
            and instant(now) >= instant(plan.wind_down_at) - timedelta(hours=12)
        ):
            return plan
    return None


def decide(plan: NightPlan, now: datetime, grace: timedelta, done: bool) -> str:
    """What to do about a night's routine at `now`: "wait", "run", "skip" (missed) or "done"."""
    if done:
        return "done"
    late = instant(now) - instant(plan.wind_down_at)
    if late < timedelta(0):
        return "wait"
    if late <= grace:
        return "run"
    return "skip"
