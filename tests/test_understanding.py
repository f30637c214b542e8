"""What children mean, not only what they say: phrasings, negations, whole sentences, answers.

Text level only (no audio): a neural recognizer hands over whole, punctuated sentences ("Um, I
don't want to stop."), a grammar-restricted one bare phrases; both must be understood the same.
"""

from __future__ import annotations

import random
import threading
from pathlib import Path

import numpy as np
import pytest

from companion.config import Child, Config, Family, RoutineSettings, VolumeCaps
from companion.dialog.intents import INTENTS, PATTERNS, PRIORITY, classify, command_phrases
from companion.dialog.replies import (
    ANSWERS,
    GROWNUP_TOLD,
    LOUDEST,
    NO_ANSWER,
    NO_ANSWER_IN_STORY,
    QUIETEST,
    RARE_REPLIES,
    REPLIES,
    VOLUME_FLOOR,
    SimpleBrain,
    answer_question,
)
from companion.host import (
    ASKED_FOR_GROWNUP,
    CALMING_OFFER,
    IN_STORY,
    NO_CALMING,
    NOT_FOUND,
    SLEEPING_TIME,
    Host,
    control_intent,
)
from companion.messages import Intent, Reply, Transcript
from companion.routine.night import BREATHING
from companion.state.store import Store
from companion.storytelling.format import load_library
from companion.storytelling.safety import WordSafety, answer_for, answer_reading, dont_know
from tests.conftest import daytime

ROOT = Path(__file__).resolve().parent.parent
IDLE, STORY = "idle", "story"

# phrasing, context (idle, or while a story is being told), intent
PHRASINGS = [
    # negations and false friends
    ("I don't want to stop", IDLE, "story.continue"),
    ("Um, I don't want to stop.", IDLE, "story.continue"),
    ("don't stop", IDLE, "story.continue"),
    ("Don't stop!", STORY, "story.continue"),
    ("please don't stop the story", IDLE, "story.continue"),
    ("I don't want you to stop", STORY, "story.continue"),
    ("never stop", IDLE, "story.continue"),
    ("I do not want to stop", IDLE, "story.continue"),
    ("i'm not scared", IDLE, "none"),
    ("i don't want a story", IDLE, "no"),
    ("no more stories", IDLE, "no"),
    ("no more stories", STORY, "stop"),
    ("No more stories, please.", STORY, "stop"),
    ("no more", IDLE, "stop"),
    ("I want to stop", STORY, "stop"),
    ("louder please", IDLE, "volume.up"),
    ("Louder, please.", IDLE, "volume.up"),
    ("please", IDLE, "yes"),
    ("yes please", IDLE, "yes"),
    ("quieter please", IDLE, "volume.down"),
    ("be quiet", IDLE, "stop"),
    ("be quieter", IDLE, "volume.down"),
    ("it's too quiet", IDLE, "volume.up"),
    ("why don't we have a story", IDLE, "story.start"),
    ("can't we have a story please", IDLE, "story.start"),
    ("I don't want to go to sleep", IDLE, "cant_sleep"),
    ("i can't go to sleep", IDLE, "cant_sleep"),
    ("mum said i can have a story", IDLE, "story.start"),
    ("mummy bear", IDLE, "none"),
    # hesitations
    ("um, tell me a story", IDLE, "story.start"),
    ("uh, like, tell me a story", IDLE, "story.start"),
    ("so, um, what happens next?", STORY, "story.continue"),
    ("er, goodnight", IDLE, "goodnight"),
    ("um, stop", STORY, "stop"),
    ("hmm, play sleep sounds", IDLE, "sleep_sounds"),
    ("like, I had a bad dream", IDLE, "bad_dream"),
    ("I'm, um, so scared", IDLE, "bad_dream"),
    # whole sentences, punctuation, capitals
    ("Hey, Luma! Tell me a story.", IDLE, "story.start"),
    ("Luma, can you tell me a story, please?", IDLE, "story.start"),
    ("Stop!", STORY, "stop"),
    ("Okay, stop.", STORY, "stop"),
    ("Goodnight, Luma.", IDLE, "goodnight"),
    ("Good night, Luma!", IDLE, "goodnight"),
    ("I had a really bad dream.", IDLE, "bad_dream"),
    ("What happens next?", STORY, "story.continue"),
    ("Can I have the rain, please?", IDLE, "sleep_sounds"),
    ("Say that again, please.", STORY, "repeat"),
    ("Let's have a freeform night!", IDLE, "night.freeform"),
    ("Yes!", IDLE, "yes"),
    ("No, thank you.", IDLE, "no"),
    ("SLEEP TIGHT", IDLE, "goodnight"),
    ("I’m scared.", IDLE, "bad_dream"),
    ("Tell me a story about the moon.", IDLE, "story.start"),
    # a story by its name or topic
    ("the one about the pillow maze", IDLE, "story.named"),
    ("tell me the lantern story", IDLE, "story.named"),
    ("can I have the story about the shy shadow", IDLE, "story.named"),
    ("The one with Ravi, please.", IDLE, "story.named"),
    ("Tell me about the dream bubbles.", IDLE, "story.named"),
    # can't sleep
    ("I can't sleep", IDLE, "cant_sleep"),
    ("I cannot sleep.", IDLE, "cant_sleep"),
    ("I'm not sleepy.", IDLE, "cant_sleep"),
    ("I'm still awake", IDLE, "cant_sleep"),
    # a grown-up
    ("I want Mummy", IDLE, "grownup"),
    ("I want Daddy", IDLE, "grownup"),
    ("I want my mom", IDLE, "grownup"),
    ("I want Mommy!", IDLE, "grownup"),
    ("can you get my mum", IDLE, "grownup"),
    ("Where's Papa?", IDLE, "grownup"),
    ("where is my dad", IDLE, "grownup"),
    ("Mummy!", IDLE, "grownup"),
    ("Dad", IDLE, "grownup"),
    ("I want a grown-up", IDLE, "grownup"),
    # volume
    ("louder", IDLE, "volume.up"),
    ("a bit louder", IDLE, "volume.up"),
    ("turn it up", IDLE, "volume.up"),
    ("I can't hear you", IDLE, "volume.up"),
    ("a bit quieter", IDLE, "volume.down"),
    ("turn it down", IDLE, "volume.down"),
    ("It's too loud!", IDLE, "volume.down"),
    ("softer please", IDLE, "volume.down"),
    # a question
    ("what's a lighthouse?", STORY, "question"),
    ("Why is the moon round?", STORY, "question"),
    ("why?", STORY, "question"),
    ("How do stars twinkle?", IDLE, "question"),
    ("What is a shadow?", IDLE, "question"),
    # look like questions, but are not
    ("what's next", STORY, "story.continue"),
    ("what did you say", STORY, "repeat"),
    ("where's mummy", IDLE, "grownup"),
    # nothing fits
    ("the weather is nice", IDLE, "none"),
    ("banana", IDLE, "none"),
]


def test_the_table_is_big_and_names_real_intents() -> None:
    assert len(PHRASINGS) >= 60
    assert {intent for _, _, intent in PHRASINGS} <= set(INTENTS)
    new = {"story.named", "cant_sleep", "grownup", "volume.up", "volume.down", "question"}
    assert new <= {intent for _, _, intent in PHRASINGS}


@pytest.mark.parametrize(("text", "context", "intent"), PHRASINGS)
def test_phrasing(text: str, context: str, intent: str) -> None:
    assert classify(text, in_story=context == STORY).name == intent


def test_every_intent_is_listed_everywhere() -> None:
    assert set(INTENTS) == set(PATTERNS) | {"none"}
    assert set(PRIORITY) == set(PATTERNS)
    assert len(PRIORITY) == len(set(PRIORITY))


def test_new_intents_are_in_the_idle_grammar() -> None:
    phrases = set(command_phrases("hey luma"))
    for phrase in ("i can't sleep", "i want mummy", "louder", "quieter", "what's a lighthouse"):
        assert phrase in phrases and f"hey luma {phrase}" in phrases
    # fragments would end a turn early ("why is…" is not a whole request)
    assert "why is" not in phrases and "the one about" not in phrases
    titled = command_phrases("hey luma", topics=["Mara and the Pillow Maze"])
    assert "tell me mara and the pillow maze" in titled


def test_negation_only_undoes_what_it_governs() -> None:
    assert classify("don't stop, just keep going").name == "story.continue"
    assert classify("i'm not scared").name == "none"
    assert classify("not now").name == "no"  # the negation is the request itself


def test_the_function_is_pure() -> None:
    first = classify("no more stories", in_story=True)
    assert classify("no more stories").name == "no"
    assert classify("no more stories", in_story=True) == first


# in a story waiting for an answer: an answer, or something else (None: it is the answer)
IN_STORY_CASES = [
    ("Daddy", None),  # "Who came to help?"
    ("I want Daddy", "grownup"),
    ("Can you get my dad?", "grownup"),
    ("a big teddy", None),
    ("purple", None),
    ("a quiet mouse", None),
    ("whisper", None),
    ("the bear wanted to go on a boat", None),
    ("the first one", None),
    ("no more stories", "stop"),
    ("I want to stop", "stop"),
    ("Why is the moon round?", "question"),
    ("why do owls come out at night?", "question"),
    ("Who is Pip?", "question"),
    ("I don't want you to stop", "story.continue"),
    ("louder please", "volume.up"),
    ("a bit quieter", "volume.down"),
]


@pytest.mark.parametrize(("text", "intent"), IN_STORY_CASES)
def test_in_story_controls(text: str, intent: str | None) -> None:
    found = control_intent(text, IN_STORY)
    assert (found.name if found else None) == intent


# kind of question, what the child said, the answer that goes into the story
ANSWER_CASES = [
    ("name", "her name is Rosie", "Rosie"),
    ("name", "Her name is Rosie.", "Rosie"),
    ("colour", "it was golden", "golden"),
    ("colour", "um, purple", "purple"),
    ("colour", "Purple.", "purple"),
    ("colour", "Not red. Purple!", "purple"),
    ("colour", "I think it's sky blue.", "sky blue"),
    ("animal", "a T-rex", "T-rex"),
    ("free", "a T-rex", "T-rex"),
    ("object", "A T-rex.", "T-rex"),
    ("free", "my cat Whiskers", "cat Whiskers"),
    ("name", "my cat Whiskers", "Whiskers"),
    ("animal", "my cat Whiskers", "cat"),
    ("animal", "I think it was a hedgehog", "hedgehog"),
    ("free", "I think it was a hedgehog.", "hedgehog"),
    ("animal", "A big Tiger.", "big tiger"),
    ("animal", "tigers", "tiger"),
    ("name", "Let's call him Bobo.", "Bobo"),
    ("name", "She's called Moonbeam", "Moonbeam"),
    ("name", "Rosie, I think.", "Rosie"),
    ("name", "zorblax", "Zorblax"),
    ("place", "Um, the moon.", "moon"),
    ("place", "the moon", "moon"),
    ("object", "A shiny key, please.", "shiny key"),
    ("free", "Um. A kite. Because it flies.", "kite"),
    ("free", "a, um, kite", "kite"),
    ("free", "a glowing jellybean", "glowing jellybean"),
    ("free", "they had cocoa", "they had cocoa"),
    ("sound", "a soft hum", "soft hum"),
    ("sound", "Hmm.", "hmm"),
    ("feeling", "I feel sleepy.", "sleepy"),
    ("feeling", "Happy!", "happy"),
    ("free", "I don't know", None),
    ("name", "Um, I don't know.", None),
    ("free", "you choose", None),
    ("colour", "banana", None),
    ("free", "um", None),
    ("free", "sh1t", None),
    ("free", "sh um it", None),
    ("name", "it was a f u c k", None),
]


@pytest.mark.parametrize(("kind", "text", "answer"), ANSWER_CASES)
def test_answer_from_a_whole_sentence(kind: str, text: str, answer: str | None) -> None:
    assert answer_for(kind, text, WordSafety()) == answer


READING_CASES = [
    # kind, the recognizer's readings (best first), the reading that holds the answer
    ("sound", ("A little girl.", "A little bell."), "A little bell."),
    ("animal", ("A fang win.", "A penguin.", "Penguin."), "A penguin."),
    ("name", ("JZ", "Daisy"), "Daisy"),
    ("place", ("Under Nasi", "Under the sea"), "Under the sea"),
    ("colour", ("Purple.", "Pink."), "Purple."),
    ("free", ("They had a picnic.", "They had a big lick."), "They had a picnic."),
    ("animal", ("A spaceship.", "A space ship."), "A spaceship."),
    ("animal", ("Bloody hell.", "A penguin."), "Bloody hell."),
    ("colour", ("Um, variable.", "Um, shit red."), "Um, variable."),
    ("colour", (), ""),
]


@pytest.mark.parametrize(("kind", "readings", "chosen"), READING_CASES)
def test_the_likeliest_reading_with_a_known_answer_word_is_taken(
    kind: str, readings: tuple[str, ...], chosen: str
) -> None:
    assert answer_reading(kind, readings, WordSafety()) == chosen


def test_dont_know_is_no_answer() -> None:
    assert dont_know("Um, I don't know.") and dont_know("you pick")
    assert not dont_know("a dragon") and not dont_know("")


def test_every_fixed_line_may_be_said() -> None:
    safety = WordSafety()
    replies = (*REPLIES.values(), *RARE_REPLIES.values())
    lines = [*ANSWERS.values(), *(line for group in replies for line in group)]
    lines += [GROWNUP_TOLD, LOUDEST, QUIETEST, NO_ANSWER, NO_ANSWER_IN_STORY, NOT_FOUND]
    lines += [*CALMING_OFFER, NO_CALMING]
    assert all(safety.is_safe(line) for line in lines)


def test_questions_get_short_kind_answers() -> None:
    assert answer_question("what's a lighthouse?").startswith("A lighthouse is")
    assert answer_question("Why is the moon round?").startswith("The moon")
    assert answer_question("why do owls come out at night?").startswith("An owl")
    assert answer_question("why is the grass green?") == NO_ANSWER
    assert answer_question("why is the grass green?", in_story=True) == NO_ANSWER_IN_STORY


# -- the host -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def library():
    stories, _ = load_library(ROOT / "stories")
    return {s.id: s for s in stories}


def make_host(library, tmp_path: Path, seed: int = 1, **routine: bool) -> Host:
    config = Config(family=Family((Child("Mila", 6),)), routine=RoutineSettings(**routine))
    tmp_path.mkdir(parents=True, exist_ok=True)
    return Host(
        config, list(library.values()), Store(tmp_path / "s.db"), random.Random(seed), clock=daytime
    )


def say(host: Host, text: str) -> Reply:
    transcript = Transcript(text, 1.0, "text")
    return host.respond(classify(transcript), transcript)


def told(host: Host) -> str:
    assert host.session is not None
    return host.session.teller.story.id


@pytest.mark.parametrize(
    ("asked", "story_ids"),
    [
        ("the one about the pillow maze", {"s003-mara-and-the-pillow-maze"}),
        ("can I have the story about the shy shadow", {"s004-ava-and-the-shy-shadow"}),
        (
            "tell me the lantern story",
            {"s002-lila-and-the-lantern-story-circle", "s003-ravi-and-the-story-lantern"},
        ),
        ("The one with Ravi, please.", {"s003-ravi-and-the-story-lantern"}),
        ("Tell me about the dream bubbles.", {"s000-the-night-the-dream-bubbles-floated-home"}),
        ("tell me a story about the sleep helper", {"s004-the-sleep-helper-who-forgot-to-sleep"}),
    ],
)
def test_a_story_by_its_name(library, tmp_path: Path, asked: str, story_ids: set[str]) -> None:
    host = make_host(library, tmp_path)
    reply = say(host, asked)
    assert told(host) in story_ids and reply.expect is not None
    assert NOT_FOUND not in reply.lines


def test_a_story_nobody_knows_is_a_story_all_the_same(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path)
    reply = say(host, "the one about the purple submarine")
    assert reply.lines[0] == NOT_FOUND and host.session is not None
    assert "submarine" not in reply.text()  # the child's words are not said back
    plain = make_host(library, tmp_path / "plain")
    reply = say(plain, "tell me a story")
    assert NOT_FOUND not in reply.lines and plain.session is not None


def test_cant_sleep_offers_then_does(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path)
    offer = say(host, "I can't sleep")
    assert offer.lines == CALMING_OFFER and offer.expect is not None
    breathe = say(host, "a breathing moment please")
    assert breathe.lines[: len(BREATHING)] == BREATHING and not breathe.sounds
    assert host.offer is None
    say(host, "I'm not sleepy.")
    sounds = say(host, "sleep sounds")
    assert sounds.sounds == ("rain",) and not any(line in BREATHING for line in sounds.lines)
    say(host, "i'm still awake")
    both = say(host, "yes please")
    assert both.sounds == ("rain",) and both.lines[0] == BREATHING[0]
    say(host, "I can't sleep")
    assert say(host, "no thank you").lines == (NO_CALMING,)
    say(host, "I can't sleep")
    quiet = host.silence()
    assert quiet is not None and quiet.sounds == ("rain",)
    say(host, "I can't sleep")
    say(host, "tell me a story")  # something else: that, as usual
    assert host.session is not None and host.offer is None


def test_asking_for_a_grownup_calls_the_hook_without_the_words(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path)
    unhooked = say(host, "I want Mummy")
    assert unhooked.lines == RARE_REPLIES["grownup"]  # nobody to tell: no promise to tell them
    events: list[str] = []
    host.on_event = events.append
    for text in ("I want Daddy", "can you get my mum", "Where's Papa?", "Mommy!"):
        assert say(host, text).lines == (GROWNUP_TOLD,)
    assert events == [ASKED_FOR_GROWNUP] * 4

    def broken(event: str) -> None:
        raise RuntimeError("the home hub is down")

    host.on_event = broken
    assert say(host, "I want my mum").lines == RARE_REPLIES["grownup"]


def test_a_grownup_mid_story_and_the_story_waits(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path)
    events: list[str] = []
    host.on_event = events.append
    start = host.start_story(library["s000-mila-and-the-secret-dream-door"])
    question = start.lines[-1]
    step = host.session.teller.progress.step
    reply = say(host, "I want Mummy")
    assert reply.lines == (GROWNUP_TOLD, question) and reply.expect is not None
    assert host.session.teller.progress.step == step and events == [ASKED_FOR_GROWNUP]
    # "Daddy" alone is an answer there, not a call
    assert control_intent("Daddy", IN_STORY) is None


def test_a_question_mid_story_then_the_story_goes_on(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path)
    start = host.start_story(library["s000-mila-and-the-secret-dream-door"])
    question = start.lines[-1]
    step = host.session.teller.progress.step
    known = say(host, "What's a lighthouse?")
    assert known.lines[0].startswith("A lighthouse is") and known.lines[-1] == question
    unknown = say(host, "why is the grass green?")
    assert unknown.lines == (NO_ANSWER_IN_STORY, question) and unknown.expect is not None
    assert host.session.teller.progress.step == step
    assert say(host, "say that again").lines[-1] == question  # still the story's own lines
    answered = say(host, "It was purple.")
    assert "purple" in answered.text() and host.session.teller.progress.step > step


def test_no_more_stories_stops_only_a_story(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path)
    host.start_story(library["s000-mila-and-the-secret-dream-door"])
    stopped = say(host, "No more stories.")
    assert host.session is None and "stop" in stopped.text().lower()
    idle = say(host, "no more stories")
    assert host.session is None and idle.lines == REPLIES["no"]


def test_dont_know_at_a_question_picks_kindly(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path)
    host.start_story(library["s000-mila-and-the-secret-dream-door"])
    step = host.session.teller.progress.step
    reply = say(host, "Um, I don't know.")
    assert host.session.teller.progress.step > step
    assert "know" not in reply.text().lower()


def test_volume_steps_are_capped_in_the_host(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path)
    up = say(host, "louder")
    assert up.volume_step > 0 and up.lines == (LOUDEST,)  # already at the cap
    downs = [say(host, "a bit quieter") for _ in range(6)]
    assert all(r.volume_step < 0 for r in downs)
    assert downs[0].lines == REPLIES["volume.down"] and downs[-1].lines == (QUIETEST,)
    assert host.volume_level == VOLUME_FLOOR
    assert say(host, "turn it up").lines == REPLIES["volume.up"]
    # mid-story: the step, and the question again
    start = host.start_story(library["s000-mila-and-the-secret-dream-door"])
    mid = say(host, "louder please")
    assert mid.volume_step > 0 and mid.lines[-1] == start.lines[-1] and mid.expect is not None


def test_after_goodnight_only_the_gentle_requests(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path)
    host.after_goodnight = True
    assert say(host, "I can't sleep").lines == CALMING_OFFER
    host.offer = None
    assert say(host, "I want Daddy").lines == RARE_REPLIES["grownup"]
    assert say(host, "quieter").volume_step < 0
    assert say(host, "what's a lighthouse?").lines == (SLEEPING_TIME,)
    assert say(host, "the one about the pillow maze").lines == (SLEEPING_TIME,)
    allowed = make_host(library, tmp_path / "late", stories_after_goodnight=True)
    allowed.after_goodnight = True
    say(allowed, "the one about the pillow maze")
    assert told(allowed) == "s003-mara-and-the-pillow-maze"


def test_the_simple_brain_knows_the_new_intents() -> None:
    brain = SimpleBrain("Mila")
    assert brain.respond(Intent("volume.down", 1.0), Transcript("quieter", 1, "t")).volume_step < 0
    answer = brain.respond(Intent("question", 1.0), Transcript("what's a lighthouse", 1, "t"))
    assert answer.lines[0].startswith("A lighthouse")
    assert brain.respond(Intent("cant_sleep", 1.0), Transcript("", 1, "t")).sounds == ("rain",)


# -- the volume step at the output ------------------------------------------------------------


class _FakeSpeaker:
    """Plays each line as a block of full-scale samples (the voice itself is not needed)."""

    def __init__(self, out) -> None:
        from companion.speech.tts import VoiceRole

        self.out = out
        self.role = VoiceRole()
        self.interrupted = threading.Event()

    def reply(self, reply: Reply) -> float:
        for _ in reply.lines:
            self.out.play(np.full(2205, self.role.volume, np.float32), 22_050)
        return 0.1 * len(reply.lines)


def _companion(tmp_path: Path, day: float, night: float):
    from companion.app import Companion
    from companion.audio.files import WavOutput

    out = WavOutput(tmp_path / "out.wav", rate=22_050, cap=day)
    companion = object.__new__(Companion)  # only what speak() uses: no engines
    companion.config = Config(volume=VolumeCaps(day=day, night=night))
    companion.audio_out = out
    companion.sounds = None
    companion.speaker = _FakeSpeaker(out)
    companion.barge_in = None
    companion.events = None
    companion.realtime = False
    return companion, out


def _peak(out) -> float:
    from companion.audio.wav import read_wav

    out.close()
    samples, _ = read_wav(out.path)
    return float(np.abs(samples).max())


def test_louder_never_passes_the_cap(tmp_path: Path) -> None:
    companion, out = _companion(tmp_path, 0.3, 0.12)
    for _ in range(10):
        companion.speak(Reply(("louder",), volume_step=0.3))
        assert min(out.volume, out.cap) <= out.cap
    assert out.volume <= 0.3
    companion.speak(Reply(("goodnight",), cap=0.12))
    for _ in range(10):
        companion.speak(Reply(("louder",), volume_step=0.3))
    assert out.cap == 0.12 and out.volume <= 0.12
    assert _peak(out) <= 0.3 + 1 / 32767


def test_quieter_is_quieter_and_stays_so_at_night(tmp_path: Path) -> None:
    companion, out = _companion(tmp_path, 0.3, 0.12)
    companion.speak(Reply(("quieter",), volume_step=-0.3))
    assert out.volume == pytest.approx(0.21)
    for _ in range(10):
        companion.speak(Reply(("quieter",), volume_step=-0.3))
    assert out.volume == pytest.approx(0.3 * VOLUME_FLOOR)  # never silent
    companion.speak(Reply(("goodnight",), cap=0.12))
    assert out.volume == pytest.approx(0.12 * VOLUME_FLOOR)  # the same share of the night cap
