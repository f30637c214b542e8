"""Turning a turn's expected phrases into a small language model and pronunciations."""

from __future__ import annotations

import functools
import itertools
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Final

logger = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z][a-z']*")
_DISCOUNT: Final = 0.3
_UNIGRAM_FLOOR: Final = 0.1


def words(text: str) -> list[str]:
    """Lower-case words of a phrase, as the recognizers spell them."""
    return _WORD.findall(text.lower().replace("’", "'"))


def arpa_bigram(phrases: Iterable[str]) -> str:
    """A bigram ARPA model in which the phrases, their parts and re-orderings are likely.

    Absolute discounting with back-off to a smoothed unigram, so a child's paraphrase built
    from the same words still decodes, while whole expected phrases win.
    """
    sentences = [["<s>", *words(p), "</s>"] for p in phrases if words(p)]
    if not sentences:
        raise ValueError("a grammar needs at least one phrase with words")
    unigrams: Counter[str] = Counter()
    bigrams: dict[str, Counter[str]] = defaultdict(Counter)
    for s in sentences:
        unigrams.update(s[1:])
        for a, b in itertools.pairwise(s):
            bigrams[a][b] += 1
    # Ending a sentence is only likely where a phrase ends: the back-off keeps </s> rare, so
    # "the" alone never beats "the moon".
    unigrams["</s>"] = 0
    vocab = sorted(unigrams)
    total = sum(unigrams.values()) + _UNIGRAM_FLOOR * len(vocab)
    p_uni = {w: (unigrams[w] + _UNIGRAM_FLOOR) / total for w in vocab}

    backoff: dict[str, float] = {}
    lines_2: list[str] = []
    for history, followers in sorted(bigrams.items()):
        n = sum(followers.values())
        left = _DISCOUNT * len(followers) / n
        seen_mass = sum(p_uni[w] for w in followers)
        backoff[history] = left / max(1e-9, 1.0 - seen_mass)
        for w, c in sorted(followers.items()):
            lines_2.append(f"{math.log10((c - _DISCOUNT) / n):.4f} {history} {w}")

    lines_1 = ["-99.0000 <s> " + f"{math.log10(backoff.get('<s>', 1.0)):.4f}"]
    for w in vocab:
        bow = f" {math.log10(backoff[w]):.4f}" if w in backoff else ""
        lines_1.append(f"{math.log10(p_uni[w]):.4f} {w}{bow}")
    return "\n".join(
        [
            "\\data\\",
            f"ngram 1={len(lines_1)}",
            f"ngram 2={len(lines_2)}",
            "",
            "\\1-grams:",
            *lines_1,
            "",
            "\\2-grams:",
            *lines_2,
            "",
            "\\end\\",
            "",
        ]
    )


# espeak-ng IPA (as piper produces it) to the ARPAbet phones of the CMU dictionary.
_IPA: Final = {
    "aɪ": "AY",
    "aʊ": "AW",
    "eɪ": "EY",
    "oʊ": "OW",
    "ɔɪ": "OY",
    "tʃ": "CH",
    "dʒ": "JH",
    "iː": "IY",
    "uː": "UW",
    "ɑː": "AA",
    "ɔː": "AO",
    "ɜː": "ER",
    "oː": "OW",
    "ɪɹ": "IH R",
    "ɛɹ": "EH R",
    "ʊɹ": "UH R",
    "ɑːɹ": "AA R",
    "ɔːɹ": "AO R",
    "n̩": "AH N",
    "l̩": "AH L",
    "i": "IY",
    "ɪ": "IH",
    "ᵻ": "IH",
    "ɛ": "EH",
    "e": "EH",
    "æ": "AE",
    "a": "AA",
    "ɑ": "AA",
    "ɒ": "AA",
    "ɔ": "AO",
    "o": "OW",
    "ʊ": "UH",
    "u": "UW",
    "ʌ": "AH",
    "ə": "AH",
    "ɐ": "AH",
    "ɚ": "ER",
    "ɝ": "ER",
    "p": "P",
    "b": "B",
    "t": "T",
    "d": "D",
    "k": "K",
    "g": "G",
    "ɡ": "G",
    "f": "F",
    "v": "V",
    "θ": "TH",
    "ð": "DH",
    "s": "S",
    "z": "Z",
    "ʃ": "SH",
    "ʒ": "ZH",
    "h": "HH",
    "m": "M",
    "n": "N",
    "ŋ": "NG",
    "l": "L",
    "ɫ": "L",
    "r": "R",
    "ɹ": "R",
    "w": "W",
    "j": "Y",
    "ɾ": "D",
    "x": "HH",
    "ç": "HH",
}
_SKIP: Final = set("ˈˌː'ʔ-_ ̃")


@functools.lru_cache(maxsize=1024)
def pronounce(word: str) -> str | None:
    """ARPAbet phones for a word no dictionary knows, via piper's bundled espeak-ng."""
    try:
        from piper import voice as piper_voice
        from piper.phonemize_espeak import ESPEAK_DATA_DIR, EspeakPhonemizer
    except ImportError:
        return None
    try:
        # espeak is one global C state: share piper's instance and lock (initializing it again
        # costs ~7 MB each time, and a reply may be phonemizing on another thread)
        with piper_voice._ESPEAK_PHONEMIZER_LOCK:
            if piper_voice._ESPEAK_PHONEMIZER is None:
                piper_voice._ESPEAK_PHONEMIZER = EspeakPhonemizer(ESPEAK_DATA_DIR)
            sentences = piper_voice._ESPEAK_PHONEMIZER.phonemize("en-us", word)
    except Exception as err:  # espeak is a C library: any failure means "no pronunciation"
        logger.debug("no pronunciation for %r: %s", word, err)
        return None
    ipa = "".join("".join(s) for s in sentences)
    phones: list[str] = []
    i = 0
    while i < len(ipa):
        for size in (3, 2, 1):
            piece = ipa[i : i + size]
            if piece in _IPA:
                phones.append(_IPA[piece])
                i += size
                break
        else:
            if ipa[i] not in _SKIP:
                logger.debug("no ARPAbet for %r in %r", ipa[i], word)
            i += 1
    return " ".join(phones) or None


@functools.lru_cache(maxsize=64)
def phrase_set(phrases: tuple[str, ...]) -> frozenset[str]:
    """The phrases as the recognizers spell them, for whole-phrase checks."""
    return frozenset(" ".join(words(p)) for p in phrases)


def whole_phrase(text: str, phrases: tuple[str, ...], prefix: str = "") -> bool:
    """Whether `text` is one expected phrase, whole, with or without the prefix before it.

    The prefix alone (the wake phrase) is not a whole phrase: more is coming.
    """
    said, lead = words(text), words(prefix)
    rest = said[len(lead) :] if lead and said[: len(lead)] == lead else said
    expected = phrase_set(phrases)
    return bool(rest) and (" ".join(said) in expected or " ".join(rest) in expected)
