"""Endpointing as pure logic: frames of (speech?, seconds), no audio and no clock."""

from companion.audio.segmenter import Event, Segmenter

FRAME = 0.03


def feed(seg: Segmenter, pattern: list[tuple[bool, float]]) -> list[tuple[float, Event]]:
    events, t = [], 0.0
    for speech, seconds in pattern:
        for _ in range(round(seconds / FRAME)):
            t += FRAME
            event = seg.process(speech, FRAME)
            if event is not Event.NONE:
                events.append((round(t, 2), event))
    return events


def test_utterance_ends_after_trailing_silence() -> None:
    seg = Segmenter(trailing_s=0.6, max_s=10)
    events = feed(seg, [(False, 0.3), (True, 1.2), (False, 1.0)])
    assert [e for _, e in events] == [Event.STARTED, Event.ENDED]
    assert events[1][0] == 0.3 + 1.2 + 0.6


def test_short_pauses_inside_speech_do_not_end_it() -> None:
    seg = Segmenter(trailing_s=0.6, max_s=10)
    events = feed(seg, [(True, 0.6), (False, 0.3), (True, 0.6), (False, 0.9)])
    assert [e for _, e in events] == [Event.STARTED, Event.ENDED]


def test_a_click_is_not_speech() -> None:
    seg = Segmenter(trailing_s=0.6, max_s=10)
    assert feed(seg, [(True, 0.06), (False, 2.0)]) == []


def test_silence_timeout_counts_audio_seconds() -> None:
    seg = Segmenter(trailing_s=0.6, max_s=10, timeout_s=5.0)
    events = feed(seg, [(False, 9.0)])
    assert [e for _, e in events] == [Event.TIMEOUT]
    assert 4.99 <= events[0][0] <= 5.03


def test_idle_waits_forever() -> None:
    seg = Segmenter(trailing_s=0.6, max_s=10, timeout_s=None)
    assert feed(seg, [(False, 120.0)]) == []


def test_monologue_is_cut_at_max_length() -> None:
    seg = Segmenter(trailing_s=0.6, max_s=4.0)
    events = feed(seg, [(True, 10.0)])
    assert [e for _, e in events][:2] == [Event.STARTED, Event.TOO_LONG]
    assert 4.0 <= events[1][0] <= 4.2


def test_shorter_trailing_silence_can_be_asked_per_frame() -> None:
    seg = Segmenter(trailing_s=1.0, max_s=10)
    feed(seg, [(True, 0.6)])
    events = []
    for _ in range(20):
        event = seg.process(False, FRAME, trailing_s=0.3)
        events.append(event)
        if event is Event.ENDED:
            break
    assert events[-1] is Event.ENDED and len(events) == 10


def test_reset_starts_a_new_wait() -> None:
    seg = Segmenter(trailing_s=0.6, max_s=10, timeout_s=1.0)
    feed(seg, [(False, 0.9)])
    seg.reset(timeout_s=1.0)
    assert feed(seg, [(False, 0.9)]) == []
