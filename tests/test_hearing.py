"""Hearing people who are not the narrator: the voice bank through the real input path.

Every request and answer of the bank's TEST set, in voices of three families that are not the
companion's own (espeak-ng, flite, the narrator's voice with its timbre shifted), each plain,
child-pitched, with fan noise and in a reverberant room, goes through the WAV input, the
segmenter and the real neural recognizer. By default one voice per family runs; `-m full`
runs every TEST voice.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from companion import voicebank
from companion.app import idle_grammar
from companion.config import Config
from companion.dialog.intents import classify
from companion.dialog.loop import addressed, strip_wake
from companion.storytelling.safety import WordSafety, answer_grammar, answer_heard
from tests.conftest import IN_CI, hear_file, need

pytestmark = pytest.mark.slow
CONFIG = Config()
REQUEST_FLOOR = 0.88
"""All families together, per variant (measured 0.90-0.99 on 2026-12-02)."""
FAMILY_FLOOR = 0.75
"""The worst family, per variant (espeak-ng's en-us+f2 in fan noise: 0.81)."""
ANSWER_FLOOR = 0.6
"""All families together, per variant (measured 0.67-0.72 on 2026-12-03, answer words weighed
in; the target is 0.9)."""


SCOPES = [
    pytest.param(False, id="one-voice-per-family"),
    pytest.param(True, id="every-voice", marks=pytest.mark.full),
]


def bank_voices(full: bool) -> list[voicebank.TestVoice]:
    chosen = list(voicebank.voices(held_out=False))
    if full:
        return chosen
    firsts: dict[str, voicebank.TestVoice] = {}
    for v in chosen:
        firsts.setdefault(v.family, v)
    return list(firsts.values())


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("espeak-ng", "flite", "sox"):
        need(tool)
    return tmp_path_factory.mktemp("voicebank")


@pytest.mark.parametrize("full", SCOPES)
@pytest.mark.parametrize("variant", voicebank.VARIANTS)
def test_requests_in_voices_not_its_own(
    whisper, voice, bank: Path, variant: str, full: bool
) -> None:
    scores: dict[tuple[str, str], list[bool]] = defaultdict(list)
    wrong = []
    for v in bank_voices(full):
        for text, intent in voicebank.REQUESTS.test:
            wav = voicebank.render(text, v, variant, bank, narrator=voice)
            heard = hear_file(wav, whisper, idle_grammar(CONFIG))
            said = heard.text if heard else ""
            request, woke = strip_wake(heard, CONFIG.speech.wake_phrase) if heard else (None, 0)
            good = bool(woke) and request is not None and classify(request).name == intent
            scores[v.family, variant].append(good)
            if not good:
                wrong.append((v.label, text, said))
    rates = {k: sum(s) / len(s) for k, s in scores.items()}
    overall = sum(sum(s) for s in scores.values()) / sum(len(s) for s in scores.values())
    print(
        f"\nrequests, {variant}: {overall:.0%}; "
        + ", ".join(f"{f} {r:.0%}" for (f, _), r in rates.items())
    )
    print("  misheard:", wrong)
    assert overall >= REQUEST_FLOOR, wrong
    assert min(rates.values()) >= FAMILY_FLOOR, wrong


@pytest.mark.parametrize("full", SCOPES)
@pytest.mark.parametrize("variant", voicebank.VARIANTS)
def test_answers_in_voices_not_its_own(
    whisper, voice, bank: Path, variant: str, full: bool
) -> None:
    safety = WordSafety.with_words(())
    scores: dict[str, list[bool]] = defaultdict(list)
    wrong = []
    for v in bank_voices(full):
        for text, kind, expected in voicebank.ANSWERS.test:
            wav = voicebank.render(text, v, variant, bank, narrator=voice)
            heard = hear_file(wav, whisper, answer_grammar(kind, CONFIG.family.names))
            answer = answer_heard(kind, heard, safety) if heard else None
            good = answer is not None and expected in answer.lower()
            scores[v.family].append(good)
            if not good:
                wrong.append((v.label, text, heard.text if heard else None, answer))
    rates = {k: sum(s) / len(s) for k, s in scores.items()}
    overall = sum(sum(s) for s in scores.values()) / sum(len(s) for s in scores.values())
    print(
        f"\nanswers, {variant}: {overall:.0%}; "
        + ", ".join(f"{f} {r:.0%}" for f, r in rates.items())
    )
    print("  misheard:", wrong)
    assert overall >= ANSWER_FLOOR, wrong


@pytest.mark.parametrize("full", SCOPES)
def test_talk_not_meant_for_it_does_not_wake_it(whisper, voice, bank: Path, full: bool) -> None:
    woke = []
    for v in bank_voices(full):
        for variant in ("plain", "child"):
            for text in voicebank.NOT_FOR_ME.test:
                wav = voicebank.render(text, v, variant, bank, narrator=voice)
                grammar = idle_grammar(CONFIG)
                heard = hear_file(wav, whisper, grammar)
                if heard is not None and addressed(heard, whisper, grammar)[1]:
                    woke.append((v.label, variant, text, heard.text))
    print("\nwoken by talk not meant for it:", woke)
    # "hey Luna" is a near-homophone of the name; everything else must stay asleep
    assert [w for w in woke if "Luna" not in w[2]] == [], woke


def test_ci_is_not_silently_skipping_the_bank() -> None:
    if IN_CI:
        assert not voicebank.missing_tools(), voicebank.missing_tools()
