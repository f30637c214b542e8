"""Time to rise: "is it morning?" answered by the parents' wake-up time, and a good morning."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Final

from companion.config import Config
from companion.messages import Reply

NOT_YET: Final = (
    "Not yet. It's still sleeping time. Close your eyes, and I'll tell you when it's time to "
    "get up."
)
YES: Final = "Yes! It's morning. Good morning, {name}!"
DAYTIME: Final = "It's daytime, {name}. Sleeping time is tonight."
GREETING: Final = "Good morning, {name}! It's time to get up. I hope you had lovely dreams."
GREET_WITHIN: Final = timedelta(minutes=30)
"""A device switched on later than this after the wake-up time does not say good morning."""
NOON: Final = time(12, 0)


def wake_today(config: Config, now: datetime) -> datetime | None:
    """Today's wake-up time, or None when the parents set none for today."""
    at = config.wake_on(f"{now:%A}".lower())
    return None if at is None else now.replace(hour=at.hour, minute=at.minute, second=0)


def answer(config: Config, now: datetime, sleeping: bool, name: str) -> Reply:
    """ "Is it morning?": not yet before the wake-up time (at night volume), yes after it."""
    wake = wake_today(config, now)
    if now.time() < NOON and (wake is None or now < wake) and (sleeping or wake is not None):
        return Reply((NOT_YET,), cap=config.volume.night)
    if now.time() < NOON:  # morning: the day's volume again
        return Reply((YES.format(name=name),), cap=config.volume.day)
    if sleeping:
        return Reply((NOT_YET,), cap=config.volume.night)
    return Reply((DAYTIME.format(name=name),))


def greeting_due(config: Config, now: datetime, greeted: str | None) -> bool:
    """Whether to say good morning now (once a day, within a while of the wake-up time)."""
    wake = wake_today(config, now)
    return (
        wake is not None and wake <= now < wake + GREET_WITHIN and greeted != now.date().isoformat()
    )


def greeting(config: Config, name: str) -> Reply:
    """The good morning, at the day's volume (the night cap ends here)."""
    return Reply((GREETING.format(name=name),), cap=config.volume.day)
