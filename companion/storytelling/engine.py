"""The storyteller: walks a story, asks, listens to answers, remembers; no audio, no clock."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Final

from companion.storytelling.bad_dream import FEAR, creature, fear_family
from companion.storytelling.format import LISTENER, Ask, Choose, Say, Story, Variant
from companion.storytelling.lexicon import lexicon
from companion.storytelling.realise import Filled, realise, settle
from companion.storytelling.safety import WordSafety, answer_for, find_term, grammar_phrases

SLOWDOWN_FROM: Final = 0.6
"""Past this fraction of the story the narration slows and softens."""
SLOWEST_RATE: Final = 0.82
SOFTEST_VOLUME: Final = 0.7
PARAGRAPH_PAUSE_S: Final = 0.7

WARM_REPLIES: Final = (
    "{answer:a}! What a lovely idea.",
    "Ooh, {answer:a}. I like that.",
    "{answer:a}. Perfect.",
    "Mm, {answer:a}. Good choice.",
)
CHOSEN: Final = ("{answer}! Good choice.", "Ooh, {answer}. Yes, let's!", "{answer}. Here we go!")
DEFAULT_PICKS: Final = (
    "I think... {answer:a}!",
    "Let's say... {answer:a}.",
    "How about... {answer:a}?",
)
REDIRECTS: Final = {
    "unsafe": "Hmm, let's keep our story gentle and kind.",
    "kind": "Hmm, I was hoping for {what}.",
}
KIND_WORDS: Final = {
    "colour": "a colour",
    "animal": "an animal",
    "feeling": "a feeling",
    "name": "a name",
    "place": "a place",
    "object": "a thing",
    "sound": "a sound",
    "free": "an idea",
}


@dataclass(frozen=True, slots=True)
class Narration:
    """Paragraphs to tell, with the pace for each."""

    text: str
    rate: float = 1.0
    volume: float = 1.0


@dataclass(frozen=True, slots=True)
class Question:
    """What the storyteller asks now, who is asked, and what answers to expect."""

    text: str
    kind: str
    phrases: tuple[str, ...]
    asked: str
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Segment:
    """The next piece of the story: narration up to a question, or to the end."""

    narration: tuple[Narration, ...]
    question: Question | None
    finished: bool


@dataclass
class Progress:
    """Everything needed to carry on after a stop, a crash or a power cut."""

    story_id: str
    step: int = 0
    slots: dict[str, str] = field(default_factory=dict)
    exchanges: list[tuple[str, str]] = field(default_factory=list)
    """(who, what) in order: the companion's questions and the listeners' answers."""
    told: list[str] = field(default_factory=list)
    turn: int = 0
    attempts: int = 0
    pending_choice: int | None = None
    finished: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "story_id": self.story_id,
            "step": self.step,
            "slots": self.slots,
            "exchanges": self.exchanges,
            "told": self.told,
            "turn": self.turn,
            "pending_choice": self.pending_choice,
            "finished": self.finished,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Progress:
        return cls(
            data["story_id"],
            int(data.get("step", 0)),
            dict(data.get("slots", {})),
            [tuple(x) for x in data.get("exchanges", [])],
            list(data.get("told", [])),
            int(data.get("turn", 0)),
            0,
            data.get("pending_choice"),
            bool(data.get("finished")),
        )


class Storyteller:
    """Tells one story to one or more listeners, taking answers in turn by name."""

    def __init__(
        self,
        story: Story,
        listeners: tuple[str, ...] = ("friend",),
        safety: WordSafety | None = None,
        progress: Progress | None = None,
        rng: random.Random | None = None,
        base_rate: float = 1.0,
    ) -> None:
        self.story = story
        self.listeners = listeners or ("friend",)
        self.safety = safety or WordSafety()
        self.progress = progress or Progress(story.id)
        self.rng = rng or random.Random()
        self.base_rate = base_rate
        self.resumed = progress is not None and (progress.step > 0 or bool(progress.told))

    # -- what is said -------------------------------------------------------------------

    @property
    def listener(self) -> str:
        return self.listeners[self.progress.turn % len(self.listeners)]

    def fill(self, text: str) -> str:
        kinds = self.story.slot_kinds
        values = {
            slot: Filled(value, kinds.get(slot, "free"), self._attributes(slot))
            for slot, value in self.progress.slots.items()
        }
        values[LISTENER] = Filled(self.listener, LISTENER)
        return realise(text, values)

    def variant(self, variants: tuple[Variant, ...]) -> Variant | None:
        """The first variant whose answer fits, if any."""
        return next((v for v in variants if self._fits(v)), None)

    def _fits(self, variant: Variant) -> bool:
        value = self.progress.slots.get(variant.slot)
        if value is None:
            return False
        attributes = self._attributes(variant.slot)
        return all(
            attributes.get(name) == wanted or (name == "is" and value.lower() == wanted)
            for name, wanted in variant.tests
        )

    def _attributes(self, slot: str) -> dict[str, str]:
        """What the story knows of an answer: the lexicon's attributes of its word, or for a
        bad dream its family of fear and its creature."""
        value = self.progress.slots.get(slot, "")
        kind = self.story.slot_kinds.get(slot, "free")
        if kind == FEAR:
            return {"is": value.lower(), "family": fear_family(value), "creature": creature(value)}
        known = lexicon().understood.get(kind, ())
        term = (find_term(value, known) or value).lower() if value else ""
        return {"is": term, **lexicon().of(kind, term)}

    def _say(self, template: str, answer: str, kind: str) -> str:
        return realise(template, {"answer": Filled(answer, kind)})

    def _pace(self, step: int) -> tuple[float, float]:
        total = len(self.story.steps)
        position = step / max(1, total)
        if position < SLOWDOWN_FROM:
            return self.base_rate, 1.0
        depth = min(1.0, (position - SLOWDOWN_FROM) / (1 - SLOWDOWN_FROM))
        return (
            self.base_rate * (1 - depth * (1 - SLOWEST_RATE)),
            1 - depth * (1 - SOFTEST_VOLUME),
        )

    def recap(self) -> str | None:
        """One sentence on where the story stopped last time."""
        if not self.resumed:
            return None
        for step in reversed(self.story.steps[: self.progress.step]):
            if isinstance(step, Say) and step.recap:
                return f"Last time, in {self.story.title}: {self.fill(step.recap)}"
        return f"Last time, we started {self.story.title}. Let's carry on."

    def _tell(self, paragraphs: tuple[str, ...], step: int, out: list[Narration]) -> None:
        rate, volume = self._pace(step)
        for paragraph in paragraphs:
            text = self.fill(paragraph)
            self.progress.told.append(text)
            out.append(Narration(text, rate, volume))

    def advance(self) -> Segment:
        """Narration until the next question (or the end); call after each answer."""
        out: list[Narration] = []
        p = self.progress
        if p.pending_choice is not None:
            step = self.story.steps[p.step]
            assert isinstance(step, Choose)
            self._tell(step.options[p.pending_choice].paragraphs, p.step, out)
            p.pending_choice = None
            p.step += 1
        while p.step < len(self.story.steps):
            step = self.story.steps[p.step]
            if step.only is not None and not self._fits(step.only):
                p.step += 1  # a path not taken
                continue
            if isinstance(step, Say):
                chosen = self.variant(step.variants)
                self._tell(chosen.text if chosen else step.paragraphs, p.step, out)
                p.step += 1
                continue
            return Segment(tuple(out), self.question(), False)
        if not p.finished:
            self._tell(self.story.ending, len(self.story.steps), out)
            p.finished = True
        return Segment(tuple(out), None, True)

    def question(self) -> Question | None:
        """The question at the current step, addressed to whoever's turn it is."""
        p = self.progress
        if p.step >= len(self.story.steps):
            return None
        step = self.story.steps[p.step]
        name = self.listener
        if isinstance(step, Ask):
            text = self.fill(step.question)
            if len(self.listeners) > 1 and name not in text:
                text = f"{name}, {text[0].lower()}{text[1:]}"
            phrases = grammar_phrases(step.kind, step.defaults, self.listeners)
            return Question(text, step.kind, phrases, name)
        if isinstance(step, Choose):
            labels = tuple(self.fill(o.label) for o in step.options)
            offer = (
                ", or ".join([", ".join(labels[:-1]), labels[-1]]) if len(labels) > 1 else labels[0]
            )
            text = self.fill(step.question)
            if not all(label.lower() in text.lower() for label in labels):
                text = f"{text} Should we {offer}?"
            if len(self.listeners) > 1:
                text = f"{name}, you choose. {text}"
            phrases = tuple(
                dict.fromkeys(p for o in step.options for p in (o.label.lower(), *o.words))
            )
            return Question(text, "choice", phrases, name, labels)
        return None

    # -- what is heard ------------------------------------------------------------------

    def answer(self, heard: str | None) -> tuple[list[str], bool]:
        """Take an answer (None: silence). Returns lines to say, and whether to ask again."""
        p = self.progress
        step = self.story.steps[p.step]
        who = self.listener
        question = self.question()
        if question is not None and p.exchanges[-1:] != [("Luma", question.text)]:
            p.exchanges.append(("Luma", question.text))
        if isinstance(step, Choose):
            return self._choose(step, heard, who)
        assert isinstance(step, Ask)
        value = answer_for(step.kind, heard, self.safety) if heard else None
        lines: list[str] = []
        if value is None and not step.defaults:  # nothing to make up: "quiet" is the answer
            safe = not heard or self.safety.polite().is_safe(heard)
            p.exchanges.append(
                (who, "(quiet)" if safe else "(words the companion would not repeat)")
            )
            value = ""
        if value is None and heard and heard.strip():
            safe = self.safety.is_safe(heard)
            p.exchanges.append((who, heard if safe else "(words the companion would not repeat)"))
            redirect = (
                REDIRECTS["unsafe"]
                if not safe
                else REDIRECTS["kind"].format(what=KIND_WORDS.get(step.kind, "an idea"))
            )
            if safe and p.attempts == 0:
                p.attempts += 1
                return [redirect], True
            lines.append(redirect)
        elif value is None and p.attempts == 0:
            p.attempts += 1
            return [], True
        if value is None:
            default = self.rng.choice(step.defaults)
            value = settle(
                step.kind,
                default,
                answer_for(step.kind, default, self.safety) or default,
                authored=True,
            )
            lines.append(self._say(self.rng.choice(DEFAULT_PICKS), value, step.kind))
            why = "" if heard and heard.strip() else "quiet; "
            p.exchanges.append((who, f"({why}Luma chose {value})"))
        elif value:
            value = settle(step.kind, heard or "", value, who)
            p.exchanges.append((who, value))
            if not step.reply and not step.variants:
                lines.append(self._say(self.rng.choice(WARM_REPLIES), value, step.kind))
        p.slots[step.slot] = value
        chosen = self.variant(step.variants)
        if chosen or step.reply:
            lines.append(self.fill(chosen.text[0] if chosen else step.reply))
        p.step += 1
        self._next_turn()
        return lines, False

    def _choose(self, step: Choose, heard: str | None, who: str) -> tuple[list[str], bool]:
        p = self.progress
        index = pick_option(step, heard or "")
        if index is None:
            p.exchanges.append((who, heard if heard and self.safety.is_safe(heard) else "(quiet)"))
            if p.attempts == 0:
                p.attempts += 1
                return (["Which one shall we pick?"] if heard else []), True
            index = (
                step.fallback
                if step.fallback is not None
                else self.rng.randrange(len(step.options))
            )
            label = self.fill(step.options[index].label)
            lines = [self._say(self.rng.choice(DEFAULT_PICKS), label, "choice")]
        else:
            label = self.fill(step.options[index].label)
            p.exchanges.append((who, label))
            lines = [self._say(self.rng.choice(CHOSEN), label, "choice")]
        if step.slot:
            p.slots[step.slot] = label
        p.pending_choice = index
        self._next_turn()
        return lines, False

    def _next_turn(self) -> None:
        self.progress.attempts = 0
        self.progress.turn += 1

    def final_text(self) -> str:
        return "\n\n".join(self.progress.told)


def pick_option(step: Choose, heard: str) -> int | None:
    """Which option the answer names: by its label's or its words' distinctive words ("the
    moon one" is the moon ladder), else by its place ("the second one", "number three")."""
    said = set(_words(heard))
    if not said:
        return None
    labels = [
        set(_words(o.label)) | {w for phrase in o.words for w in _words(phrase)}
        for o in step.options
    ]
    common = set.intersection(*labels) if labels else set()
    scores = [len((lab - common - _STOP) & said) for lab in labels]
    best = max(scores)
    if best and scores.count(best) == 1:
        return scores.index(best)
    places = [i for i, words in enumerate(_PLACES) if said & words]
    if len(places) == 1 and places[0] < len(step.options):
        return places[0]
    if said & {"last"} and not places:
        return len(step.options) - 1
    if said <= {"one", "the", "number", "um", "that"} and "one" in said:
        return 0
    return None


_STOP: Final = frozenset("a an the to and or of in on at with we let's lets go it one".split())
_PLACES: Final = ({"first", "1st"}, {"second", "two", "2nd"}, {"third", "three", "3rd"})


def _words(text: str) -> list[str]:
    return [w.strip(".,!?'\"").lower() for w in text.split() if w.strip(".,!?'\"")]
