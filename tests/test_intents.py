"""Intents from text: the example phrases, paraphrases, and asking again rather than guessing."""

import pytest

from companion.dialog.intents import INTENTS, PATTERNS, classify, command_phrases
from companion.messages import Transcript

EXAMPLES = [
    ("tell me a story", "story.start"),
    ("story time", "story.start"),
    ("what happens next", "story.continue"),
    ("go on", "story.continue"),
    ("let's have a shared night", "night.shared"),
    ("everyone together tonight", "night.shared"),
    ("let's have a freeform night", "night.freeform"),
    ("can we make up a story", "night.freeform"),
    ("stop", "stop"),
    ("be quiet", "stop"),
    ("goodnight", "goodnight"),
    ("sleep tight", "goodnight"),
    ("i had a bad dream", "bad_dream"),
    ("i had a nightmare", "bad_dream"),
    ("say that again", "repeat"),
    ("repeat that", "repeat"),
    ("play sleep sounds", "sleep_sounds"),
    ("can i have the rain", "sleep_sounds"),
    ("yes", "yes"),
    ("okay", "yes"),
    ("no", "no"),
    ("not now", "no"),
]

PARAPHRASES = [
    ("could you please tell us a bedtime story", "story.start"),
    ("i want a story about a dragon", "story.start"),
    ("and then what happened", "story.continue"),
    ("keep going please", "story.continue"),
    ("can the whole family do it together", "night.shared"),
    ("i want to make up my own story", "night.freeform"),
    ("stop the story", "stop"),
    ("no more", "stop"),
    ("good night luma", "goodnight"),
    ("i'm scared i had a scary dream", "bad_dream"),
    ("what did you say", "repeat"),
    ("i want to hear the ocean", "sleep_sounds"),
    ("yeah sure", "yes"),
    ("no thank you", "no"),
    ("i don't want a story", "no"),
]


def test_intent_names_are_exactly_these() -> None:
    assert set(INTENTS) == set(PATTERNS) | {"none"}


@pytest.mark.parametrize(("text", "intent"), EXAMPLES + PARAPHRASES)
def test_classify(text: str, intent: str) -> None:
    assert classify(text).name == intent


@pytest.mark.parametrize("text", ["i like my dog", "the weather is nice", "", "banana"])
def test_nothing_fits_is_none(text: str) -> None:
    assert classify(text).name == "none"


def test_unsure_recognition_lowers_confidence() -> None:
    sure = classify(Transcript("tell me a story", 1.0, "test"))
    unsure = classify(Transcript("tell me a story", 0.45, "test"))
    assert unsure.name == sure.name and unsure.confidence < sure.confidence


def test_a_tie_between_two_intents_is_not_a_guess() -> None:
    # "rain" (sleep sounds) and "story" (story) are equally specific: not confident
    assert classify("rain story").confidence < classify("rain").confidence


def test_stop_wins_ties() -> None:
    assert classify("stop story").name == "stop"


def test_command_phrases_include_wake_forms() -> None:
    phrases = command_phrases("hey luma")
    assert "hey luma" in phrases and "hey luma tell me a story" in phrases
    assert len(phrases) == len(set(phrases))


@pytest.mark.parametrize(("text", "intent"), EXAMPLES + PARAPHRASES)
def test_sentences_from_a_neural_recognizer(text: str, intent: str) -> None:
    """The same requests as whole sentences: a hesitation, capitals and punctuation."""
    assert classify(f"Um, {text[0].upper()}{text[1:]}.").name == intent
    assert classify(f"{text[0].upper()}{text[1:]}, please!").name == intent


def test_a_story_changes_what_no_more_stories_means() -> None:
    assert classify("no more stories").name == "no"
    assert classify("no more stories", in_story=True).name == "stop"
