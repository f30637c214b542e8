"""After a bad dream: the story made up together, a grown-up if chosen, sleep sounds at its end."""

from __future__ import annotations

from dataclasses import replace
from typing import Final, Protocol

from companion.activities.base import Activity, Context
from companion.messages import Grammar, Intent, Reply, Transcript
from companion.storytelling.bad_dream import CALL_GROWNUP
from companion.storytelling.engine import Storyteller

BAD_DREAM_RATE: Final = 0.85
"""How fast the bad dream's story is told, as a share of the usual pace."""


class Telling(Activity, Protocol):
    """An activity telling a story with the storyteller."""

    @property
    def teller(self) -> Storyteller: ...

    @property
    def ended(self) -> bool:
        """The story reached its end (not only stopped)."""
        ...


class BadDream:
    """The bad dream's story as it is told, with the comfort it promises kept."""

    def __init__(self, story: Telling, context: Context) -> None:
        self.story = story
        self.context = context
        self.grownup_called = False

    @property
    def finished(self) -> bool:
        return self.story.finished

    def open(self) -> Reply:
        return self._kept(self.story.open())

    def answer(self, intent: Intent, transcript: Transcript) -> Reply:
        return self._kept(self.story.answer(intent, transcript))

    def silence(self) -> Reply | None:
        reply = self.story.silence()
        return None if reply is None else self._kept(reply)

    def grammar(self) -> Grammar | None:
        return self.story.grammar()

    def _kept(self, reply: Reply) -> Reply:
        """The reply, with a grown-up called once the child chose that, and sleep sounds after
        the story's last line."""
        chosen = self.story.teller.progress.slots.get("comfort")
        if chosen == CALL_GROWNUP and not self.grownup_called:
            self.grownup_called = True
            lines = reply.lines
            reply = replace(reply, lines=(*lines[:1], self.context.call_grownup(), *lines[1:]))
        if self.story.ended:
            reply = replace(reply, sounds=(self.context.config.sleep_sounds.sound,))
        return reply
