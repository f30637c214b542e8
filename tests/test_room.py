"""The simulated bedroom: one WAV as the microphone, the companion's voice echoed into it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from companion.audio.room import SimulatedRoom, impulse_response
from companion.audio.wav import read_wav, write_wav
from companion.messages import AudioChunk

RATE = 16_000
STEP = 480
DELAY = 240  # 15 ms at 16 kHz


def noise(seconds: float, level: float = 0.2, seed: int = 1, rate: int = RATE) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (level * rng.standard_normal(round(seconds * rate))).clip(-1, 1).astype(np.float32)


def tone(seconds: float, hz: float = 440.0, level: float = 0.5, rate: int = RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def wav(tmp_path: Path, samples: np.ndarray, rate: int = RATE, name: str = "in.wav") -> Path:
    path = tmp_path / name
    write_wav(path, samples, rate)
    return path


OPEN: list[SimulatedRoom] = []


@pytest.fixture(autouse=True)
def _close_rooms() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def room(tmp_path: Path, mic: np.ndarray, echo_db: float = -120.0, **kw: object) -> SimulatedRoom:
    """An unpaced room without a tail, writing out.wav; closed after the test."""
    kw.setdefault("paced", False)
    kw.setdefault("tail_s", 0.0)
    made = SimulatedRoom(wav(tmp_path, mic), tmp_path / "out.wav", echo_db, **kw)  # type: ignore[arg-type]
    OPEN.append(made)
    return made


def mic_audio(chunks: list[AudioChunk]) -> np.ndarray:
    return np.concatenate([c.samples for c in chunks]).astype(np.float64) / 32768.0


def db(x: np.ndarray) -> float:
    return 10 * np.log10(np.sum(np.asarray(x, np.float64) ** 2))


def test_output_is_as_long_as_the_microphone_and_holds_what_played_when(tmp_path: Path) -> None:
    r = room(tmp_path, np.zeros(RATE, np.float32), tail_s=0.3)
    said = tone(0.2)
    chunks = []
    for i, chunk in enumerate(r.chunks()):
        chunks.append(chunk)
        if i == 10:
            r.play(said, RATE)
    r.close()
    out, rate = read_wav(tmp_path / "out.wav")
    assert rate == RATE
    assert len(out) == len(chunks) * STEP == (34 + 10) * STEP  # the last input chunk padded
    start = 11 * STEP  # the chunk after the one during which play() was called
    assert not out[:start].any()
    assert np.abs(out[start : start + len(said)] - said).max() < 2e-4
    assert not out[start + len(said) :].any()
    assert r.played_s == pytest.approx(0.2) and r.queued_s == pytest.approx(0.2)


@pytest.mark.parametrize("reverb", [False, True])
def test_echo_arrives_at_its_delay_and_level(tmp_path: Path, reverb: bool) -> None:
    r = room(tmp_path, np.zeros(RATE, np.float32), echo_db=-6.0, reverb=reverb)
    said = noise(0.3)
    r.play(said, RATE)
    heard = mic_audio(list(r.chunks()))
    assert not heard[:DELAY].any()
    assert np.abs(heard[DELAY : DELAY + 20]).max() > 0.01
    lag = np.argmax(np.correlate(heard[: len(said) + 1000], said, mode="valid"))
    assert lag == DELAY
    assert db(heard) - db(said) == pytest.approx(-6.0, abs=1.5)
    # seamless across chunks: the same as convolving the whole signal at once
    path = np.convolve(said, impulse_response()) if reverb else said
    expected = np.zeros(len(heard))
    expected[DELAY : DELAY + len(path)] = 10 ** (-6 / 20) * path[: len(heard) - DELAY]
    assert np.abs(heard - expected).max() < 1.5 / 32768
    after = heard[DELAY + len(said) + 50 : DELAY + len(said) + 2000]
    assert after.any() == reverb


def test_reverb_is_a_direct_path_and_a_faint_decaying_tail() -> None:
    ir = impulse_response()
    assert ir[0] == 1.0 and len(ir) == pytest.approx(0.25 * RATE, rel=0.1)
    assert db(ir[1:]) < -10
    early, late = ir[1 : len(ir) // 4], ir[-len(ir) // 4 :]
    assert db(late) < db(early) - 30
    assert ir is impulse_response()


def test_no_echo_when_the_room_swallows_it(tmp_path: Path) -> None:
    r = room(tmp_path, np.zeros(RATE // 2, np.float32), echo_db=-120.0)
    r.play(noise(0.3, level=0.5), RATE)
    chunks = list(r.chunks())
    assert r.played_s == pytest.approx(0.3)
    assert not any(c.samples.any() for c in chunks)


def test_input_passes_through_unchanged_when_nothing_plays(tmp_path: Path) -> None:
    path = wav(tmp_path, noise(0.5, level=0.3))
    r = SimulatedRoom(path, None, 0.0, paced=False, tail_s=0.0)
    chunks = list(r.chunks())
    r.close()
    expected = np.round(read_wav(path)[0] * 32768).astype(np.int16)
    heard = np.concatenate([c.samples for c in chunks])
    assert all(c.rate == RATE and len(c.samples) == STEP for c in chunks)
    assert np.array_equal(heard[: len(expected)], expected)
    assert not heard[len(expected) :].any()


def test_stop_silences_the_next_chunk_and_records_when(tmp_path: Path) -> None:
    r = room(tmp_path, np.zeros(RATE, np.float32))
    r.stop()  # nothing playing: nothing to record
    played: list[np.ndarray] = []
    r.on_played = lambda block, rate: played.append(block)
    r.play(tone(0.6), RATE)
    for i, _ in enumerate(r.chunks()):
        if i == 5:
            r.stop()
            r.stop()  # already silent
    r.close()
    assert np.abs(played[5]).max() > 0.1
    assert not np.concatenate(played[6:]).any()
    assert r.stopped_at == [pytest.approx(6 * 0.03)]
    assert r.played_s == pytest.approx(6 * 0.03) and r.queued_s == pytest.approx(r.played_s)


def test_duck_lowers_the_next_chunk_by_15_db(tmp_path: Path) -> None:
    r = room(tmp_path, np.zeros(RATE, np.float32))
    played: list[np.ndarray] = []
    r.on_played = lambda block, rate: played.append(block)
    r.play(tone(0.6, hz=500), RATE)  # 500 Hz: a whole number of periods in every chunk
    assert r.gain == 1.0
    for i, _ in enumerate(r.chunks()):
        if i == 5:
            r.duck(0.18)
            assert r.gain == 0.18
        if i == 10:
            r.duck(1.0)
    assert db(played[6]) - db(played[5]) == pytest.approx(-14.9, abs=0.3)
    assert db(played[11]) == pytest.approx(db(played[5]), abs=0.3)
    assert r.ducked_at == [pytest.approx(6 * STEP / RATE)]


@pytest.mark.parametrize(("volume", "peak"), [(0.2, 0.2), (1.0, 0.3)])
def test_volume_and_cap_apply_to_what_plays(tmp_path: Path, volume: float, peak: float) -> None:
    r = room(tmp_path, np.zeros(RATE // 2, np.float32), cap=0.3)
    r.volume = volume
    r.play(tone(0.3, level=1.0), RATE)
    list(r.chunks())
    r.close()
    out, _ = read_wav(tmp_path / "out.wav")
    assert np.abs(out).max() == pytest.approx(peak, abs=1e-3)


def test_on_played_receives_exactly_the_played_blocks(tmp_path: Path) -> None:
    r = room(tmp_path, np.zeros(RATE // 2, np.float32), echo_db=-6.0, reverb=False)
    said = noise(0.2)
    played: list[np.ndarray] = []
    heard: list[AudioChunk] = []

    def far(block: np.ndarray, rate: int) -> None:
        assert len(heard) == len(played)  # called before its microphone chunk is yielded
        assert rate == RATE
        played.append(block)

    r.on_played = far
    r.play(said, RATE)
    for chunk in r.chunks():
        heard.append(chunk)
    r.close()
    assert len(played) == len(heard)
    assert all(b.dtype == np.float32 and len(b) == STEP for b in played)
    far_end = np.concatenate(played)
    assert np.array_equal(far_end[: len(said)], said)
    assert not far_end[len(said) :].any()
    out, _ = read_wav(tmp_path / "out.wav")
    assert np.abs(out - far_end).max() < 2e-4


def test_input_at_22050_hz_is_resampled(tmp_path: Path) -> None:
    path = wav(tmp_path, tone(1.0, hz=1000, rate=22_050), rate=22_050)
    r = SimulatedRoom(path, None, -120.0, paced=False, tail_s=0.0)
    chunks = list(r.chunks())
    r.close()
    heard = mic_audio(chunks)
    assert all(c.rate == RATE and len(c.samples) == STEP for c in chunks)
    assert abs(len(heard) - RATE) <= STEP
    spectrum = np.abs(np.fft.rfft(heard[:RATE]))
    assert np.fft.rfftfreq(RATE, 1 / RATE)[np.argmax(spectrum)] == pytest.approx(1000, abs=2)


def test_chunks_are_contiguous_and_the_clock_counts_them(tmp_path: Path) -> None:
    r = room(tmp_path, noise(0.5))
    starts, clocks = [], []
    for chunk in r.chunks():
        starts.append(chunk.start_s)
        clocks.append(r.clock_s)
    assert starts == [pytest.approx(k * 0.03) for k in range(len(starts))]
    assert clocks == [pytest.approx(s + 0.03) for s in starts]
    assert r.clock_s == pytest.approx(len(starts) * 0.03)


def test_after_the_input_the_speaker_plays_out_then_the_tail(tmp_path: Path) -> None:
    r = room(tmp_path, noise(0.3), tail_s=0.3)
    r.play(tone(1.0), RATE)
    chunks = list(r.chunks())
    assert len(chunks) == 34 + 10  # 1.0 s of speech in 34 chunks, then 0.3 s
    assert r.played_s == pytest.approx(1.0)


def test_paced_chunks_come_in_real_time(tmp_path: Path) -> None:
    r = room(tmp_path, np.zeros(round(0.3 * RATE), np.float32), paced=True)
    began = time.monotonic()
    chunks = list(r.chunks())
    assert len(chunks) == 10
    assert time.monotonic() - began >= 9 * 0.03 - 0.005


class Gated:
    """Pulls one chunk from another thread for every permit given."""

    def __init__(self, r: SimulatedRoom) -> None:
        self.permits = threading.Semaphore(0)
        self.pulled = 0
        self._chunks: Iterator[AudioChunk] = r.chunks()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            self.permits.acquire()
            if next(self._chunks, None) is None:
                return
            self.pulled += 1


def waiting(r: SimulatedRoom) -> tuple[threading.Event, list[float]]:
    done = threading.Event()
    played_then: list[float] = []

    def run() -> None:
        r.wait()
        played_then.append(r.played_s)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done, played_then


def test_wait_returns_once_the_audio_has_played(tmp_path: Path) -> None:
    r = room(tmp_path, np.zeros(RATE, np.float32))
    r.play(tone(0.15), RATE)  # 5 chunks
    gate = Gated(r)
    done, played_then = waiting(r)
    gate.permits.release(4)
    assert not done.wait(0.2)
    gate.permits.release(1)
    assert done.wait(5)
    assert played_then == [pytest.approx(0.15)]
    r.close()
    gate.permits.release(1)
    gate.thread.join(5)
    assert not gate.thread.is_alive()


def test_wait_returns_after_stop(tmp_path: Path) -> None:
    r = room(tmp_path, np.zeros(RATE, np.float32))
    r.play(tone(0.6), RATE)
    done, _ = waiting(r)
    assert not done.wait(0.1)
    r.stop()
    assert done.wait(5)
    r.close()


def test_close_midway_ends_chunks_and_releases_wait(tmp_path: Path) -> None:
    r = room(tmp_path, np.zeros(5 * RATE, np.float32))
    r.play(tone(10.0), RATE)
    gate = Gated(r)
    done, _ = waiting(r)
    gate.permits.release(3)
    assert not done.wait(0.2)
    assert gate.pulled == 3
    r.close()
    r.close()
    assert done.wait(5)
    gate.permits.release(1)
    gate.thread.join(5)
    assert not gate.thread.is_alive() and gate.pulled == 3
    out, _ = read_wav(tmp_path / "out.wav")
    assert len(out) == 3 * STEP


def test_wait_returns_once_the_room_has_ended(tmp_path: Path) -> None:
    r = room(tmp_path, np.zeros(RATE, np.float32))
    r.play(tone(1.0), RATE)
    chunks = r.chunks()
    next(chunks)
    done, _ = waiting(r)
    assert not done.wait(0.1)
    chunks.close()  # nothing is left to play the rest
    assert done.wait(5)
    r.close()


def test_a_reader_held_up_in_a_paced_room_stops_it_when_a_microphone_would(
    tmp_path: Path,
) -> None:
    # a decode that holds the reader up for 0.3 s: a real microphone went on meanwhile
    r = room(tmp_path, np.zeros(RATE, np.float32), paced=True)
    r.play(tone(0.9), RATE)
    chunks = r.chunks()
    for _ in range(3):
        next(chunks)
    assert r.now_s == pytest.approx(r.clock_s, abs=0.02)
    time.sleep(0.3)  # the reader's stand-in for computing, not a wait for an event
    r.duck(0.18)
    r.stop()
    assert r.clock_s == pytest.approx(0.09)
    assert r.stopped_at[0] >= 0.09 + 0.3 and r.ducked_at[0] >= 0.09 + 0.3
    r.close()


def test_an_unpaced_room_counts_only_what_was_read(tmp_path: Path) -> None:
    r = room(tmp_path, np.zeros(RATE, np.float32))
    r.play(tone(0.9), RATE)
    chunks = r.chunks()
    for _ in range(3):
        next(chunks)
    time.sleep(0.05)
    r.stop()
    assert r.stopped_at == [pytest.approx(0.09)]


def test_until_ends_the_microphone_while_the_speaker_still_plays(tmp_path: Path) -> None:
    r = room(tmp_path, np.zeros(RATE // 2, np.float32), until_s=0.3)
    r.play(tone(2.0), RATE)
    assert len(list(r.chunks())) == 10
    r.wait()  # released: the room has ended
