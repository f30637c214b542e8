"""PocketSphinx with its bundled US-English model: a small per-turn model plus an open one."""

from __future__ import annotations

import hashlib
import itertools
import logging
import mmap
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Final

import numpy as np
from pocketsphinx import Decoder, get_model_path

from companion.messages import Grammar, Transcript
from companion.speech.grammar import arpa_bigram, pronounce, whole_phrase, words
from companion.speech.stt import combine

logger = logging.getLogger(__name__)

MAX_WAKE_GAP_S: Final = 0.5
"""Longest pause between the words of the wake phrase. The restricted model knows no other
words, so speech it cannot match becomes silence: far-off talk then reads as "hey ... luma" with
the words in between hidden as a pause. A child says the wake phrase in one breath."""


class Lexicon:
    """Pronunciations looked up in the model's sorted dictionary file, without loading it.

    A binary search over the mapped file: no 30 MB Python copy, no start-up cost.
    """

    def __init__(self, path: Path) -> None:
        with path.open("rb") as handle:
            self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)

    def _line_at(self, offset: int) -> tuple[bytes, int]:
        """The first whole line starting at or after `offset`, and where the next one starts."""
        data = self._data
        if offset > 0 and data[offset - 1 : offset] != b"\n":
            offset = data.find(b"\n", offset) + 1
            if offset == 0:
                return b"", len(data)
        end = data.find(b"\n", offset)
        end = len(data) if end < 0 else end
        return data[offset:end], end + 1

    def lookup(self, word: str) -> str | None:
        """The first pronunciation of `word` (e.g. "Y EH S"), or None."""
        key = word.encode("utf-8")
        low, high = 0, len(self._data)
        while low < high:  # find the first line whose word (without "(2)") is >= key
            middle = (low + high) // 2
            line, _ = self._line_at(middle)
            head = line.split(b" ", 1)[0].split(b"(", 1)[0]
            if line and head < key:
                low = middle + 1
            else:
                high = middle
        line, _ = self._line_at(low)
        head, _, phones = line.partition(b" ")
        if head != key:
            return None
        return phones.decode("utf-8").strip() or None


class PocketsphinxEngine:
    """Two decoders fed the same audio: one restricted to the turn's phrases, one open.

    The restricted one is fast and accurate for what the companion expects; the open one
    catches answers outside it. Each turn's phrases become a small bigram model, so
    paraphrases made of the same words still decode.
    """

    name = "pocketsphinx"

    def __init__(self) -> None:
        self._workdir = Path(tempfile.mkdtemp(prefix="companion-sphinx-"))
        seed = self._workdir / "seed.dict"
        seed.write_text("yes Y EH S\nno N OW\n", encoding="utf-8")
        self._restricted = Decoder(
            samprate=16000, lm=None, dict=str(seed), loglevel="FATAL", fwdflat=False
        )
        self._lexicon = Lexicon(Path(get_model_path()) / "en-us" / "cmudict-en-us.dict")
        self._open: Decoder | None = None  # ~0.3 s and ~90 MB: see preload()
        self._open_lock = threading.Lock()
        self._known: set[str] = {"yes", "no"}
        self._searches: dict[str, str] = {}
        self._grammar = Grammar("idle")
        self._use_open = False
        self._open_pending = False
        self._flip = False
        self._restricted_open = False

    def _open_decoder(self) -> Decoder:
        with self._open_lock:
            if self._open is None:
                self._open = Decoder(samprate=16000, loglevel="FATAL")
            return self._open

    def preload(self) -> threading.Thread:
        """Load the open model on a thread; a turn that needs it first waits for it."""
        thread = threading.Thread(target=self._open_decoder, name="open-model", daemon=True)
        thread.start()
        return thread

    def prepare(self, grammar: Grammar) -> None:
        """Compile a grammar ahead of time (start() also does it on first use)."""
        self._search_for(grammar)

    def _search_for(self, grammar: Grammar) -> str | None:
        if not grammar.phrases:
            return None
        key = hashlib.sha1("\n".join(grammar.phrases).encode()).hexdigest()[:12]
        if key in self._searches:
            return self._searches[key]
        search = key
        if grammar.transient:
            # replace the older of two slots (never the active search), so they do not pile up
            self._flip = not self._flip
            search = f"{grammar.name}-{int(self._flip)}"
        usable = []
        for phrase in grammar.phrases:
            if all(self._ensure_word(w) for w in words(phrase)) and words(phrase):
                usable.append(phrase)
        if not usable:
            logger.warning("grammar %s: no phrase can be pronounced", grammar.name)
            return None
        arpa = self._workdir / f"{search}.arpa"
        arpa.write_text(arpa_bigram(usable), encoding="utf-8")
        self._restricted.add_lm_file(search, str(arpa))
        if grammar.transient:
            self._searches = {k: v for k, v in self._searches.items() if v != search}
        self._searches[key] = search
        return search

    def _ensure_word(self, word: str) -> bool:
        if word in self._known:
            return True
        phones = self._lexicon.lookup(word) or pronounce(word)
        if not phones:
            logger.warning("no pronunciation for %r; it is left out of the grammar", word)
            return False
        # no rebuild per word: the search that needs it is built after its words are in
        self._restricted.add_word(word, phones, False)
        self._known.add(word)
        return True

    def start(self, grammar: Grammar) -> None:
        search = self._search_for(grammar)
        self._grammar = grammar
        self._use_restricted = search is not None
        self._use_open = grammar.open or search is None
        if self._use_restricted:
            if self._restricted_open:  # an utterance left unfinished (e.g. input ended)
                self._restricted.end_utt()
            self._restricted.activate_search(search)
            self._restricted.start_utt()
            self._restricted_open = True
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
            self._restricted_open = False
            hyp = self._restricted.hyp()
            restricted = _clean(hyp.hypstr if hyp else "")
            if self._wake_spread_out():
                logger.debug("%r: the wake phrase was spread over other speech", restricted)
                restricted = " ".join(words(restricted)[len(words(self._grammar.prefix)) :])
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
            if restricted and not opened and self._starts_with_wake(restricted):
                # the open model heard no words at all: the wake phrase was forced on noise
                logger.debug("%r: the open model heard no words", restricted)
                restricted = " ".join(words(restricted)[len(words(self._grammar.prefix)) :])
            elif opened and self._starts_with_wake(restricted):
                opened = self._after_wake(decoder, opened)
        return combine(
            restricted,
            opened,
            self._use_restricted,
            self._use_open,
            self.name,
            self._grammar.prefix,
            self._grammar.phrases,
        )

    def _wake_spread_out(self) -> bool:
        """Whether the restricted decoder's leading wake phrase has a long gap inside it."""
        lead = words(self._grammar.prefix)
        if len(lead) < 2:
            return False
        said = [
            (_clean(seg.word), seg.start_frame, seg.end_frame) for seg in _spoken(self._restricted)
        ][: len(lead)]
        if [word for word, _, _ in said] != lead:
            return False
        frame_s = 1.0 / float(self._restricted.config["frate"])
        gaps = (b[1] - a[2] - 1 for a, b in itertools.pairwise(said))
        return max(gaps) * frame_s > MAX_WAKE_GAP_S

    def _after_wake(self, decoder: Decoder, opened: str) -> str:
        """The open model's words after the wake phrase the restricted one heard.

        Noise turns "hey luma" into other words in the open model ("they loma"); counted as
        words of the request they would outvote a request both models heard.
        """
        lead = len(words(self._grammar.prefix))
        said = _spoken(self._restricted)
        if len(said) < lead:
            return opened
        wake_end = said[lead - 1].end_frame
        kept = [s.word for s in _spoken(decoder) if (s.start_frame + s.end_frame) / 2 > wake_end]
        return _clean(" ".join(kept))

    def _starts_with_wake(self, text: str) -> bool:
        lead = words(self._grammar.prefix)
        return bool(lead) and words(text)[: len(lead)] == lead

    def close(self) -> None:
        shutil.rmtree(self._workdir, ignore_errors=True)


def _spoken(decoder: Decoder) -> list:  # type: ignore[type-arg]
    """The decoder's word segments, without silences and fillers (seg() may give None)."""
    return [s for s in decoder.seg() or () if not s.word.startswith(("<", "["))]


def _clean(text: str) -> str:
    # pocketsphinx marks alternate pronunciations as word(2)
    return " ".join(w.split("(")[0] for w in text.split() if not w.startswith("<"))
