"""Tonight's wind-down: the night's steps at their times, and the answers they wait for."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from companion.activities.base import Context, control_intent
from companion.messages import Grammar, Intent, Reply, Transcript
from companion.routine.night import NightSteps
from companion.routine.plan import NightPlan

logger = logging.getLogger(__name__)

GRATITUDE: Final = Grammar("gratitude", open=True, prompt="What was the best part of your day?")
"""What the recognizer expects while the family says what they are thankful for."""
SWITCH_REFUSED: Final = (
    "Tonight is a {mode} night. Your grown-ups planned it that way. Maybe next time!"
)
SWITCHED: Final = "Okay! Tonight will be a {mode} night."
TOO_LATE: Final = "It's getting very late. Let's stop here, and finish another time. Goodnight."
NO_STORY: Final = "There are no stories to tell tonight."
_GROWNUP: Final = frozenset({"grownup"})

TellStory = Callable[[str, tuple[str, ...]], Reply | None]
"""Begins tonight's story (the night's mode, who is here); None: there is none to tell."""


class WindDown:
    """The night's steps, each begun at its time (`next`, when nothing else is under way): the
    story step is handed to whoever tells stories, and the night ends in sleep sounds.

    Unlike a story it is not opened once: the clock opens each step. While a step waits for an
    answer (the roll call, a turn at gratitude) it answers like any activity.
    """

    def __init__(self, steps: NightSteps, context: Context, started: datetime) -> None:
        self.steps = steps
        self.context = context
        self.started = started
        self.story_started = False
        self.said_goodnight = False
        """Goodnight was said (or the night ended): only the gentler requests from now on."""
        self.finished = False

    @classmethod
    def begin(
        cls, plan: NightPlan, context: Context, now: datetime, rehearsal: bool = False
    ) -> WindDown:
        """Tonight's routine from `plan`, for the family in the config."""
        config = context.config
        names = config.family.names or (config.listener_name,)
        steps = NightSteps(
            plan, names, config.routine.reminders, context.safety, rehearsal=rehearsal
        )
        logger.info("routine for %s (%s night) begins", plan.night, plan.mode)
        return cls(steps, context, now)

    @property
    def waiting(self) -> bool:
        """A step waits for an answer."""
        return self.steps.waiting_for_answer

    def next(self, now: datetime, tell_story: TellStory) -> Reply | None:
        """What is due at `now` (None: nothing yet); past the longest night, goodnight."""
        steps = self.steps
        if self.waiting:
            return None
        limit = timedelta(minutes=self.context.config.routine.max_session_minutes)
        if now - self.started > limit and not steps.rehearsal:
            return self._end(too_late=True)
        if steps.current == "story" and self.story_started:
            steps.advance()
        if not steps.due(now):
            return None
        return self._run(now, tell_story)

    def switch(self, mode: str) -> Reply:
        """A child asking for a "shared" or "freeform" night, before its story has begun."""
        steps = self.steps
        if not self.context.config.routine.child_can_switch:
            return Reply((SWITCH_REFUSED.format(mode=steps.plan.mode),))
        steps.plan = replace(steps.plan, mode=mode)
        return Reply((SWITCHED.format(mode=mode),))

    def answer(self, intent: Intent, transcript: Transcript) -> Reply:
        """The answer to the step that waits for one."""
        steps = self.steps
        text = transcript.text
        if text and control_intent(text, _GROWNUP) is not None:
            return Reply((self.context.call_grownup(),), expect=GRATITUDE)
        if intent.name == "stop" and control_intent(text):
            steps.advance()
            return Reply(("Okay.",))
        if steps.current == "roll_call":
            lines = steps.take_roll_call(text)
            steps.advance()
            return Reply(tuple(lines))
        lines = steps.take_gratitude(text or None)
        if steps.waiting_for_answer:
            return Reply(tuple(lines), expect=GRATITUDE)
        steps.advance()
        return Reply(tuple(lines))

    def silence(self) -> Reply | None:
        if not self.waiting:
            return None
        return self.answer(Intent("none", 0.0), Transcript("", 0.0, "silence"))

    def grammar(self) -> Grammar | None:
        if not self.waiting:
            return None
        return self._names() if self.steps.current == "roll_call" else GRATITUDE

    def _run(self, now: datetime, tell_story: TellStory) -> Reply | None:
        steps = self.steps
        step = steps.current
        logger.info("routine step: %s", step)
        if step == "announce":
            lines = steps.announce()
        elif step == "reminders":
            lines = steps.reminder_lines()
        elif step == "breathing":
            lines = steps.breathing()
        elif step == "roll_call":
            return Reply(tuple(steps.roll_call()), expect=self._names())
        elif step == "gratitude":
            return Reply(tuple(steps.start_gratitude()), expect=GRATITUDE)
        elif step == "story":
            self.story_started = True
            told = tell_story(steps.plan.mode, steps.present)
            if told is None:
                steps.advance()
                return Reply((NO_STORY,))
            return told
        elif step == "goodnight":
            steps.advance()
            self.said_goodnight = True
            return Reply(tuple(steps.goodnight()), cap=self.context.config.volume.night)
        elif step == "sleep_sounds":
            steps.advance()
            return self._end(sounds=True)
        else:
            lines = []
        steps.advance()
        return Reply(tuple(lines)) if lines else self.next(now, tell_story)

    def _names(self) -> Grammar:
        names = (*tuple(n.lower() for n in self.steps.names), "everyone", "all of us")
        prompt = f"Who's here tonight? {', '.join(self.context.config.family.names)}."
        return Grammar("names", names, open=True, prompt=prompt)

    def _end(self, sounds: bool = False, too_late: bool = False) -> Reply:
        self.finished = self.said_goodnight = True
        config = self.context.config
        if too_late:
            return Reply((TOO_LATE,), cap=config.volume.night)
        chosen = (config.sleep_sounds.sound,) if sounds else ()
        return Reply((), sounds=chosen, cap=config.volume.night)
