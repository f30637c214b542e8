"""The test voice bank: every family and variant renders, and the two sets never overlap."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from companion import voicebank as vb
from companion.audio.wav import read_wav
from companion.dialog.intents import classify
from companion.dialog.loop import strip_wake
from companion.errors import CompanionError
from companion.messages import Transcript
from companion.speech.grammar import words
from companion.speech.piper_engine import PiperEngine
from companion.storytelling.format import KINDS
from tests.conftest import need

WAKE = "hey luma"
REQUEST_INTENTS = (
    "story.start",
    "story.continue",
    "night.shared",
    "night.freeform",
    "stop",
    "goodnight",
    "bad_dream",
    "repeat",
    "sleep_sounds",
)
TOOLS = {"espeak-ng": ("espeak-ng", "sox"), "flite": ("flite", "sox"), "narrator-shifted": ("sox",)}


def db(value: float) -> float:
    return 20 * np.log10(max(value, 1e-12))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def pitch_hz(samples: np.ndarray, rate: int) -> float:
    """Median pitch of the louder 40 ms frames, by YIN (no octave errors on low voices)."""
    frame, hop = int(0.04 * rate), int(0.02 * rate)
    shortest, longest = int(rate / 600), int(rate / 60)
    level = vb.speech_rms(samples, rate)
    found = []
    for start in range(0, len(samples) - frame - longest, hop):
        x = samples[start : start + frame + longest].astype(np.float64)
        if rms(x[:frame]) < 0.3 * level:
            continue
        lags = np.arange(1, longest + 1)
        diff = np.array([np.sum((x[:frame] - x[t : t + frame]) ** 2) for t in lags])
        normal = np.concatenate([[1.0], diff * lags / np.maximum(np.cumsum(diff), 1e-12)])
        dips = np.flatnonzero(normal[shortest:] < 0.15)
        if not dips.size:
            continue
        lag = shortest + dips[0]
        while lag < longest and normal[lag + 1] < normal[lag]:
            lag += 1
        found.append(rate / lag)
    assert len(found) >= 5, "too few voiced frames to measure the pitch"
    return float(np.median(found))


def test_voice_sets_are_disjoint_and_cover_every_family() -> None:
    test, held = vb.voices(held_out=False), vb.voices(held_out=True)
    assert not {v.label for v in test} & {v.label for v in held}
    assert all(not v.held_out for v in test) and all(v.held_out for v in held)
    for family in vb.FAMILIES:
        assert sum(v.family == family for v in test) >= 2, family
        assert sum(v.family == family for v in held) >= 2, family
    # the narrator's own voice unshifted is never one of them
    assert all(
        vb.NARRATOR_SHIFTS[v.name] != 1.0 for v in (*test, *held) if v.family == "narrator-shifted"
    )
    for v in (*test, *held):
        assert vb.CHILD_CENTS[0] <= v.child_cents <= vb.CHILD_CENTS[1]
    assert len({v.child_cents for v in (*test, *held)}) > 3, "child pitch should vary per voice"


def said(text: str) -> str:
    return " ".join(words(text))


def test_phrase_sets_are_disjoint() -> None:
    for phrases in (vb.REQUESTS, vb.ANSWERS, vb.WAKE_ONLY, vb.NOT_FOR_ME):
        # the wake phrase alone is always the same words: its sets differ in how it is said
        same = said if phrases is not vb.WAKE_ONLY else str
        test = {same(p if isinstance(p, str) else p[0]) for p in phrases.test}
        held = {same(p if isinstance(p, str) else p[0]) for p in phrases.held_out}
        assert len(test) == len(phrases.test) and len(held) == len(phrases.held_out)
        assert not test & held
        assert phrases[False] is phrases.test and phrases[True] is phrases.held_out
    assert not {w for *_, w in vb.ANSWERS.test} & {w for *_, w in vb.ANSWERS.held_out}


@pytest.mark.parametrize("held_out", [False, True], ids=["test", "held_out"])
def test_requests_say_the_wake_phrase_and_classify_to_their_intent(held_out: bool) -> None:
    requests = vb.REQUESTS[held_out]
    for intent in REQUEST_INTENTS:
        assert sum(i == intent for _, i in requests) >= 2, intent
    for text, intent in requests:
        rest, woke = strip_wake(Transcript(text, 1.0, "text"), WAKE)
        assert woke, text
        assert classify(rest).name == intent, text


@pytest.mark.parametrize("held_out", [False, True], ids=["test", "held_out"])
def test_answers_wake_only_and_not_for_me(held_out: bool) -> None:
    for text, kind, word in vb.ANSWERS[held_out]:
        assert kind in KINDS
        assert word == word.lower() and f" {word} " in f" {said(text)} ", text
    assert {kind for _, kind, _ in vb.ANSWERS[held_out]} >= set(KINDS) - {"free"}
    for text in vb.WAKE_ONLY[held_out]:
        rest, woke = strip_wake(Transcript(text, 1.0, "text"), WAKE)
        assert woke and not rest.text, text
    for text in vb.NOT_FOR_ME[held_out]:
        assert not strip_wake(Transcript(text, 1.0, "text"), WAKE)[1], text


@pytest.mark.parametrize("family", vb.FAMILIES)
def test_every_variant_renders(family: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    for tool in TOOLS[family]:
        need(tool)
    # only the narrator's family needs the (session's) voice
    voice = request.getfixturevalue("voice") if family == "narrator-shifted" else None
    chosen = next(v for v in vb.voices(held_out=False) if v.family == family)
    text = "Hey Luma, goodnight."
    lead_s, tail_s = 0.4, 1.0
    paths = {
        variant: vb.render(text, chosen, variant, tmp_path, narrator=voice)
        for variant in vb.VARIANTS
    }
    audio: dict[str, np.ndarray] = {}
    for variant, path in paths.items():
        assert path.parent == tmp_path
        with wave.open(str(path), "rb") as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16_000)
        samples, rate = read_wav(path)
        assert rate == 16_000
        assert len(samples) / rate > lead_s + tail_s + 0.4, variant
        lead = samples[: int(0.9 * lead_s * rate)]
        speech = samples[int(lead_s * rate) : len(samples) - int(tail_s * rate)]
        if variant == "fan":
            # the fan runs through the lead-in, about 10 dB below the speech
            assert -35 < db(rms(lead)) < -25, variant
        else:
            assert db(rms(lead)) < -80, variant
        assert -23 < db(vb.speech_rms(speech)) < -17, variant
        assert np.abs(samples).max() < 1.0, variant
        audio[variant] = speech
    # the child is clearly higher, and a little slower
    plain, child = pitch_hz(audio["plain"], 16_000), pitch_hz(audio["child"], 16_000)
    assert child / plain > 2 ** (250 / 1200), (plain, child)
    assert len(audio["child"]) > len(audio["plain"])
    # the room rings on into the tail
    assert rms(audio["reverb"][-1600:]) > rms(audio["plain"][-1600:])
    # made once: the same request gives the same file, untouched
    stamp = paths["plain"].stat().st_mtime_ns
    assert vb.render(text, chosen, "plain", tmp_path, narrator=voice) == paths["plain"]
    assert paths["plain"].stat().st_mtime_ns == stamp
    assert vb.render("Hey Luma, stop.", chosen, "plain", tmp_path, narrator=voice) != paths["plain"]


def test_narrator_shift_changes_the_voice(tmp_path: Path, voice: PiperEngine) -> None:
    need("sox")
    text = "Hey Luma, tell me a story."
    up, down = (v for v in vb.voices(held_out=False) if v.family == "narrator-shifted")
    own = np.concatenate(list(voice.synthesize(text)))
    pitches = [pitch_hz(own, voice.sample_rate)]
    for shifted in (up, down):
        samples, rate = read_wav(vb.render(text, shifted, "plain", tmp_path, narrator=voice))
        pitches.append(pitch_hz(samples, rate))
    assert pitches[1] > pitches[0] * 1.08 and pitches[2] < pitches[0] / 1.05, pitches


def test_a_missing_tool_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    need("sox")
    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "flite" else real(name))
    assert "flite" in vb.missing_tools()
    chosen = next(v for v in vb.voices(held_out=False) if v.family == "flite")
    vb._flite_voices.cache_clear()
    with pytest.raises(CompanionError) as err:
        vb.render("Hey Luma.", chosen, "plain", tmp_path)
    assert "flite" in err.value.message and "apt-get install flite" in err.value.message
    assert "\n" not in err.value.message
    with pytest.raises(ValueError, match="variant"):
        vb.render("Hey Luma.", chosen, "whisper", tmp_path)
