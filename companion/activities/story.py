"""A story told with the storyteller (from the library, or made up), saved after every answer."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from typing import Any, Final

from companion.activities.base import AT_A_QUESTION, Context, control_intent
from companion.dialog.replies import BACK_TO_STORY, NO_ANSWER_IN_STORY, answer_question
from companion.messages import Grammar, Intent, Line, Reply, Transcript
from companion.state.store import Store
from companion.storytelling.bad_dream import CALL_GROWNUP
from companion.storytelling.engine import (
    PARAGRAPH_PAUSE_S,
    Narration,
    Progress,
    Question,
    Storyteller,
)
from companion.storytelling.format import Ask, Choose, Say, Story
from companion.storytelling.safety import (
    WordSafety,
    answer_prompt,
    answer_reading,
    answer_terms,
    dont_know,
)

logger = logging.getLogger(__name__)

IN_STORY: Final = AT_A_QUESTION | {"question", "grownup", "volume.up", "volume.down"}
"""What a child may say instead of an answer while a story waits for one."""
CONTROL_PHRASES: Final = (
    "stop",
    "be quiet",
    "say that again",
    "repeat that",
    "go on",
    "what happens next",
    "goodnight",
    "sleep tight",
    "louder",
    "quieter",
    "i want mummy",
    "i want daddy",
)
STOPPED: Final = "Okay, we'll stop here. I'll remember where we were."
GOODNIGHT_MID_STORY: Final = "Goodnight, {name}. We'll finish the story another time."
MADE_UP: Final = ("freeform", "bad-dream")
"""The `path` of a story made up together rather than read from a file."""


@dataclass
class StorySession:
    """One story being told, its progress saved after every answer."""

    teller: Storyteller
    store: Store | None
    context: Context
    mode: str = "told"
    last: list[str | Line] = field(default_factory=list)
    """What was said last, for "say that again"."""
    question: Question | None = None
    ended: bool = False
    """The story reached its end (and is in the journal)."""
    stopped: bool = False
    """Stopped (or goodnight) before its end; its place is kept."""
    journal_id: int | None = None

    @classmethod
    def begin(
        cls,
        story: Story,
        listeners: tuple[str, ...],
        store: Store | None,
        context: Context,
        rng: random.Random,
        mode: str = "told",
        base_rate: float = 1.0,
    ) -> StorySession:
        """`story` told to `listeners`, carried on where it was left (if it was)."""
        saved = store.load_progress(story.id) if store else None
        progress = Progress.from_json(saved) if saved else None
        teller = Storyteller(story, listeners, context.safety, progress, rng, base_rate)
        return cls(teller, store, context, mode)

    @property
    def finished(self) -> bool:
        return self.ended or self.stopped

    def open(self) -> Reply:
        """The recap (when resuming) and the story up to its first question."""
        recap = self.teller.recap()
        question = self.teller.question()
        if (
            self.teller.resumed
            and question is not None
            and self.teller.progress.pending_choice is None
        ):
            self.question = question
            self.last = [recap or "", question.text]
            self._save()
            return self._reply([line for line in self.last if line])
        return self._reply(self._continue([recap] if recap else []))

    def answer(self, intent: Intent, transcript: Transcript) -> Reply:
        """An answer to the question, or a request instead of one (stop, say that again, a
        question of the child's own, a grown-up, louder)."""
        text = transcript.text
        control = control_intent(text, IN_STORY) if text else None
        if control is not None and not (control.name == "grownup" and self._offers_grownup()):
            return self._control(control.name, text)
        if dont_know(text):  # "I don't know", "you choose": the story picks one kindly
            self.teller.progress.attempts = 1
            return self._reply(self._take(None))
        question = self.question
        if question is not None and transcript.alternatives:
            readings = (text, *transcript.alternatives)
            text = answer_reading(question.kind, readings, self.context.safety)
        return self._reply(self._take(text))

    def silence(self) -> Reply | None:
        return self._reply(self._take(None))

    def grammar(self) -> Grammar | None:
        if self.question is None:
            return None
        question = self.question
        return Grammar(
            f"answer-{question.kind}",
            question.phrases + CONTROL_PHRASES,
            open=True,
            prompt=answer_prompt(question.text, question.kind, question.phrases),
            terms=(
                question.phrases
                if question.kind == "choice"
                else answer_terms(question.kind, self.teller.listeners)
            ),
        )

    def _control(self, name: str, text: str) -> Reply:
        if name == "repeat":
            return self._reply(self.last)
        if name == "stop":
            self.stopped = True
            return Reply((STOPPED,))
        if name == "goodnight":
            self.stopped = True
            return Reply((GOODNIGHT_MID_STORY.format(name=self.teller.listeners[0]),))
        if name == "question":
            answer = answer_question(text, in_story=True)
            known = answer != NO_ANSWER_IN_STORY
            return self._aside((answer, BACK_TO_STORY) if known else (answer,))
        if name == "grownup":
            return self._aside((self.context.call_grownup(),))
        if name in ("volume.up", "volume.down"):
            volume = self.context.volume(name)
            return replace(self._aside(volume.lines), volume_step=volume.volume_step)
        self.teller.progress.attempts = 1  # "go on": no second asking, pick kindly
        return self._reply(self._take(None))

    def _offers_grownup(self) -> bool:
        """Whether the question itself offers to call a grown-up (after a bad dream): then "I
        want Mummy" is that option's answer."""
        return self.question is not None and CALL_GROWNUP in self.question.options

    def _aside(self, lines: tuple[str | Line, ...]) -> Reply:
        """Something said while the story waits for an answer; then its question again."""
        again = (self.question.text,) if self.question is not None else ()
        return Reply((*lines, *again), expect=self.grammar())

    def _reply(self, lines: list[str | Line]) -> Reply:
        return Reply(tuple(lines), expect=None if self.finished else self.grammar())

    def _take(self, heard: str | None) -> list[str | Line]:
        """Take an answer (None: silence); the lines to say next."""
        replies, again = self.teller.answer(heard)
        if again:
            question = self.teller.question()
            assert question is not None
            self._save()
            self.last = [*replies, question.text]
            return [*replies, f"Let me ask again. {question.text}"]
        return self._continue(replies)

    def _continue(self, head: list[str]) -> list[str | Line]:
        segment = self.teller.advance()
        lines = _lines(segment.narration, head)
        self.question = segment.question
        if segment.question is not None:
            lines.append(segment.question.text)
        self.ended = segment.finished
        self._save()
        self.last = lines
        return lines

    def _save(self) -> None:
        if self.store is None:
            return
        story = self.teller.story
        if self.ended:
            if self.journal_id is None:
                self.journal_id = self.store.finish_story(
                    story.id,
                    story.title,
                    self.mode,
                    self.teller.progress.exchanges,
                    self.teller.final_text(),
                    date.today().isoformat(),
                )
        else:
            self.store.save_progress(
                story.id,
                self.teller.progress.to_json()
                | {"mode": self.mode, "title": story.title, "generated": _generated(story)},
            )


def _lines(narration: tuple[Narration, ...], head: list[str]) -> list[str | Line]:
    lines: list[str | Line] = list(head)
    lines += [Line(n.text, n.rate, n.volume, PARAGRAPH_PAUSE_S) for n in narration]
    return lines


def _generated(story: Story) -> dict[str, Any] | None:
    """Made-up stories are saved whole, so they can be resumed exactly."""
    if story.path not in MADE_UP:
        return None
    from companion.storytelling.storage import story_to_json

    return story_to_json(story)


@lru_cache(maxsize=256)
def speakable(story: Story, safety: WordSafety) -> bool:
    """Whether every line of a story may be said: a story with a rude word is not told."""
    texts = [story.title, *story.ending]
    for step in story.steps:
        if isinstance(step, Say):
            texts += [*step.paragraphs, step.recap]
        elif isinstance(step, Ask):
            texts += [step.question, step.reply, *step.defaults]
        elif isinstance(step, Choose):
            texts.append(step.question)
            texts += [t for o in step.options for t in (o.label, *o.words, *o.paragraphs)]
    if all(safety.is_safe(text) for text in texts if text):
        return True
    logger.warning("%s: not told (a word the companion would not say)", story.path or story.id)
    return False
