"""One night's wind-down, step by step: pure conversation logic, paced by a clock it is given."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from companion.messages import Line
from companion.routine.plan import NightPlan, instant
from companion.storytelling.safety import WordSafety

logger = logging.getLogger(__name__)

BREATHING: Final = (
    Line("Let's have a breathing moment together.", 0.9, 0.9, 1.0),
    Line("Breathe in slowly... two, three, four.", 0.8, 0.85, 1.5),
    Line("And breathe out... two, three, four.", 0.8, 0.85, 1.5),
    Line("Once more. In... two, three, four.", 0.8, 0.8, 1.5),
    Line("And out... two, three, four. Lovely.", 0.8, 0.8, 1.0),
)
EVERYONE: Final = ("everyone", "all of us", "everybody", "all", "the whole family", "we all are")


@dataclass
class RoundState:
    """Whose turn it is in a round of questions, and who has been asked once already."""

    people: tuple[str, ...]
    index: int = 0
    asked_twice: bool = False


@dataclass
class NightSteps:
    """Walks the steps of a night plan; `story` and `sounds` are run by the host."""

    plan: NightPlan
    names: tuple[str, ...]
    reminders: tuple[str, ...]
    safety: WordSafety
    rehearsal: bool = False
    present: tuple[str, ...] = ()
    done: list[str] = field(default_factory=list)
    position: int = 0
    gratitude: list[tuple[str, str]] = field(default_factory=list)
    _round: RoundState | None = None
    _asking: str = ""

    def __post_init__(self) -> None:
        self.present = self.present or self.names

    @property
    def current(self) -> str | None:
        steps = self.plan.steps
        return steps[self.position].step if self.position < len(steps) else None

    def due(self, now: datetime) -> bool:
        """Whether the next step may start: in a rehearsal at once, else at its time."""
        if self.position >= len(self.plan.steps):
            return False
        return self.rehearsal or instant(now) >= instant(self.plan.steps[self.position].at)

    @property
    def waiting_for_answer(self) -> bool:
        return bool(self._asking)

    def advance(self) -> None:
        if self.current is not None:
            self.done.append(self.current)
        self.position += 1
        self._asking = ""
        self._round = None

    # -- steps that talk ------------------------------------------------------------

    def announce(self) -> list[str | Line]:
        who = _join(self.names)
        mode = "a shared night, all together" if self.plan.mode == "shared" else "a freeform night"
        return [f"Hello {who}. It's nearly bedtime. Tonight is {mode}."]

    def reminder_lines(self) -> list[str | Line]:
        if not self.reminders:
            return []
        return [f"Time to get ready: {_join(self.reminders)}.", "I'll wait while you do that."]

    def breathing(self) -> list[str | Line]:
        return list(BREATHING)

    def roll_call(self) -> list[str | Line]:
        self._asking = "roll_call"
        return ["Who's here tonight?"]

    def take_roll_call(self, heard: str | None) -> list[str | Line]:
        self._asking = ""
        said = (heard or "").lower()
        found = tuple(n for n in self.names if n.lower() in said or n.split()[-1].lower() in said)
        if not said or any(word in said for word in EVERYONE) or not found:
            self.present = self.names
            return [f"Lovely. {_join(self.names)}, all here together."]
        self.present = found
        return [f"Hello, {_join(found)}!"]

    def start_gratitude(self) -> list[str | Line]:
        self._round = RoundState(self.present)
        return ["Let's share the best part of our day.", *self._ask_next()]

    def _ask_next(self) -> list[str | Line]:
        state = self._round
        assert state is not None
        if state.index >= len(state.people):
            self._asking = ""
            return ["Thank you, everyone. What a lovely day it was."]
        self._asking = "gratitude"
        return [f"{state.people[state.index]}, what was the best part of your day?"]

    def take_gratitude(self, heard: str | None) -> list[str | Line]:
        state = self._round
        assert state is not None
        name = state.people[state.index]
        text = (heard or "").strip()
        if not text and not state.asked_twice:
            state.asked_twice = True
            return [f"{name}? What was the best bit of today?"]
        lines: list[str | Line]
        if not text:
            lines = [f"That's okay, {name}. Maybe next time."]
            self.gratitude.append((name, "(quiet)"))
        elif not self.safety.is_safe(text):
            lines = [f"Thank you, {name}. Let's keep our words kind at bedtime."]
            self.gratitude.append((name, "(words the companion would not repeat)"))
        else:
            lines = [f"Thank you, {name}. {_sentence(text)} That sounds lovely."]
            self.gratitude.append((name, text))
        state.index += 1
        state.asked_twice = False
        return lines + self._ask_next()

    def goodnight(self) -> list[str | Line]:
        names = self.present or self.names
        return [Line(f"Goodnight, {_join(names)}. Sleep tight, and sweet dreams.", 0.85, 0.8, 1.0)]


def _join(items: tuple[str, ...] | list[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".!?")
    return text[:1].upper() + text[1:] + "."
