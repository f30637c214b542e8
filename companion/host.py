"""Activities behind the listening loop: stories, freeform nights, bad dreams, saved as they go."""

from __future__ import annotations

import logging
import queue
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final, TextIO
from zoneinfo import ZoneInfo

from companion.config import Config
from companion.dialog.intents import classify, command_phrases, normalise
from companion.dialog.replies import (
    BACK_TO_STORY,
    GROWNUP_TOLD,
    LOUDEST,
    NO_ANSWER_IN_STORY,
    QUIETEST,
    RARE_REPLIES,
    REPLIES,
    VOLUME_FLOOR,
    VOLUME_STEP,
    SimpleBrain,
    answer_question,
)
from companion.messages import Grammar, Intent, Line, Reply, Transcript
from companion.routine.night import BREATHING, NightSteps
from companion.routine.plan import NightPlan
from companion.speech.grammar import words
from companion.state.store import Store
from companion.storytelling.bad_dream import BAD_DREAM_ID, CALL_GROWNUP, bad_dream_story
from companion.storytelling.engine import PARAGRAPH_PAUSE_S, Progress, Question, Storyteller
from companion.storytelling.format import Ask, Choose, Say, Story
from companion.storytelling.freeform import freeform_story, shape_of
from companion.storytelling.safety import (
    WordSafety,
    answer_prompt,
    answer_reading,
    answer_terms,
    dont_know,
)

logger = logging.getLogger(__name__)

AT_A_QUESTION: Final = frozenset({"stop", "goodnight", "repeat", "story.continue"})
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
BAD_DREAM_RATE: Final = 0.85
FRESH_NIGHTS: Final = 10
"""No story is told again within this many story nights (when the library has as many)."""
RECENT_ENTRIES: Final = 200
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
    }
)
SLEEPING_TIME: Final = "It's sleeping time now. Close your eyes, and I'll be right here."
SWITCH_REFUSED: Final = (
    "Tonight is a {mode} night. Your grown-ups planned it that way. Maybe next time!"
)
SWITCHED: Final = "Okay! Tonight will be a {mode} night."
NOT_TOLD: Final = "Hmm, that story isn't ready to tell. Let's choose another one."
TOO_LATE: Final = "It's getting very late. Let's stop here, and finish another time. Goodnight."
NOT_FOUND: Final = "I don't know that one yet, so let's have another story."
ASKED_FOR_GROWNUP: Final = "asked_for_grownup"
"""The event `Host.on_event` gets when a child asks for a parent (never their words)."""
CALMING_OFFER: Final = (
    "That's okay. Sometimes sleep takes a little while.",
    "Shall we do a slow breathing moment, or would you like some sleep sounds?",
)
CALMING_PHRASES: Final = (
    "a breathing moment",
    "breathing",
    "sleep sounds",
    "the rain",
    "both",
    "yes",
    "yes please",
    "no",
    "no thank you",
)
SETTLE: Final = Line("Now let your body feel heavy and warm. I'm right here.", 0.8, 0.8, 1.0)
NO_CALMING: Final = "That's okay. Snuggle down and close your eyes. I'm right here."
JUST_LISTEN: Final = "Let's just listen for a while."
SOUND_WORDS: Final = {"rain": "gentle rain", "ocean": "sleepy ocean", "brown_noise": "soft hush"}
_WANTS_SOUNDS: Final = frozenset("sound sounds rain ocean sea waves noise second last".split())
_WANTS_BREATHING: Final = frozenset("breathing breathe breath breaths first".split())
_NOT_A_TOPIC: Final = frozenset(
    """
    a an the and of to in on at with about story stories one ones tell me us read have has can
    could would will may i i'm we you want like please hear that this it its it's is was be
    called named where who which some my your our his her their again another new bedtime time
    night tonight luma hey let's do does did for from what what's um uh er so
    """.split()
)
"""Words that ask for a story but say nothing about which one."""
_QUESTION_STARTS: Final = frozenset("what what's why how who who's where where's is".split())


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
    grownup_called: bool = False

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


def _generated(story: Story) -> dict | None:  # type: ignore[type-arg]
    """Made-up stories are saved whole, so they can be resumed exactly."""
    if story.path not in ("freeform", "bad-dream"):
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


def control_intent(text: str, allowed: frozenset[str] = AT_A_QUESTION) -> Intent | None:
    """stop / goodnight / repeat / go on (or another of `allowed`), when that is what the whole
    answer says: a short answer, or a whole sentence that clearly asks ("I don't want you to
    stop", "why is the moon round?"). A story is being told, so "no more stories" is stop."""
    intent = classify(Transcript(text, 1.0, "answer"), allowed=allowed, in_story=True)
    if intent.name == "none" or (intent.confidence < 0.75 and intent.name != "question"):
        return None
    said = normalise(text)
    if intent.name == "grownup":  # better a kind word too many than a child unheard
        # but "Daddy" alone may well be the answer ("Who came to help?")
        return intent if 2 <= len(said) <= 8 else None
    if intent.name == "question":  # it starts like a question, and is not too long
        asks = bool(said) and said[0] in _QUESTION_STARTS
        return intent if asks and len(said) <= 12 else None
    count = len(text.split())
    if count <= 4 or (count <= 8 and intent.confidence >= 0.9):
        return intent
    return None


def _offers_grownup(question: Question | None) -> bool:
    """Whether the question itself offers to call a grown-up (after a bad dream): then "I want
    Mummy" is that option's answer."""
    return question is not None and CALL_GROWNUP in question.options


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


GRATITUDE = Grammar("gratitude", open=True, prompt="What was the best part of your day?")
"""What the recognizer expects while the family says what they are thankful for."""


class Host:
    """The brain of the loop: simple replies, or the activity under way (a story)."""

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
        self.session: StorySession | None = None
        self.command = Grammar("command", command_phrases(), open=True)
        self.events: queue.Queue[tuple[NightPlan, bool]] = queue.Queue()
        self.night: NightSteps | None = None
        self.last_night: NightSteps | None = None
        self.night_started: datetime | None = None
        self.after_goodnight = False
        self.story_step_started = False
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

    def fixed_lines(self) -> list[str]:
        """Every fixed line, for the phrase cache."""
        return [*self.simple.fixed_lines(), STOPPED, SLEEPING_TIME, "Okay."]

    def update_config(self, config: Config) -> None:
        """A reloaded config: new names, words, caps and plan from now on."""
        self.config = config
        self.safety = WordSafety.with_words(config.safety.blocked_words)
        self.stories = {k: s for k, s in self.stories.items() if speakable(s, self.safety)}
        if self.night is None and self.session is None:
            self.listeners = (config.listener_name,)

    # -- the nightly routine ---------------------------------------------------------

    def post_night(self, plan: NightPlan, rehearsal: bool = False) -> None:
        """Thread-safe: begin a night's routine at the next quiet moment."""
        self.events.put((plan, rehearsal))

    def _begin_night(self, plan: NightPlan, rehearsal: bool) -> None:
        names = self.config.family.names or (self.config.listener_name,)
        self.night = NightSteps(
            plan, names, self.config.routine.reminders, self.safety, rehearsal=rehearsal
        )
        self.night_started = self.clock()
        self.after_goodnight = False
        self.story_step_started = False
        logger.info("routine for %s (%s night) begins", plan.night, plan.mode)

    def tick(self) -> Reply | None:
        """Called when the loop is idle: start what is due (the routine's next step)."""
        while not self.events.empty():
            self._begin_night(*self.events.get_nowait())
        night = self.night
        if night is None or night.waiting_for_answer:
            return None
        if self.session is not None and not self.session.finished:
            return None
        limit = timedelta(minutes=self.config.routine.max_session_minutes)
        if self.night_started and self.clock() - self.night_started > limit and not night.rehearsal:
            return self._end_night(too_late=True)
        if night.current == "story" and self.story_step_started:
            night.advance()
        if not night.due(self.clock()):
            return None
        return self._run_step(night)

    def _run_step(self, night: NightSteps) -> Reply | None:
        step = night.current
        logger.info("routine step: %s", step)
        if step == "announce":
            lines = night.announce()
        elif step == "reminders":
            lines = night.reminder_lines()
        elif step == "breathing":
            lines = night.breathing()
        elif step == "roll_call":
            names = (*tuple(n.lower() for n in night.names), "everyone", "all of us")
            lines = tuple(night.roll_call())
            prompt = f"Who's here tonight? {', '.join(self.config.family.names)}."
            return Reply(lines, expect=Grammar("names", names, open=True, prompt=prompt))
        elif step == "gratitude":
            return Reply(tuple(night.start_gratitude()), expect=GRATITUDE)
        elif step == "story":
            self.story_step_started = True
            return self._night_story(night)
        elif step == "goodnight":
            night.advance()
            self.after_goodnight = True
            self.session = None
            return Reply(tuple(night.goodnight()), cap=self.config.volume.night)
        elif step == "sleep_sounds":
            night.advance()
            return self._end_night(sounds=True)
        else:
            lines = []
        night.advance()
        return Reply(tuple(lines)) if lines else self.tick()

    def _night_story(self, night: NightSteps) -> Reply:
        if night.plan.mode == "freeform":
            self.listeners = (night.present[0],)
            return self.start_made_up("freeform")
        self.listeners = night.present
        story = self.choose_story()
        if story is None:
            night.advance()
            return Reply(("There are no stories to tell tonight.",))
        return self.start_story(story, mode="shared")

    def _end_night(self, sounds: bool = False, too_late: bool = False) -> Reply:
        night = self.night
        assert night is not None
        self.night = None
        self.last_night = night
        self.after_goodnight = True
        if self.on_night_done is not None:
            self.on_night_done(night.plan)
        if too_late:
            self.session = None
            return Reply((TOO_LATE,), cap=self.config.volume.night)
        chosen = (self.config.sleep_sounds.sound,) if sounds else ()
        return Reply((), sounds=chosen, cap=self.config.volume.night)

    def _night_answer(self, intent: Intent, text: str) -> Reply | None:
        night = self.night
        if night is None:
            return None
        if intent.name in ("night.shared", "night.freeform") and not self.story_step_started:
            mode = intent.name.split(".")[1]
            if not self.config.routine.child_can_switch:
                return Reply((SWITCH_REFUSED.format(mode=night.plan.mode),))
            from dataclasses import replace

            night.plan = replace(night.plan, mode=mode)
            return Reply((SWITCHED.format(mode=mode),))
        if not night.waiting_for_answer:
            return None
        if text and control_intent(text, frozenset({"grownup"})) is not None:
            return Reply((self._ask_for_grownup(),), expect=GRATITUDE)
        if intent.name == "stop" and control_intent(text):
            night.advance()
            return Reply(("Okay.",))
        if night.current == "roll_call":
            lines = night.take_roll_call(text)
            night.advance()
            return Reply(tuple(lines))
        lines = night.take_gratitude(text or None)
        if night.waiting_for_answer:
            return Reply(tuple(lines), expect=GRATITUDE)
        night.advance()
        return Reply(tuple(lines))

    # -- starting activities ---------------------------------------------------------

    def start_story(self, story: Story, mode: str = "told", base_rate: float = 1.0) -> Reply:
        if not speakable(story, self.safety):
            return Reply((NOT_TOLD,))
        saved = self.store.load_progress(story.id) if self.store else None
        progress = Progress.from_json(saved) if saved else None
        teller = Storyteller(story, self.listeners, self.safety, progress, self.rng, base_rate)
        self.session = StorySession(teller, self.store, mode)
        return self._reply(self.session.open())

    def start_made_up(self, kind: str) -> Reply:
        """A story made up together: "freeform" (carried on if one was left unfinished) or
        "bad-dream"."""
        if kind == "freeform":
            story = self.resume_generated("freeform") or freeform_story(
                self.rng, self.listeners[0], self.recent_shapes()
            )
            return self.start_story(story, mode="freeform")
        story = bad_dream_story(self.rng, self.listeners[0])
        return self.start_story(story, mode="bad dream", base_rate=BAD_DREAM_RATE)

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
        pool = fits if len(fits) >= FRESH_NIGHTS else list(self.stories.values())
        told = self.store.recent_stories(RECENT_ENTRIES) if self.store else []
        ago: dict[str, int] = {}
        for story_id in (s for s in told if s in self.stories):  # made-up nights do not count
            ago.setdefault(story_id, len(ago))
        never = [s for s in pool if s.id not in ago]
        if never:
            return self.rng.choice(never)
        return max(pool, key=lambda s: ago[s.id])  # the one told longest ago

    def recent_shapes(self) -> tuple[str, ...]:
        """The plot shapes of the latest finished freeform stories, newest first (their ids
        name them)."""
        told = self.store.recent_stories(RECENT_ENTRIES) if self.store else []
        return tuple(shape for shape in map(shape_of, told) if shape)

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
        night_reply = self._night_answer(intent, transcript.text)
        if night_reply is not None:
            return night_reply
        offer, self.offer = self.offer, None
        if offer == "calming":
            calming = self._calming(intent, transcript.text)
            if calming is not None:
                return calming
        if intent.name == "stop" and self.session is None:
            return Reply(("Okay.",), stop_sounds=True)
        if self.session is not None and not self.session.finished:
            return self._answer(transcript)
        self.session = None
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
            return self._sleep_sounds()
        if intent.name == "bad_dream":
            return self.start_made_up("bad-dream")
        if intent.name == "cant_sleep":
            self.offer = "calming"
            return Reply(CALMING_OFFER, expect=Grammar("calming", CALMING_PHRASES, open=True))
        if intent.name == "grownup":
            return Reply((self._ask_for_grownup(),))
        if intent.name in ("volume.up", "volume.down"):
            return self._volume(intent.name)
        if intent.name == "question":
            return Reply((answer_question(transcript.text),))
        return self.simple.respond(intent, transcript)

    # -- the gentler requests ----------------------------------------------------------

    def _sleep_sounds(self, head: tuple[str | Line, ...] = ()) -> Reply:
        sound = self.config.sleep_sounds.sound
        return Reply((*head, f"Here comes the {SOUND_WORDS[sound]}."), sounds=(sound,))

    def _calming(self, intent: Intent, text: str) -> Reply | None:
        """The answer to "a breathing moment, or sleep sounds?"; None: something else was asked."""
        said = set(words(text))
        sounds = intent.name == "sleep_sounds" or bool(said & _WANTS_SOUNDS)
        breathing = bool(said & _WANTS_BREATHING)
        both = "both" in said or intent.name == "yes" or (sounds and breathing)
        if intent.name == "no":
            return Reply((NO_CALMING,))
        if both:
            return self._sleep_sounds((*BREATHING, SETTLE))
        if sounds:
            return self._sleep_sounds()
        if breathing or intent.name == "none":
            return Reply((*BREATHING, SETTLE))
        return None

    def _ask_for_grownup(self) -> str:
        """Tell the home integration (if there is one) that a grown-up is wanted."""
        logger.info("a grown-up was asked for")
        if self.on_event is None:
            return RARE_REPLIES["grownup"][0]
        try:
            self.on_event(ASKED_FOR_GROWNUP)
        except Exception:  # the integration's fault must not end the conversation
            logger.exception("on_event(%r) failed", ASKED_FOR_GROWNUP)
            return RARE_REPLIES["grownup"][0]
        return GROWNUP_TOLD

    def _volume(self, name: str) -> Reply:
        """A step louder or quieter, never past the cap (the output stage limits it too)."""
        step = VOLUME_STEP if name == "volume.up" else -VOLUME_STEP
        before = self.volume_level
        self.volume_level = min(1.0, max(VOLUME_FLOOR, before * (1 + step)))
        if self.volume_level == before:
            line = LOUDEST if step > 0 else QUIETEST
        else:
            line = REPLIES[name][0]
        return Reply((line,), volume_step=step)

    def _named_story(self, text: str) -> Reply:
        """The story asked for by its name or topic; else one as usual, kindly said so."""
        story = self.find_story(text)
        if story is not None:
            return self.start_story(story)
        story = self.choose_story()
        if story is None:
            return self.simple.respond(Intent("story.named", 1.0), Transcript(text, 1.0, "text"))
        reply = self.start_story(story)
        if self._topic_words(text) and reply.lines and reply.lines[0] != NOT_TOLD:
            reply = replace(reply, lines=(NOT_FOUND, *reply.lines))
        return reply

    @staticmethod
    def _topic_words(text: str, ignore: frozenset[str] = frozenset()) -> set[str]:
        return {_stem(w) for w in words(text) if len(w) > 1 and w not in _NOT_A_TOPIC} - ignore

    def find_story(self, text: str, ignore: frozenset[str] = frozenset()) -> Story | None:
        """The story whose title, id or characters best fit the words asked for ("the one
        about the pillow maze", "the lantern story"); None when none does.

        Rarer words count for more; ties go to an unfinished story, then to chance.
        """
        asked = self._topic_words(text, frozenset(_stem(w) for w in ignore))
        if not asked or not self.stories:
            return None
        known: dict[str, tuple[set[str], set[str]]] = {}
        for story in self.stories.values():
            title = {_stem(w) for w in (*words(story.title), *story.id.split("-")) if len(w) > 1}
            people = {_stem(w) for name in story.characters for w in words(name) if len(w) > 1}
            known[story.id] = (title - _NOT_A_TOPIC, people - _NOT_A_TOPIC)
        spread = Counter(w for title, people in known.values() for w in title | people)
        scores: dict[str, float] = {}
        for story_id, (title, people) in known.items():
            score = sum(
                (1.0 if w in title else 0.7 if w in people else 0.0) / spread[w]
                for w in asked
                if spread[w]
            )
            if score > 0:
                scores[story_id] = score
        if not scores:
            return None
        top = max(scores.values())
        best = sorted(k for k, v in scores.items() if v >= top - 1e-9)
        unfinished = set(self.store.unfinished()) if self.store else set()
        return self.stories[
            next((k for k in best if k in unfinished), None) or self.rng.choice(best)
        ]

    def _sleeping_time(self) -> bool:
        return self.after_goodnight or self.config.quiet_hours.contains(self.clock().time())

    def _allowed_at_night(self) -> frozenset[str]:
        if self.config.routine.stories_after_goodnight:
            return NIGHT_ALLOWED | {"story.start", "story.named", "story.continue"}
        return NIGHT_ALLOWED

    def _unfinished(self) -> bool:
        return bool(self.store and self.store.unfinished())

    def _answer(self, transcript: Transcript) -> Reply:
        session = self.session
        assert session is not None
        text = transcript.text
        control = control_intent(text, IN_STORY) if text else None
        if control is not None and not (
            control.name == "grownup" and _offers_grownup(session.question)
        ):
            if control.name == "repeat":
                return self._reply(session.last)
            if control.name == "stop":
                self.session = None
                return Reply((STOPPED,))
            if control.name == "goodnight":
                self.session = None
                return Reply((GOODNIGHT_MID_STORY.format(name=self.listeners[0]),))
            if control.name == "question":
                answer = answer_question(text, in_story=True)
                known = answer != NO_ANSWER_IN_STORY
                return self._aside((answer, BACK_TO_STORY) if known else (answer,))
            if control.name == "grownup" and not _offers_grownup(session.question):
                return self._aside((self._ask_for_grownup(),))
            if control.name in ("volume.up", "volume.down"):
                volume = self._volume(control.name)
                return replace(self._aside(volume.lines), volume_step=volume.volume_step)
            session.teller.progress.attempts = 1  # "go on": no second asking, pick kindly
            return self._reply(session.answer(None))
        if dont_know(text):  # "I don't know", "you choose": the story picks one kindly
            session.teller.progress.attempts = 1
            return self._reply(session.answer(None))
        question = session.question
        if question is not None and transcript.alternatives:
            readings = (text, *transcript.alternatives)
            text = answer_reading(question.kind, readings, self.safety)
        return self._reply(session.answer(text))

    def _aside(self, lines: tuple[str | Line, ...]) -> Reply:
        """Something said while the story waits for an answer; then its question again."""
        session = self.session
        assert session is not None
        question = session.question
        again = (question.text,) if question is not None else ()
        return Reply((*lines, *again), expect=session.grammar())

    def silence(self) -> Reply | None:
        if self.night is not None and self.night.waiting_for_answer:
            return self._night_answer(Intent("none", 0.0), "")
        if self.offer == "calming":  # no answer: something gentle anyway, without more talk
            self.offer = None
            sound = self.config.sleep_sounds.sound
            return Reply((JUST_LISTEN,), sounds=(sound,))
        if self.session is None or self.session.finished:
            return self.simple.silence()
        return self._reply(self.session.answer(None))

    def _reply(self, lines: list[str | Line]) -> Reply:
        session = self.session
        expect = session.grammar() if session is not None and not session.finished else None
        sounds: tuple[str, ...] = ()
        if session is not None and session.teller.story.id == BAD_DREAM_ID:
            chosen = session.teller.progress.slots.get("comfort")
            if chosen == CALL_GROWNUP and not session.grownup_called:
                session.grownup_called = True
                lines = [*lines[:1], self._ask_for_grownup(), *lines[1:]]
            if session.finished:  # a bad dream ends in sleep sounds
                sounds = (self.config.sleep_sounds.sound,)
        if session is not None and session.finished:
            self.session = None
        return Reply(tuple(lines), expect=expect, sounds=sounds)


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
