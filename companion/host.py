"""The host: what the child asks goes to the activity under way, starts one, or gets a reply."""

from __future__ import annotations

import logging
import queue
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final, TextIO
from zoneinfo import ZoneInfo

from companion.activities import gentle, library, morning
from companion.activities.bad_dream import BAD_DREAM_RATE, BadDream
from companion.activities.base import Activity, control_intent
from companion.activities.gentle import ASKED_FOR_GROWNUP, CALMING_OFFER, NO_CALMING
from companion.activities.story import IN_STORY, STOPPED, StorySession, speakable
from companion.activities.wind_down import WindDown
from companion.config import Config
from companion.dialog.intents import command_phrases
from companion.dialog.replies import SimpleBrain, answer_question
from companion.errors import CompanionError
from companion.messages import Grammar, Intent, Reply, Transcript
from companion.routine.night import NightSteps
from companion.routine.plan import NightPlan, night_of
from companion.speech.grammar import words
from companion.state.store import Store
from companion.storytelling.bad_dream import BAD_DREAM_ID
from companion.storytelling.format import Story
from companion.storytelling.safety import WordSafety

__all__ = [
    "ASKED_FOR_GROWNUP",
    "CALMING_OFFER",
    "IN_STORY",
    "NOT_FOUND",
    "NO_CALMING",
    "SLEEPING_TIME",
    "STOPPED",
    "Host",
    "control_intent",
    "tell_text",
]

logger = logging.getLogger(__name__)

NIGHT_ALLOWED: Final = frozenset(
    {
        "sleep_sounds",
        "bad_dream",
        "stop",
        "goodnight",
        "repeat",
        "cant_sleep",
        "grownup",
        "volume.up",
        "volume.down",
        "morning",
    }
)
WOKEN_AGAIN: Final = timedelta(minutes=10)
"""Talk after goodnight this long after the last is a new wake-up in the night report."""
NIGHT_MODES: Final = {"night.shared": "shared", "night.freeform": "freeform"}
"""A child asking for another kind of night, and the mode it asks for."""
SLEEPING_TIME: Final = "It's sleeping time now. Close your eyes, and I'll be right here."
NOT_TOLD: Final = "Hmm, that story isn't ready to tell. Let's choose another one."
NOT_FOUND: Final = "I don't know that one yet, so let's have another story."


class Host:
    """The brain of the loop: simple replies, or the activity under way (a story, a bad dream,
    the night's wind-down); it is also what those activities may ask for (their `Context`)."""

    def __init__(
        self,
        config: Config,
        stories: list[Story],
        store: Store | None,
        rng: random.Random | None = None,
        listeners: tuple[str, ...] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.safety = WordSafety.with_words(config.safety.blocked_words)
        self.stories = {s.id: s for s in stories if speakable(s, self.safety)}
        self.store = store
        self.rng = rng or random.Random()
        self.listeners = listeners or (config.listener_name,)
        self.simple = SimpleBrain(config.listener_name, config.speech.wake_name)
        self.activity: Activity | None = None
        """The story under way (told, made up, or a bad dream's)."""
        self.command = Grammar("command", command_phrases(), open=True)
        self.events: queue.Queue[tuple[NightPlan, bool]] = queue.Queue()
        self.wind_down: WindDown | None = None
        self.last_night: NightSteps | None = None
        self.after_goodnight = False
        self.goodnight_at: datetime | None = None
        self._woke_at: datetime | None = None
        self._greeted_on: str | None = None
        """The day of the last good morning (from the store, once)."""
        self.clock: Callable[[], datetime] = clock or (
            lambda: datetime.now(ZoneInfo(self.config.timezone))
        )
        self.on_night_done: Callable[[NightPlan], None] | None = None
        self.on_event: Callable[[str], None] | None = None
        """Called with a named event for the home integration ("asked_for_grownup"); never
        with what the child said."""
        self.offer: str | None = None
        """What was just offered and waits for a yes or a choice ("calming")."""
        self.volume_level = 1.0
        """The speaking level asked for, as a share of the volume cap (1.0: the cap)."""

    @property
    def session(self) -> StorySession | None:
        """The story under way (told, made up, or a bad dream's), if one is."""
        activity = self.activity.story if isinstance(self.activity, BadDream) else self.activity
        return activity if isinstance(activity, StorySession) else None

    @property
    def night(self) -> NightSteps | None:
        """Tonight's steps, while the wind-down is under way."""
        return self.wind_down.steps if self.wind_down is not None else None

    @property
    def story_step_started(self) -> bool:
        """Tonight's story has begun (it may be over)."""
        return self.wind_down is not None and self.wind_down.story_started

    def fixed_lines(self) -> list[str]:
        """Every fixed line, for the phrase cache."""
        return [*self.simple.fixed_lines(), STOPPED, SLEEPING_TIME, "Okay."]

    def update_config(self, config: Config) -> None:
        """A reloaded config: new names, words, caps and plan from now on."""
        self.config = config
        self.safety = WordSafety.with_words(config.safety.blocked_words)
        self.stories = {k: s for k, s in self.stories.items() if speakable(s, self.safety)}
        if self.wind_down is None and self.activity is None:
            self.listeners = (config.listener_name,)

    # -- the nightly routine ---------------------------------------------------------

    def post_night(self, plan: NightPlan, rehearsal: bool = False) -> None:
        """Thread-safe: begin a night's routine at the next quiet moment."""
        self.events.put((plan, rehearsal))

    def tick(self) -> Reply | None:
        """Called when the loop is idle: start what is due (the routine's next step, the
        morning's good morning)."""
        while not self.events.empty():
            plan, rehearsal = self.events.get_nowait()
            self.wind_down = WindDown.begin(plan, self, self.clock(), rehearsal)
            self.after_goodnight = False
            self.log("wind_down", f"{plan.mode} night", plan.night.isoformat())
        night = self.wind_down
        if night is None:
            return self._morning_due()
        if self.activity is not None and not self.activity.finished:
            return None
        reply = night.next(self.clock(), self._tell_tonight)
        if night.said_goodnight and not self.after_goodnight:  # only the gentler requests now
            self.after_goodnight = True
            self.goodnight_at = self.clock()
            self.log("goodnight", "", night.steps.plan.night.isoformat())
        if night.finished:
            self.wind_down = None
            self.last_night = night.steps
            if reply is not None and reply.sounds:
                self.log("sleep_sounds", reply.sounds[0], night.steps.plan.night.isoformat())
            if self.on_night_done is not None:
                self.on_night_done(night.steps.plan)
        return reply

    def _morning_due(self) -> Reply | None:
        """Good morning at the wake-up time (once a day); the night's quiet ends then, or when
        the quiet hours end."""
        if self.activity is not None and not self.activity.finished:
            return None
        now = self.clock()
        if self.after_goodnight and self.goodnight_at is not None:
            end = self.config.quiet_hours.end
            ends = self.goodnight_at.replace(hour=end.hour, minute=end.minute, second=0)
            if ends <= self.goodnight_at:
                ends += timedelta(days=1)
            if now >= ends:
                self.after_goodnight = False
        if not self.config.wake_time or self.store is None:
            return None
        if self._greeted_on is None:  # read once: this runs at every idle chunk
            self._greeted_on = self.store.get_fact("morning_greeted") or ""
        if not morning.greeting_due(self.config, now, self._greeted_on):
            return None
        self._greeted_on = now.date().isoformat()
        self.store.set_fact("morning_greeted", self._greeted_on)
        self.after_goodnight = False
        self.log("morning", "", (now.date() - timedelta(days=1)).isoformat())
        return morning.greeting(self.config, self.listeners[0])

    def log(self, event: str, detail: str = "", night: str | None = None) -> None:
        """One line of the parents' night report (an event and a title or mode, never what
        was said)."""
        if self.store is None:
            return
        now = self.clock()
        try:
            self.store.log_night(
                night or night_of(self.config, now).isoformat(), now.isoformat(), event, detail
            )
        except CompanionError as err:  # the report must never stop the night
            logger.warning("night report: %s", err.message)

    def _tell_tonight(self, mode: str, present: tuple[str, ...]) -> Reply | None:
        """Tonight's story: made up with the first child on a freeform night, else one from
        the library for everyone here; None: there is none."""
        if mode == "freeform":
            self.listeners = (present[0],)
            return self.start_made_up("freeform")
        self.listeners = present
        story = self.choose_story()
        return None if story is None else self.start_story(story, mode="shared")

    # -- starting activities ---------------------------------------------------------

    def start_story(self, story: Story, mode: str = "told", base_rate: float = 1.0) -> Reply:
        """Tell `story` (carried on where it was left, if it was)."""
        if not speakable(story, self.safety):
            return Reply((NOT_TOLD,))
        session = StorySession.begin(
            story, self.listeners, self.store, self, self.rng, mode, base_rate
        )
        self.activity = BadDream(session, self) if story.id == BAD_DREAM_ID else session
        self.log("story", mode)  # the title is in the journal, where a parent can delete it
        reply = self.activity.open()
        self._let_go()
        return reply

    def start_made_up(self, kind: str) -> Reply:
        """A story made up together: "freeform" (carried on if one was left unfinished) or
        "bad-dream"."""
        story = library.made_up_story(kind, self.store, self.rng, self.listeners[0])
        if kind == "freeform":
            return self.start_story(story, mode="freeform")
        return self.start_story(story, mode="bad dream", base_rate=BAD_DREAM_RATE)

    def choose_story(self) -> Story | None:
        """An unfinished story first; else one that suits the youngest and was not told lately."""
        ages = [c.age for c in self.config.family.children] or [6]
        return library.choose_story(self.stories, self.store, self.rng, min(ages))

    def find_story(self, text: str, ignore: frozenset[str] = frozenset()) -> Story | None:
        """The story whose title, id or characters best fit the words asked for; None when
        none does."""
        return library.find_story(text, self.stories, self.store, self.rng, ignore)

    def recent_shapes(self) -> tuple[str, ...]:
        """The plot shapes of the latest finished freeform stories, newest first."""
        return library.recent_shapes(self.store)

    # -- the Brain protocol ----------------------------------------------------------

    def wake(self) -> Reply:
        return self.simple.wake()

    def respond(self, intent: Intent, transcript: Transcript) -> Reply:
        night = self.wind_down
        if night is not None and intent.name in NIGHT_MODES and not night.story_started:
            return night.switch(NIGHT_MODES[intent.name])
        if night is not None and night.waiting:
            return night.answer(intent, transcript)
        self._woken(intent)
        offer, self.offer = self.offer, None
        sound = self.config.sleep_sounds.sound
        if offer == "calming":
            calming = gentle.calming(intent, transcript.text, sound)
            if calming is not None:
                return calming
        activity = self.activity
        if intent.name == "stop" and activity is None:
            return Reply(("Okay.",), stop_sounds=True)
        if activity is not None and not activity.finished:
            reply = activity.answer(intent, transcript)
            self._let_go()
            return reply
        self.activity = None
        if intent.name == "morning":
            sleeping = self._sleeping_time()
            return morning.answer(self.config, self.clock(), sleeping, self.listeners[0])
        if self._sleeping_time() and intent.name not in self._allowed_at_night():
            return Reply((SLEEPING_TIME,), cap=self.config.volume.night)
        if intent.name == "story.named":
            return self._named_story(transcript.text)
        if intent.name == "story.start" or (intent.name == "story.continue" and self._unfinished()):
            ignore = {w for n in (*self.config.family.names, *self.listeners) for w in words(n)}
            story = self.find_story(transcript.text, frozenset(ignore)) or self.choose_story()
            if story is not None:
                return self.start_story(story)
        if intent.name == "night.freeform":
            return self.start_made_up("freeform")
        if intent.name == "sleep_sounds":
            self.log("sleep_sounds", sound)
            return gentle.sleep_sounds(sound)
        if intent.name == "bad_dream":
            self.log("bad_dream")
            return self.start_made_up("bad-dream")
        if intent.name == "cant_sleep":
            self.offer = "calming"
            return gentle.calming_offer()
        if intent.name == "grownup":
            return Reply((self.call_grownup(),))
        if intent.name in ("volume.up", "volume.down"):
            return self.volume(intent.name)
        if intent.name == "question":
            return Reply((answer_question(transcript.text),))
        return self.simple.respond(intent, transcript)

    def silence(self) -> Reply | None:
        if self.wind_down is not None and self.wind_down.waiting:
            return self.wind_down.silence()
        if self.offer == "calming":
            self.offer = None
            return gentle.no_answer_to_calming(self.config.sleep_sounds.sound)
        activity = self.activity
        if activity is None or activity.finished:
            return self.simple.silence()
        reply = activity.silence()
        self._let_go()
        return reply

    # -- what activities may ask for (their Context) ---------------------------------

    def call_grownup(self) -> str:
        """Tell the home integration (if there is one) that a grown-up is wanted."""
        self.log("asked_for_grownup")
        return gentle.call_grownup(self.on_event)

    def volume(self, name: str) -> Reply:
        """A step louder or quieter, never past the cap (the output stage limits it too)."""
        self.volume_level, reply = gentle.volume_step(self.volume_level, name)
        return reply

    # -- helpers -----------------------------------------------------------------------

    def _let_go(self) -> None:
        """Back to simple replies once the activity is over."""
        if self.activity is not None and self.activity.finished:
            self.activity = None

    def _named_story(self, text: str) -> Reply:
        """The story asked for by its name or topic; else one as usual, kindly said so."""
        story = self.find_story(text)
        if story is not None:
            return self.start_story(story)
        story = self.choose_story()
        if story is None:
            return self.simple.respond(Intent("story.named", 1.0), Transcript(text, 1.0, "text"))
        reply = self.start_story(story)
        if library.topic_words(text) and reply.lines and reply.lines[0] != NOT_TOLD:
            reply = replace(reply, lines=(NOT_FOUND, *reply.lines))
        return reply

    def _woken(self, intent: Intent) -> None:
        """A child talking to the companion after goodnight: a wake-up, for the report (once
        in a while, not at every word)."""
        if not self.after_goodnight or intent.name == "none":
            return
        now = self.clock()
        if self._woke_at is None or now - self._woke_at > WOKEN_AGAIN:
            self._woke_at = now
            self.log("woke_up")

    def _sleeping_time(self) -> bool:
        return self.after_goodnight or self.config.quiet_hours.contains(self.clock().time())

    def _allowed_at_night(self) -> frozenset[str]:
        if self.config.routine.stories_after_goodnight:
            return NIGHT_ALLOWED | {"story.start", "story.named", "story.continue"}
        return NIGHT_ALLOWED

    def _unfinished(self) -> bool:
        return bool(self.store and self.store.unfinished())


def tell_text(host: Host, story: Story | str, read: Callable[[], str | None], out: TextIO) -> None:
    """Tell a story in the terminal: each answer is one line; an empty line is silence.

    `story` may also be one made up together: "freeform" or "bad-dream".
    """
    reply = host.start_made_up(story) if isinstance(story, str) else host.start_story(story)
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
