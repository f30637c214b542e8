"""The listening state machine as pure logic: fake recognizer and VAD, time in audio seconds."""

from __future__ import annotations

import numpy as np

from companion.audio.segmenter import Segmenter
from companion.dialog.loop import EARLY_TRAILING_S, ListeningLoop, State, is_complete
from companion.messages import AudioChunk, Grammar, Intent, Reply, Transcript

IDLE = Grammar(
    "idle",
    ("hey luma", "hey luma stop", "hey luma tell me a story", "stop"),
    open=True,
    prefix="hey luma",
)


class FakeRecognizer:
    name = "fake"

    def __init__(self, text: str) -> None:
        self.text = text
        self.fed = 0

    def start(self, grammar: Grammar) -> None:
        self.fed = 0

    def feed(self, samples: np.ndarray) -> None:
        self.fed += len(samples)

    def partial(self) -> str:
        return self.text

    def finish(self) -> Transcript:
        return Transcript(self.text, 1.0, self.name)


class Brain:
    def __init__(self) -> None:
        self.heard: list[str] = []

    def wake(self) -> Reply:
        return Reply(("Yes?",), expect=Grammar("command", ("stop",)))

    def respond(self, intent: Intent, transcript: Transcript) -> Reply:
        self.heard.append(intent.name)
        return Reply(("Okay.",))

    def silence(self) -> Reply | None:
        return None


def run(text: str, pattern: list[tuple[bool, float]]) -> tuple[ListeningLoop, Brain]:
    brain = Brain()
    speaking = []
    for voiced, seconds in pattern:
        speaking += [voiced] * round(seconds / 0.03)
    flags = iter(speaking)
    loop = ListeningLoop(
        FakeRecognizer(text),
        lambda _: next(flags),
        Segmenter(0.7, 12.0),
        brain,
        lambda reply: 1.0,
        IDLE,
        8.0,
    )
    chunks = [AudioChunk(np.zeros(480, np.int16), 16000, i * 0.03) for i in range(len(speaking))]
    loop.run(chunks)
    return loop, brain


def test_a_whole_expected_phrase_ends_early() -> None:
    loop, brain = run("hey luma stop", [(False, 0.3), (True, 1.0), (False, 2.0)])
    (turn,) = loop.turns
    assert brain.heard == ["stop"]
    assert abs(turn.trailing_s - EARLY_TRAILING_S) < 0.04


def test_an_unfinished_phrase_waits_the_full_silence() -> None:
    loop, _ = run("hey luma tell me", [(False, 0.3), (True, 1.0), (False, 2.0)])
    (turn,) = loop.turns
    assert abs(turn.trailing_s - 0.7) < 0.04


def test_the_wake_phrase_alone_waits_for_more() -> None:
    loop, _ = run("hey luma", [(False, 0.3), (True, 0.6), (False, 2.0)])
    assert abs(loop.turns[0].trailing_s - 0.7) < 0.04
    assert loop.state is State.LISTENING  # "Yes?" asked: the next words need no wake phrase


def test_speech_without_the_wake_phrase_is_ignored() -> None:
    loop, brain = run("stop", [(True, 0.6), (False, 2.0)])
    assert brain.heard == [] and loop.turns == [] and loop.state is State.IDLE
    assert [t[1] for t in loop.transitions] == ["understanding", "idle"]


def test_is_complete() -> None:
    assert is_complete("Hey Luma, tell me a story", IDLE)
    assert not is_complete("hey luma", IDLE)
    assert not is_complete("tell me a", IDLE)
    assert not is_complete("", IDLE)
