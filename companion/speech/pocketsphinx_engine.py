"""PocketSphinx with its bundled US-English model: a small per-turn model plus an open one."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np

from companion.messages import Grammar, Transcript
from companion.speech.grammar import arpa_bigram, pronounce, whole_phrase, words

logger = logging.getLogger(__name__)


def _dictionary() -> dict[str, str]:
    from pocketsphinx import get_model_path

    entries: dict[str, str] = {}
    path = Path(get_model_path()) / "en-us" / "cmudict-en-us.dict"
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            word, _, phones = line.partition(" ")
            entries.setdefault(word, phones.strip())
    return entries


class PocketsphinxEngine:
    """Two decoders fed the same audio: one restricted to the turn's phrases, one open.

    The restricted one is fast and accurate for what the companion expects; the open one
    catches answers outside it. Each turn's phrases become a small bigram model, so
    paraphrases made of the same words still decode.
    """

    name = "pocketsphinx"

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self._workdir = Path(tempfile.mkdtemp(prefix="companion-sphinx-"))
        self._cmudict = _dictionary()
        seed = self._workdir / "seed.dict"
        seed.write_text("yes Y EH S\nno N OW\n", encoding="utf-8")
        self._restricted = Decoder(
            samprate=16000, lm=None, dict=str(seed), loglevel="FATAL", fwdflat=False
        )
        self._open = None  # loaded on first open turn: it costs ~0.5 s and ~40 MB
        self._known: set[str] = {"yes", "no"}
        self._searches: dict[str, str] = {}
        self._grammar = Grammar("idle")
        self._use_open = False
        self._open_pending = False

    def _open_decoder(self):
        if self._open is None:
            from pocketsphinx import Decoder

            self._open = Decoder(samprate=16000, loglevel="FATAL")
        return self._open

    def prepare(self, grammar: Grammar) -> None:
        """Compile a grammar ahead of time (start() also does it on first use)."""
        self._search_for(grammar)
        if grammar.open or not grammar.phrases:
            self._open_decoder()

    def _search_for(self, grammar: Grammar) -> str | None:
        if not grammar.phrases:
            return None
        key = hashlib.sha1("\n".join(grammar.phrases).encode()).hexdigest()[:12]
        if key in self._searches:
            return self._searches[key]
        usable = []
        for phrase in grammar.phrases:
            if all(self._ensure_word(w) for w in words(phrase)) and words(phrase):
                usable.append(phrase)
        if not usable:
            logger.warning("grammar %s: no phrase can be pronounced", grammar.name)
            return None
        arpa = self._workdir / f"{key}.arpa"
        arpa.write_text(arpa_bigram(usable), encoding="utf-8")
        self._restricted.add_lm_file(key, str(arpa))
        self._searches[key] = key
        return key

    def _ensure_word(self, word: str) -> bool:
        if word in self._known:
            return True
        phones = self._cmudict.get(word) or pronounce(word)
        if not phones:
            logger.warning("no pronunciation for %r; it is left out of the grammar", word)
            return False
        self._restricted.add_word(word, phones, True)
        self._known.add(word)
        return True

    def start(self, grammar: Grammar) -> None:
        search = self._search_for(grammar)
        self._grammar = grammar
        self._use_restricted = search is not None
        self._use_open = grammar.open or search is None
        if self._use_restricted:
            self._restricted.activate_search(search)
            self._restricted.start_utt()
        if self._use_open:
            decoder = self._open_decoder()
            if self._open_pending:
                decoder.end_utt()
                self._open_pending = False
            decoder.start_utt()

    def feed(self, samples: np.ndarray) -> None:
        data = np.asarray(samples, dtype="<i2").tobytes()
        if self._use_restricted:
            self._restricted.process_raw(data, False, False)
        if self._use_open:
            self._open_decoder().process_raw(data, False, False)

    def partial(self) -> str:
        decoder = self._restricted if self._use_restricted else self._open_decoder()
        hyp = decoder.hyp()
        return hyp.hypstr if hyp else ""

    def finish(self) -> Transcript:
        restricted = opened = ""
        if self._use_restricted:
            self._restricted.end_utt()
            hyp = self._restricted.hyp()
            restricted = _clean(hyp.hypstr if hyp else "")
        if self._use_open:
            decoder = self._open_decoder()
            if self._use_restricted and whole_phrase(
                restricted, self._grammar.phrases, self._grammar.prefix
            ):
                # the expected phrase was said: the open model's first pass is enough to
                # confirm it, and its slower final pass can wait for the next utterance
                hyp = decoder.hyp()
                self._open_pending = True
            else:
                decoder.end_utt()
                hyp = decoder.hyp()
            opened = _clean(hyp.hypstr if hyp else "")
        return combine(
            restricted,
            opened,
            self._use_restricted,
            self._use_open,
            self.name,
            self._grammar.prefix,
            self._grammar.phrases,
        )

    def close(self) -> None:
        shutil.rmtree(self._workdir, ignore_errors=True)


def _clean(text: str) -> str:
    # pocketsphinx marks alternate pronunciations as word(2)
    return " ".join(w.split("(")[0] for w in text.split() if not w.startswith("<"))


def combine(
    restricted: str,
    opened: str,
    used_restricted: bool,
    used_open: bool,
    engine: str,
    prefix: str = "",
    phrases: tuple[str, ...] = (),
) -> Transcript:
    """Pick between the restricted and the open hypothesis, with a confidence.

    When both ran, agreement means the expected phrase was really said; when the open one
    heard mostly other words, its text wins and the restricted guess is only an alternative.
    """
    if not used_open:
        return Transcript(restricted, 0.8 if restricted else 0.0, engine)
    if not used_restricted:
        return Transcript(opened, 0.6 if opened else 0.0, engine)
    lead = words(prefix)
    r_words = words(restricted)
    has_prefix = bool(lead) and r_words[: len(lead)] == lead
    body = r_words[len(lead) :] if has_prefix else r_words
    o_words = set(words(opened)) - set(lead)
    if not body:
        return Transcript(
            restricted, 0.7 if restricted else 0.0, engine, (opened,) if opened else ()
        )
    agreement = sum(w in o_words for w in body) / len(body)
    if agreement >= 0.5 or not o_words:
        return Transcript(restricted, 0.5 + 0.5 * agreement, engine, (opened,) if opened else ())
    if whole_phrase(" ".join(body), phrases) and len(o_words) <= len(body) + 1:
        # a whole expected phrase, briefly said: the open model is the less reliable here
        return Transcript(restricted, 0.45, engine, (opened,))
    text = f"{prefix} {opened}" if has_prefix else opened
    return Transcript(text, 0.4, engine, (restricted,))
