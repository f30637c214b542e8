"""APScheduler jobs for the wind-down, one per night: once per local date, re-planned on edits."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from companion.config import WEEKDAYS, Config, load_config
from companion.errors import ConfigError
from companion.routine.plan import NightPlan, decide, instant, night_plan, plans, tonight
from companion.state.store import Store

logger = logging.getLogger(__name__)

CHECK_EVERY_S: Final = 2.0
PLAN_DAYS: Final = 9
"""Nights planned ahead (from yesterday, for a wind-down after midnight): always a week's worth."""
_CRON_DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def done_key(night: date) -> str:
    return f"routine:{night.isoformat()}"


def cron_fields(config: Config) -> list[tuple[str, int, int, str]]:
    """(day_of_week, hour, minute, night weekday) of each weekday's wind-down start.

    Worked out from a real plan, so a wind-down that starts before midnight for a bedtime after
    it lands on the right day.
    """
    out = []
    zone = ZoneInfo(config.timezone)
    today = datetime.now(zone).date()
    for offset in range(7):
        night = today + timedelta(days=offset)
        plan = night_plan(config, night)
        if plan is None:
            continue
        start = plan.wind_down_at
        out.append(
            (_CRON_DAYS[start.weekday()], start.hour, start.minute, WEEKDAYS[night.weekday()])
        )
    return out


class RoutineScheduler:
    """Fires `start(plan)` at each night's wind-down; never twice for one local date."""

    def __init__(
        self,
        config: Config,
        store: Store,
        start: Callable[[NightPlan], None],
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        self.config = config
        self.store = store
        self.start_night = start
        self.clock = clock or (lambda: datetime.now(ZoneInfo(self.config.timezone)))
        self._lock = threading.Lock()
        self.scheduler = BackgroundScheduler(timezone=ZoneInfo(config.timezone))
        self._plan_jobs()

    def _plan_jobs(self) -> None:
        """One job at each wind-down of the nights ahead, as the plan works it out.

        Exact instants rather than wall-clock cron fields: a wind-down in the hour that daylight
        saving repeats or skips fires once, and each fire plans the nights after it.
        """
        from apscheduler.triggers.date import DateTrigger

        self.scheduler.remove_all_jobs()
        now = self.clock()
        start = now.astimezone(ZoneInfo(self.config.timezone)).date() - timedelta(days=1)
        nights = plans(self.config, start, PLAN_DAYS)
        ahead = [p for p in nights if instant(p.wind_down_at) > instant(now)]
        for plan in ahead:
            self.scheduler.add_job(
                self.fire,
                DateTrigger(plan.wind_down_at),
                id=f"wind-down-{plan.night.isoformat()}",
                misfire_grace_time=None,  # late (suspended, busy): fire() runs or skips it
                coalesce=True,
                max_instances=1,
                replace_existing=True,
            )
        logger.info(
            "routine planned: %s",
            ", ".join(f"{p.wind_down_at:%a %d %b %H:%M} ({p.night:%a})" for p in ahead) or "none",
        )

    def fire(self) -> str:
        """Run tonight's routine if it is due and has not run for this local date."""
        with self._lock:
            now = self.clock()
            plan = tonight(self.config, now)
            if plan is None:
                return "none"
            done = self.store.get_fact(done_key(plan.night)) is not None
            grace = timedelta(minutes=self.config.routine.grace_minutes)
            verdict = decide(plan, now, grace, done)
            if verdict == "run":
                self.store.set_fact(done_key(plan.night), now.isoformat())
                self.start_night(plan)
            elif verdict == "skip":
                logger.info(
                    "routine for %s missed (wind-down was %s); skipped",
                    plan.night,
                    plan.wind_down_at.strftime("%H:%M"),
                )
                self.store.set_fact(done_key(plan.night), "skipped")
            if verdict != "wait":
                self._plan_jobs()
            return verdict

    def start(self) -> None:
        self.scheduler.start()
        self.fire()  # back within the grace period after being off: run once now

    def replan(self, config: Config) -> None:
        with self._lock:
            self.config = config
            self._plan_jobs()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)


class ConfigWatcher:
    """Reloads the config on SIGHUP or when the file changes; a bad edit keeps the last good one."""

    def __init__(self, path: Path, apply: Callable[[Config], None]) -> None:
        self.path = path
        self.apply = apply
        self._stamp = self._read_stamp()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="config-watch", daemon=True)

    def _read_stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def start(self) -> None:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGHUP, lambda *_: self._wake.set())
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(CHECK_EVERY_S)
            forced = self._wake.is_set()
            self._wake.clear()
            stamp = self._read_stamp()
            if forced or stamp != self._stamp:
                self._stamp = stamp
                self.reload()

    def reload(self) -> bool:
        """Load the file and apply it; on any problem keep the last good config and log one line."""
        try:
            if not Path(self.path).read_bytes().strip():
                raise ConfigError(["the file is empty (an edit in progress?)"], str(self.path))
            config = load_config(self.path)
        except ConfigError as err:
            logger.error(
                "config %s not reloaded, keeping the last good one: %s",
                self.path,
                "; ".join(err.problems),
            )
            return False
        except OSError as err:
            logger.error(
                "config %s not reloaded, keeping the last good one: cannot be read (%s)",
                self.path,
                err.strerror,
            )
            return False
        try:
            self.apply(config)
        except Exception as err:  # a failed re-plan must not end the watching
            logger.error("config %s could not be applied: %s", self.path, err)
            return False
        logger.info("config reloaded from %s", self.path)
        return True

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
