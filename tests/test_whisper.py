"""The neural recognizer: voices not its own, no words from noise, decoding only what is new."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from companion import voicebank
from companion.app import idle_grammar
from companion.audio.resample import resample
from companion.audio.wav import read_wav
from companion.bench import fan_noise
from companion.config import Config
from companion.dialog.intents import classify
from companion.dialog.loop import strip_wake
from companion.messages import SAMPLE_RATE, Grammar
from companion.storytelling.safety import WordSafety, answer_grammar, answer_heard
from tests.conftest import hear_file, need


def espeak_wav(text: str, folder: Path, voice: str = "en-gb+f3", cents: int = 0) -> Path:
    """A sentence in an espeak-ng voice (not the narrator), optionally raised like a child's."""
    espeak, sox = need("espeak-ng"), need("sox")
    raw, out = folder / "raw.wav", folder / f"said-{abs(hash((text, voice, cents)))}.wav"
    subprocess.run([espeak, "-v", voice, "-w", str(raw), text], check=True)
    effects = ["pitch", str(cents), "tempo", "0.92"] if cents else []
    command = [sox, "-q", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out), "norm", "-3"]
    subprocess.run([*command, *effects, "pad", "0.4", "1.0"], check=True)
    return out


def pcm(path: Path) -> np.ndarray:
    samples, rate = read_wav(path)
    return (np.clip(resample(samples, rate, SAMPLE_RATE), -1, 1) * 32767).astype(np.int16)


@pytest.mark.parametrize("cents", [0, 400])
def test_a_child_pitched_request_in_another_voice_is_understood(
    whisper, tmp_path: Path, cents: int
) -> None:
    wav = espeak_wav("Hey Luma, um, can you tell me a story please?", tmp_path, cents=cents)
    heard = hear_file(wav, whisper, idle_grammar(Config()))
    assert heard is not None and heard.engine == "whisper"
    request, woke = strip_wake(heard, "hey luma")
    assert woke, heard.text
    assert classify(request).name == "story.start", heard.text


def test_an_answer_is_heard_with_the_prompt_of_its_kind(whisper, voice, tmp_path: Path) -> None:
    (child,) = [v for v in voicebank.voices(held_out=False) if v.label == "flite:kal16"]
    need("flite")
    wav = voicebank.render("Um, it was turquoise.", child, "child", tmp_path, voice)
    grammar = Grammar("answer-colour", ("red", "turquoise"), prompt="What colour was it?")
    heard = hear_file(wav, whisper, grammar)
    assert heard is not None and "turquoise" in heard.text.lower()


def test_an_answer_word_the_best_reading_missed_is_weighed_in_its_place(
    whisper, voice, tmp_path: Path
) -> None:
    # child-pitched espeak-ng: tiny.en's best reading is "The edge run."
    (child,) = [v for v in voicebank.voices(held_out=False) if v.label == "espeak-ng:en-us+f2"]
    need("espeak-ng")
    wav = voicebank.render("a hedgehog", child, "child", tmp_path, voice)
    safety = WordSafety.with_words(())
    grammar = answer_grammar("animal")
    bare = hear_file(wav, whisper, replace(grammar, terms=()))
    heard = hear_file(wav, whisper, grammar)
    assert bare is not None and heard is not None
    assert heard.text == bare.text, "the terms add readings, they do not change the best one"
    assert answer_heard("animal", heard, safety) == "hedgehog", (heard.text, heard.alternatives)


def test_words_that_are_no_answer_do_not_become_one(whisper, voice, tmp_path: Path) -> None:
    (child,) = [v for v in voicebank.voices(held_out=False) if v.label == "espeak-ng:en-us+f2"]
    need("espeak-ng")
    safety = WordSafety.with_words(())
    for text, kind in (("I don't know", "colour"), ("um, a spaceship", "animal")):
        wav = voicebank.render(text, child, "child", tmp_path, voice)
        heard = hear_file(wav, whisper, answer_grammar(kind))
        assert heard is not None
        assert answer_heard(kind, heard, safety) is None, (text, heard.text, heard.alternatives)


@pytest.mark.parametrize(
    "what",
    ["silence", "white noise", "fan", "a click"],
)
def test_noise_and_silence_never_become_words(whisper, what: str) -> None:
    seconds = 3.0
    n = int(seconds * SAMPLE_RATE)
    rng = np.random.default_rng(7)
    audio = {
        "silence": np.zeros(n),
        "white noise": rng.standard_normal(n) * 0.05,
        "fan": fan_noise(n, SAMPLE_RATE) * 0.1,
        "a click": np.concatenate([np.zeros(n // 2), [0.9, -0.9], np.zeros(n // 2)]),
    }[what]
    whisper.start(idle_grammar(Config()))
    whisper.feed((np.clip(audio, -1, 1) * 32767).astype(np.int16))
    assert whisper.finish().text == ""


def test_the_decode_at_the_first_pause_is_kept_when_no_more_speech_comes(
    whisper, tmp_path: Path
) -> None:
    audio = pcm(espeak_wav("Hey Luma, sleep tight.", tmp_path, cents=300))
    quiet = np.zeros(int(0.5 * SAMPLE_RATE), np.int16)
    whisper.start(idle_grammar(Config()))
    whisper.feed(audio)
    before = whisper.decodes
    guess = whisper.partial()
    whisper.feed(quiet)
    assert whisper.partial() == guess  # quiet adds nothing: no decode
    heard = whisper.finish()
    assert whisper.decodes == before + 1
    assert heard.text == guess and classify(strip_wake(heard, "hey luma")[0]).name == "goodnight"


class _Letters:
    """A tokenizer of whole words and single letters, enough to score a name by hand."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces
        self.eot = len(pieces)
        self.tokenizer = self

    def decode_batch(self, batch: list[list[int]]) -> list[str]:
        return ["".join(self.pieces[i] for i in ids) for ids in batch]


def _logits(pieces: list[str], likely: dict[str, float]) -> np.ndarray:
    row = np.full(len(pieces), -30.0)
    for piece, logp in likely.items():
        row[pieces.index(piece)] = logp
    return row


def test_a_name_is_scored_against_the_likeliest_other_word_not_its_own_spellings() -> None:
    from companion.speech.whisper_engine import _margin, _Vocabulary

    pieces = [" L", " Lu", " Lou", " mama", "uma", "una", "ma", ","]
    vocabulary = _Vocabulary(_Letters(pieces))
    spelled = [pieces.index(" L"), pieces.index("uma")]
    # " Lu" + "ma" is the name spelled otherwise, and "," is not a word: only " Lou" competes
    first = _logits(pieces, {" L": -0.5, " Lu": -0.2, " Lou": -1.5, ",": -0.1})
    clear = _logits(pieces, {"uma": -0.1, "una": -3.0})
    margin = _margin(np.stack([first, clear]), spelled, vocabulary)
    assert margin > 0
    unclear = _logits(pieces, {"uma": -2.5, "una": -0.2})
    assert _margin(np.stack([first, unclear]), spelled, vocabulary) < 0 < margin
    other_word = _logits(pieces, {" L": -3.0, " Lou": -0.1})
    assert _margin(np.stack([other_word, clear]), spelled, vocabulary) < 0
