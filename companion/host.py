"""Activities behind the listening loop: stories, freeform nights, bad dreams, saved as they go."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Final, TextIO

from companion.config import Config
from companion.dialog.intents import classify, command_phrases
from companion.dialog.replies import SimpleBrain
from companion.messages import Grammar, Intent, Line, Reply, Transcript
from companion.state.store import Store
from companion.storytelling.cocreate import bad_dream_story, freeform_story
from companion.storytelling.engine import PARAGRAPH_PAUSE_S, Progress, Question, Storyteller
from companion.storytelling.format import Story
from companion.storytelling.safety import WordSafety

logger = logging.getLogger(__name__)

AT_A_QUESTION: Final = frozenset({"stop", "goodnight", "repeat", "story.continue"})
CONTROL_PHRASES: Final = (
    "stop",
    "be quiet",
    "say that again",
    "repeat that",
    "go on",
    "what happens next",
    "goodnight",
    "sleep tight",
)
STOPPED: Final = "Okay, we'll stop here. I'll remember where we were."
GOODNIGHT_MID_STORY: Final = "Goodnight, {name}. We'll finish the story another time."
BAD_DREAM_RATE: Final = 0.85


@dataclass
class StorySession:
    """One story being told, its progress saved after every answer."""

    teller: Storyteller
    store: Store | None
    mode: str = "told"
    last: list[str | Line] = field(default_factory=list)
    question: Question | None = None
    finished: bool = False
    journal_id: int | None = None

    def _lines(self, narration: tuple, head: list[str] | None = None) -> list[str | Line]:  # type: ignore[type-arg]
        lines: list[str | Line] = list(head or [])
        lines += [Line(n.text, n.rate, n.volume, PARAGRAPH_PAUSE_S) for n in narration]
        return lines

    def open(self) -> list[str | Line]:
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
            return [line for line in self.last if line]
        return self._continue([recap] if recap else [])

    def _continue(self, head: list[str]) -> list[str | Line]:
        segment = self.teller.advance()
        lines = self._lines(segment.narration, head)
        self.question = segment.question
        if segment.question is not None:
            lines.append(segment.question.text)
        self.finished = segment.finished
        self._save()
        self.last = lines
        return lines

    def answer(self, heard: str | None) -> list[str | Line]:
        """Take an answer (None: silence); the lines to say next."""
        replies, again = self.teller.answer(heard)
        if again:
            question = self.teller.question()
            assert question is not None
            self._save()
            self.last = [*replies, question.text]
            return [*replies, f"Let me ask again. {question.text}"]
        return self._continue(replies)

    def _save(self) -> None:
        if self.store is None:
            return
        story = self.teller.story
        if self.finished:
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

    def grammar(self) -> Grammar | None:
        if self.question is None:
            return None
        return Grammar(
            f"answer-{self.question.kind}", self.question.phrases + CONTROL_PHRASES, open=True
        )


def _generated(story: Story) -> dict | None:  # type: ignore[type-arg]
    """Made-up stories are saved whole, so they can be resumed exactly."""
    if story.path not in ("freeform", "bad-dream"):
        return None
    from companion.storytelling.storage import story_to_json

    return story_to_json(story)


def control_intent(text: str) -> Intent | None:
    """stop / goodnight / repeat / go on, when that is what the whole answer says."""
    intent = classify(Transcript(text, 1.0, "answer"), allowed=AT_A_QUESTION)
    words = len(text.split())
    if intent.name != "none" and intent.confidence >= 0.75 and words <= 4:
        return intent
    return None


class Host:
    """The brain of the loop: simple replies, or the activity under way (a story)."""

    def __init__(
        self,
        config: Config,
        stories: list[Story],
        store: Store | None,
        rng: random.Random | None = None,
        listeners: tuple[str, ...] | None = None,
    ) -> None:
        self.config = config
        self.stories = {s.id: s for s in stories}
        self.store = store
        self.rng = rng or random.Random()
        self.safety = WordSafety.with_words(config.safety.blocked_words)
        self.listeners = listeners or (config.listener_name,)
        self.simple = SimpleBrain(config.listener_name, config.speech.wake_name)
        self.session: StorySession | None = None
        self.command = Grammar("command", command_phrases(), open=True)

    # -- starting activities ---------------------------------------------------------

    def start_story(self, story: Story, mode: str = "told", base_rate: float = 1.0) -> Reply:
        saved = self.store.load_progress(story.id) if self.store else None
        progress = Progress.from_json(saved) if saved else None
        teller = Storyteller(story, self.listeners, self.safety, progress, self.rng, base_rate)
        self.session = StorySession(teller, self.store, mode)
        return self._reply(self.session.open())

    def choose_story(self) -> Story | None:
        """An unfinished story first; else one that suits the youngest and was not told lately."""
        if not self.stories:
            return None
        if self.store:
            for story_id in self.store.unfinished():
                if story_id in self.stories:
                    return self.stories[story_id]
        ages = [c.age for c in self.config.family.children] or [6]
        fits = [s for s in self.stories.values() if s.ages[0] <= min(ages) <= s.ages[1]]
        recent = set(self.store.recent_stories(len(self.stories) - 1)) if self.store else set()
        fresh = [s for s in fits or self.stories.values() if s.id not in recent]
        return self.rng.choice(fresh or list(self.stories.values()))

    def resume_generated(self, kind: str) -> Story | None:
        if not self.store:
            return None
        from companion.storytelling.storage import story_from_json

        for story_id in self.store.unfinished():
            saved = self.store.load_progress(story_id) or {}
            if story_id.startswith(kind) and saved.get("generated"):
                return story_from_json(saved["generated"])
        return None

    # -- the Brain protocol ----------------------------------------------------------

    def wake(self) -> Reply:
        return self.simple.wake()

    def respond(self, intent: Intent, transcript: Transcript) -> Reply:
        if self.session is not None and not self.session.finished:
            return self._answer(transcript.text)
        self.session = None
        if intent.name == "story.start" or (intent.name == "story.continue" and self._unfinished()):
            story = self.choose_story()
            if story is not None:
                return self.start_story(story)
        if intent.name == "night.freeform":
            story = self.resume_generated("freeform") or freeform_story(self.rng, self.listeners[0])
            return self.start_story(story, mode="freeform")
        if intent.name == "bad_dream":
            story = bad_dream_story(self.rng, self.listeners[0])
            return self.start_story(story, mode="bad dream", base_rate=BAD_DREAM_RATE)
        return self.simple.respond(intent, transcript)

    def _unfinished(self) -> bool:
        return bool(self.store and self.store.unfinished())

    def _answer(self, text: str) -> Reply:
        session = self.session
        assert session is not None
        control = control_intent(text) if text else None
        if control is not None:
            if control.name == "repeat":
                return self._reply(session.last)
            if control.name == "stop":
                self.session = None
                return Reply((STOPPED,))
            if control.name == "goodnight":
                self.session = None
                return Reply((GOODNIGHT_MID_STORY.format(name=self.listeners[0]),))
            session.teller.progress.attempts = 1  # "go on": no second asking, pick kindly
            return self._reply(session.answer(None))
        return self._reply(session.answer(text))

    def silence(self) -> Reply | None:
        if self.session is None or self.session.finished:
            return self.simple.silence()
        return self._reply(self.session.answer(None))

    def _reply(self, lines: list[str | Line]) -> Reply:
        session = self.session
        expect = session.grammar() if session is not None and not session.finished else None
        if session is not None and session.finished:
            self.session = None
        return Reply(tuple(lines), expect=expect)


def tell_text(host: Host, story: Story, read: Callable[[], str | None], out: TextIO) -> None:
    """Tell a story in the terminal: each answer is one line; an empty line is silence."""
    reply = host.start_story(story)
    while True:
        for line in reply.lines:
            print(line if isinstance(line, str) else line.text, file=out, flush=True)
        if reply.expect is None:
            return
        print("> ", end="", file=out, flush=True)
        heard = read()
        if heard is None:  # end of input: stop, keeping our place
            print(f"\n{STOPPED}", file=out, flush=True)
            return
        heard = heard.strip()
        if heard:
            reply = host.respond(Intent("none", 0.0), Transcript(heard, 1.0, "text"))
        else:
            reply = host.silence() or Reply(())
