"""APScheduler cron jobs for the wind-down: once per local date, re-planned on config edits."""

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
from companion.routine.plan import NightPlan, decide, night_plan, tonight
from companion.state.store import Store

logger = logging.getLogger(__name__)

CHECK_EVERY_S: Final = 2.0
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
        from apscheduler.triggers.cron import CronTrigger

        self.scheduler.remove_all_jobs()
        zone = ZoneInfo(self.config.timezone)
        grace = self.config.routine.grace_minutes * 60
        for dow, hour, minute, weekday in cron_fields(self.config):
            self.scheduler.add_job(
                self.fire,
                CronTrigger(day_of_week=dow, hour=hour, minute=minute, timezone=zone),
                id=f"wind-down-{weekday}",
                misfire_grace_time=max(1, grace),
                coalesce=True,
                max_instances=1,
                replace_existing=True,
            )
        logger.info(
            "routine planned: %s",
            ", ".join(f"{w} {h:02d}:{m:02d} ({d})" for d, h, m, w in cron_fields(self.config)),
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
            return verdict

    def start(self) -> None:
        self.scheduler.start()
        self.fire()  # back within the grace period after being off: run once now

    def replan(self, config: Config) -> None:
        with self._lock:
            self.config = config
            if self.scheduler.timezone != ZoneInfo(config.timezone):
                self.scheduler.configure(timezone=ZoneInfo(config.timezone))
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
        try:
            config = load_config(self.path)
        except ConfigError as err:
            logger.error(
                "config not reloaded, keeping the last good one: %s", "; ".join(err.problems)
            )
            return False
        self.apply(config)
        logger.info("config reloaded from %s", self.path)
        return True

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
