"""The stop listener's own logic, with stand-ins for the recognizer and the keyword model."""

from __future__ import annotations

import numpy as np
import pytest

from companion.audio.echo import SpeakerGate
from companion.dialog.bargein import DUCK_GAIN, BargeIn
from companion.messages import AudioChunk, Grammar, Reply, Transcript

LOUD = np.full(480, 8000, np.int16)
QUIET = np.zeros(480, np.int16)


class _Stt:
    name = "stand-in"

    def __init__(self, text: str) -> None:
        self.text = text
        self.fed = 0
        self.grammars: list[Grammar] = []

    def start(self, grammar: Grammar) -> None:
        self.grammars.append(grammar)

    def feed(self, samples: np.ndarray) -> None:
        self.fed += len(samples)

    def partial(self) -> str:
        return ""

    def finish(self) -> Transcript:
        return Transcript(self.text, 0.9, self.name)


class _Unsure(_Stt):
    def finish(self) -> Transcript:
        return Transcript(self.text, 0.35, self.name)


class _Spotter:
    name = "stand-in spotter"
    keyword = "stop"

    def __init__(self, fires_after: int | None) -> None:
        self.fires_after = fires_after
        self.heard = 0

    def hear(self, samples: np.ndarray) -> bool:
        self.heard += 1
        return self.fires_after is not None and self.heard == self.fires_after

    def reset(self) -> None:
        self.heard = 0


def _listener(text: str = "", spotter: _Spotter | None = None, canceller=None):
    stops: list[Transcript] = []
    ducks: list[float] = []
    barge = BargeIn(
        _Stt(text),
        lambda samples: bool(np.abs(samples).max() > 1000),
        "hey luma",
        stops.append,
        canceller=canceller or _Cancelling(),
        spotter=spotter,
        duck=ducks.append,
    )
    return barge, stops, ducks


class _Cancelling(SpeakerGate):
    cancels = True


def _say(barge: BargeIn, loud_chunks: int, quiet_chunks: int = 12) -> None:
    t = 0.0
    for samples in [LOUD] * loud_chunks + [QUIET] * quiet_chunks:
        barge.hear(AudioChunk(samples, 16_000, t))
        t += 0.03


STORY = Reply(("The owl flew over the quiet hill.", "Everyone was sleepy."))
STOPPING = Reply(("The bus came to a stop by the sea.",))


@pytest.mark.parametrize(
    ("text", "reply", "stops"),
    [
        ("Stop.", STORY, True),
        ("Um, stop.", STORY, True),
        ("Okay, stop it.", STORY, True),
        ("Be quiet.", STORY, True),
        ("That's enough.", STORY, True),
        ("No more.", STORY, True),
        ("Luma, stop.", STORY, True),
        ("I don't want to stop.", STORY, False),
        ("What's an owl?", STORY, False),
        ("The owl flew over the quiet hill.", STORY, False),
        ("Stop.", STOPPING, False),
        ("Luma, stop!", STOPPING, True),
        ("Please tell me the part where they stop at the big red house", STORY, False),
    ],
)
def test_what_stops_a_reply(text: str, reply: Reply, stops: bool) -> None:
    barge, heard, _ = _listener(text)
    barge.begin(reply)
    _say(barge, 10)
    assert bool(heard) is stops
    assert barge.active is not stops


def test_the_keyword_model_ducks_at_once_and_vouches_for_an_unsure_stop() -> None:
    barge, heard, ducks = _listener("", _Spotter(fires_after=1))
    barge.stt = _Unsure("Stop.")
    barge.begin(STORY)
    _say(barge, 1, 0)
    assert ducks == [DUCK_GAIN]  # on the keyword model's word, before the voice detector's
    _say(barge, 9)
    assert [t.text for t in heard] == ["Stop."] and not barge.active
    barge, heard, _ = _listener("", _Spotter(fires_after=1))
    barge.stt = _Unsure("Stop.")
    barge.begin(STOPPING)  # a line that says "stop" itself: the keyword model is not heard
    _say(barge, 10)
    assert not heard and barge.active


def test_a_long_loud_stretch_is_not_a_stop_phrase() -> None:
    barge, heard, _ = _listener("Stop. Stop.")
    barge.begin(STORY)
    _say(barge, 60, 40)  # 1.8 s of sound: talk or noise, whatever it was read as
    assert not heard
    _say(barge, 10)
    assert heard


def test_voice_over_the_reply_ducks_it_and_anything_but_stop_brings_it_back() -> None:
    barge, heard, ducks = _listener("Say that again.")
    barge.begin(STORY)
    _say(barge, 1, 0)
    assert ducks == []  # one frame is not yet a voice
    _say(barge, 3, 0)
    assert ducks == [DUCK_GAIN]
    _say(barge, 0, 12)
    assert ducks == [DUCK_GAIN, 1.0] and not heard


def test_a_stop_leaves_it_ducked_and_end_restores() -> None:
    barge, heard, ducks = _listener("Stop.")
    barge.begin(STORY)
    _say(barge, 10)
    assert heard and ducks == [DUCK_GAIN]
    barge.end()
    assert ducks == [DUCK_GAIN, 1.0]


def test_without_a_canceller_it_hears_only_when_the_speaker_is_silent() -> None:
    gate = SpeakerGate()
    barge, heard, _ = _listener("Stop.", canceller=gate)
    barge.begin(STORY)
    t = 0.0
    for _ in range(20):  # the speaker plays while the child speaks: nothing is heard
        gate.far(np.full(480, 0.3, np.float32), 16_000)
        barge.hear(gate.near(AudioChunk(LOUD, 16_000, t)))
        t += 0.03
    for _ in range(12):
        gate.far(np.zeros(480, np.float32), 16_000)
        barge.hear(gate.near(AudioChunk(QUIET, 16_000, t)))
        t += 0.03
    assert not heard
    for samples in [LOUD] * 10 + [QUIET] * 12:  # in the pause between sentences it is
        gate.far(np.zeros(480, np.float32), 16_000)
        barge.hear(gate.near(AudioChunk(samples, 16_000, t)))
        t += 0.03
    assert [t.text for t in heard] == ["Stop."]


def test_nothing_is_heard_when_no_reply_plays() -> None:
    barge, heard, ducks = _listener("Stop.", _Spotter(fires_after=1))
    _say(barge, 10)
    assert not heard and not ducks


class _Growing(_Stt):
    """Hears "Um." in a short stretch and "Um, stop." once the stretch is longer."""

    def start(self, grammar: Grammar) -> None:
        super().start(grammar)
        self.fed = 0

    def finish(self) -> Transcript:
        return Transcript("Um, stop." if self.fed > 16_000 else "Um.", 0.8, self.name)


def test_a_pause_after_um_does_not_lose_the_stop() -> None:
    barge, heard, _ = _listener()
    barge.stt = _Growing("")
    barge.begin(STORY)
    _say(barge, 10, 12)  # "um" and a pause: decoded, not a stop
    assert not heard
    _say(barge, 12, 12)  # "stop", 0.36 s later: decoded with the "um" before it
    assert [t.text for t in heard] == ["Um, stop."]


def test_talk_long_after_is_decoded_on_its_own() -> None:
    barge, heard, _ = _listener()
    barge.stt = _Growing("")
    barge.begin(STORY)
    _say(barge, 10, 40)  # a pause of 1.2 s
    _say(barge, 12, 12)
    assert not heard


def test_a_stop_read_unsurely_is_not_taken() -> None:
    barge, heard, _ = _listener()
    barge.stt = _Unsure("Stop. Stop.")
    barge.begin(STORY)
    _say(barge, 10)
    assert not heard and barge.active

