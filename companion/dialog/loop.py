"""The listening state machine: idle → listening → understanding → replying → back."""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Final, Protocol

import numpy as np

from companion.audio.segmenter import PREROLL_S, Event, Segmenter
from companion.dialog.intents import classify
from companion.messages import AudioChunk, Grammar, Intent, Reply, Transcript
from companion.speech.grammar import whole_phrase, words
from companion.speech.stt import SpeechToText

logger = logging.getLogger(__name__)

ECHO_GUARD_S: Final = 0.3
EARLY_TRAILING_S: Final = 0.24
"""Trailing silence once what was said is already a whole expected phrase (Kaldi's rule)."""
CLEAR_TRAILING_S: Final = 0.45
"""Trailing silence when what was said already asks clearly for one thing."""
"""After speaking on a real speaker, this much more input is ignored (the room's echo)."""


NAME_MARGIN: Final = 0.0
"""A wake name heard is kept where the model reads it better than any other word there (its
log-probability margin over the likeliest other word, primed with the names a child calls)."""
NAME_MARGIN_WITH_REQUEST: Final = -3.0
"""Followed by a request the classifier understands, a wake name is kept down to this margin:
in a reverberant room, most real "hey Luma"s in espeak-ng's en-us voice scored between -3.7
and +0.6, while "hey mama" lies near -10 in every voice of the bank."""
FILLERS: Final = frozenset({"um", "uh", "er", "erm", "hm", "hmm", "oh", "so", "ok", "okay"})
"""Said before the wake phrase without meaning anything ("um, hey Luma")."""


class State(Enum):
    IDLE = "idle"
    LISTENING = "listening"
    UNDERSTANDING = "understanding"
    REPLYING = "replying"


class Brain(Protocol):
    """What the companion does with what it understood."""

    def wake(self) -> Reply: ...

    def respond(self, intent: Intent, transcript: Transcript) -> Reply: ...

    def silence(self) -> Reply | None: ...


@dataclass(slots=True)
class Turn:
    """One exchange, for logs, tests and benchmarks."""

    transcript: Transcript
    intent: Intent
    reply: Reply
    trailing_s: float
    """Audio between the last voiced frame and the end of the utterance."""
    lag_s: float = 0.0
    """How much later than `trailing_s` the end was noticed in real time: the computing done
    on the way (a decode at the first pause), replayed as if the audio came from a microphone."""
    at_s: float = 0.0
    """Where the utterance ended in the input, in seconds of audio."""
    compute_s: float = 0.0
    """Wall time from the end of the utterance to the first reply sample."""

    @property
    def latency_s(self) -> float:
        return self.trailing_s + self.lag_s + self.compute_s


class ListeningLoop:
    """Feeds audio through VAD, endpointing and recognition; hands intents to the brain."""

    def __init__(
        self,
        stt: SpeechToText,
        is_speech: Callable[[np.ndarray], bool],
        segmenter: Segmenter,
        brain: Brain,
        speak: Callable[[Reply], float],
        idle_grammar: Grammar,
        silence_timeout_s: float,
        half_duplex: bool = False,
    ) -> None:
        self.stt = stt
        self.is_speech = is_speech
        self.segmenter = segmenter
        self.brain = brain
        self.speak = speak
        self.idle_grammar = idle_grammar
        self.silence_timeout_s = silence_timeout_s
        self.half_duplex = half_duplex
        self.state = State.IDLE
        self.grammar = idle_grammar
        self.turns: list[Turn] = []
        self.transitions: list[tuple[float, str, str]] = []
        self.first_audio_at: float | None = None
        self._preroll: deque[np.ndarray] = deque(maxlen=max(1, round(PREROLL_S / 0.03)))
        self._in_utterance = False
        self._deaf_until = 0.0
        self._now = 0.0
        self._started_s = self._speech_s = 0.0
        """When the utterance being heard began; how long the last one was (seconds of audio)."""
        self._last_voiced = 0.0
        self._noticed_s = 0.0
        self._chunk_wall = 0.0
        self._lag_s = 0.0
        self._finished = False
        self._complete: bool | None = None
        self._clear = False
        self.on_audio: Callable[[], None] | None = None
        """Called for every chunk received (feeds the service watchdog)."""
        self.interrupted: Callable[[], Transcript | None] | None = None
        """After speaking: what stopped the reply midway, if anything did."""
        self.on_heard: Callable[[Transcript, Intent], None] | None = None
        """Called with each request or answer understood, before the reply."""

    def _to(self, state: State, why: str) -> None:
        if state is not self.state:
            logger.debug("%.2fs %s → %s (%s)", self._now, self.state.value, state.value, why)
            self.transitions.append((round(self._now, 3), state.value, why))
            self.state = state

    def _trailing_for(self, speech: bool) -> float | None:
        """The short trailing silence when the utterance so far is a complete expected phrase."""
        if speech or not self._in_utterance or not self.grammar.phrases:
            self._complete = None
            return None
        if self.segmenter.silence_run_s + 0.03 < EARLY_TRAILING_S:
            return None
        if not self._complete:  # the decoder may lag a frame or two: look again
            partial = self.stt.partial()
            self._complete = is_complete(partial, self.grammar)
            self._clear = not self._complete and _clear_command(partial, self.grammar)
            if self._clear and getattr(self.stt, "partial_is_final", False):
                # a whole decode that clearly asks for one thing: no more words are coming
                self._complete = True
        if self._complete:
            return EARLY_TRAILING_S
        return CLEAR_TRAILING_S if self._clear else None

    def _tick(self) -> Reply | None:
        tick = getattr(self.brain, "tick", None)
        return tick() if tick is not None else None

    def finish(self) -> None:
        """Stop after the current step (e.g. on goodnight with a WAV input, or a signal)."""
        self._finished = True

    def run(self, chunks: Iterable[AudioChunk], drain: bool = False) -> None:
        """Listen until the input ends; `drain`: then let what is under way finish in silence."""
        for chunk in chunks:
            self.step(chunk)
            if self._finished:
                return
        if self._in_utterance:
            self._understand()
        for _ in range(500 if drain else 0):
            if self.state is State.LISTENING:
                self._timeout()
                continue
            due = self._tick()
            if due is None:
                return
            self._reply(
                due, Transcript("", 1.0, "routine"), Intent("none", 1.0), 0.0, time.perf_counter()
            )

    def step(self, chunk: AudioChunk) -> None:
        self._chunk_wall = time.perf_counter()
        self._now = chunk.start_s + chunk.duration_s
        if self.on_audio is not None:
            self.on_audio()
        if self._now <= self._deaf_until:
            return
        speech = self.is_speech(chunk.samples)
        if speech:
            self._last_voiced = self._now
            self._noticed_s = 0.0
        self._process(chunk, speech)
        if self._in_utterance and not speech:
            # in real time this chunk arrives `behind` s after the last voiced one, and is
            # dealt with once the ones before it are
            behind = self._now - self._last_voiced
            self._noticed_s = max(self._noticed_s, behind) + time.perf_counter() - self._chunk_wall

    def _process(self, chunk: AudioChunk, speech: bool) -> None:
        if not self._in_utterance:
            self._preroll.append(chunk.samples)
            if self.state is State.IDLE and not speech:
                due = self._tick()
                if due is not None:
                    empty = Transcript("", 1.0, "routine")
                    self._reply(due, empty, Intent("none", 1.0), 0.0, time.perf_counter())
                    return
        event = self.segmenter.process(speech, chunk.duration_s, self._trailing_for(speech))
        if event is Event.STARTED:
            self._in_utterance = True
            self._started_s = self._now - len(self._preroll) * chunk.duration_s
            self.stt.start(self.grammar)
            for samples in self._preroll:
                self.stt.feed(samples)
            self._preroll.clear()
            if self.state is State.IDLE:
                logger.debug("%.2fs speech while idle", self._now)
        elif self._in_utterance:
            self.stt.feed(chunk.samples)
        if event in (Event.ENDED, Event.TOO_LONG):
            if event is Event.TOO_LONG:
                logger.info("utterance cut at %.0f s", self.segmenter.max_s)
            self._understand()
        elif event is Event.TIMEOUT:
            self._timeout()

    def _understand(self) -> None:
        ended_wall = time.perf_counter()
        trailing = max(0.0, self._now - self._last_voiced)
        noticed = max(self._noticed_s, trailing) + ended_wall - self._chunk_wall
        self._lag_s = max(0.0, noticed - trailing)
        self._in_utterance = False
        was_idle = self.state is State.IDLE
        self._to(State.UNDERSTANDING, "end of utterance")
        transcript = self.stt.finish()
        # a child's words stay out of the service journal unless debugging
        logger.debug(
            "heard %r (%.2f, %s)", transcript.text, transcript.confidence, transcript.engine
        )
        self._speech_s = max(0.0, self._now - trailing - self._started_s)
        if not transcript.text:
            logger.info("heard %.1f s of speech, no words", self._speech_s)
        if was_idle:
            transcript, woke = addressed(transcript, self.stt, self.idle_grammar)
            if not woke:
                if transcript.text:  # what it was stays out of the journal: only that it was
                    logger.info("heard %.1f s of speech, no wake phrase", self._speech_s)
                self._to(State.IDLE, "no wake phrase")
                self._listen(self.idle_grammar, None)
                return
            if not transcript.text:
                self._reply(
                    self.brain.wake(), transcript, Intent("none", 0.0), trailing, ended_wall
                )
                return
        self._understood(transcript, trailing, ended_wall)

    def _understood(self, transcript: Transcript, trailing: float, since: float) -> None:
        intent = classify(transcript)
        logger.info(
            "heard %.1f s of speech: intent %s (%.2f)",
            self._speech_s,
            intent.name,
            intent.confidence,
        )
        if self.on_heard is not None:
            self.on_heard(transcript, intent)
        self._reply(self.brain.respond(intent, transcript), transcript, intent, trailing, since)

    def _reply(
        self, reply: Reply, transcript: Transcript, intent: Intent, trailing: float, since: float
    ) -> None:
        self._to(State.REPLYING, intent.name)
        turn = Turn(transcript, intent, reply, trailing, self._lag_s, self._now)
        self._lag_s = 0.0
        self.turns.append(turn)
        self.first_audio_at = None
        seconds = self.speak(reply)
        if self.first_audio_at is not None:
            turn.compute_s = self.first_audio_at - since
        heard = self.interrupted() if self.interrupted is not None else None
        if heard is not None:
            self._understood(heard, 0.0, time.perf_counter())
            return
        if self.half_duplex:
            self._deaf_until = self._now + seconds + ECHO_GUARD_S
        if reply.expect is not None:
            self._to(State.LISTENING, "waiting for an answer")
            self._listen(reply.expect, self.silence_timeout_s)
        else:
            self._to(State.IDLE, "done")
            self._listen(self.idle_grammar, None)

    def _listen(self, grammar: Grammar, timeout: float | None) -> None:
        self.grammar = grammar
        self.segmenter.reset(timeout)
        self._preroll.clear()

    def _timeout(self) -> None:
        reply = self.brain.silence()
        if reply is None:
            self._to(State.IDLE, "nobody answered")
            self._listen(self.idle_grammar, None)
            return
        empty = Transcript("", 0.0, "silence")
        self._reply(reply, empty, Intent("none", 0.0), 0.0, time.perf_counter())

    def command(self, transcript: Transcript) -> None:
        """Act on a request that did not come through the microphone (the home link) as if it
        had just been heard: on the loop's thread, between chunks. It comes first: an utterance
        under way is dropped."""
        if self._in_utterance:
            self.stt.finish()
            self._in_utterance = False
        self._understood(transcript, 0.0, time.perf_counter())

    def begin(self, reply: Reply) -> None:
        """Start by speaking (a story told on request), then listen as the reply asks."""
        self._reply(
            reply, Transcript("", 1.0, "start"), Intent("none", 1.0), 0.0, time.perf_counter()
        )

    def mark_first_audio(self) -> None:
        """Called by the speaker when the first sample of a reply leaves for the output."""
        if self.first_audio_at is None:
            self.first_audio_at = time.perf_counter()


def is_complete(text: str, grammar: Grammar) -> bool:
    """Whether `text` is one of the grammar's phrases, whole (the wake phrase alone is not)."""
    return whole_phrase(text, grammar.phrases, grammar.prefix)


def _clear_command(text: str, grammar: Grammar) -> bool:
    said, _ = strip_wake(Transcript(text, 1.0, "partial"), grammar.prefix)
    return bool(said.text) and classify(said).confidence >= 0.75


def first_utterance(
    chunks: Iterable[AudioChunk],
    is_speech: Callable[[np.ndarray], bool],
    segmenter: Segmenter,
    stt: SpeechToText,
    grammar: Grammar,
) -> Transcript | None:
    """Recognize the first utterance in a stream (None: no speech at all)."""
    preroll: deque[np.ndarray] = deque(maxlen=max(1, round(PREROLL_S / 0.03)))
    started = False
    for chunk in chunks:
        event = segmenter.process(is_speech(chunk.samples), chunk.duration_s)
        if event is Event.STARTED:
            started = True
            stt.start(grammar)
            for samples in preroll:
                stt.feed(samples)
        if started:
            stt.feed(chunk.samples)
            if event in (Event.ENDED, Event.TOO_LONG):
                break
        else:
            preroll.append(chunk.samples)
    return stt.finish() if started else None


def addressed(
    transcript: Transcript, stt: SpeechToText, grammar: Grammar
) -> tuple[Transcript, bool]:
    """What was said to the companion after its wake phrase, and whether it was said to it.

    A neural model primed with the wake name also hears "hey mama, where's my blanket" as the
    wake phrase. So the name must be the recognizer's best reading of its place (a little
    less will do when a request it understands follows). When no request follows it, the
    utterance is also decoded again with the other names a child calls (the grammar's
    contrast): if that hears one of them, or no words at all (a breath the prompt turned
    into "hey Luma"), it was not said to the companion.
    """
    request, woke = strip_wake(transcript, grammar.prefix)
    if not woke:
        return request, False
    understood = bool(request.text) and classify(request).name != "none"
    margin = _name_margin(transcript, stt, grammar)
    enough = NAME_MARGIN_WITH_REQUEST if understood else NAME_MARGIN
    if margin is not None and margin < enough:
        logger.debug("the wake name reads better as another word (%.2f)", margin)
        return transcript, False
    if understood:
        return request, True
    recheck = getattr(stt, "recheck", None)
    if not grammar.contrast or recheck is None:
        return request, woke
    again = recheck(grammar.contrast)
    if not again.text:
        logger.debug("the wake phrase was heard only when primed with it")
        return transcript, False
    if strip_wake(again, grammar.prefix)[1]:
        return request, woke
    heard = words(again.text)
    for called in grammar.contrast.split("."):
        name = words(called)
        if name[:1] == ["hey"] and heard[: len(name)] == name:
            logger.debug("%r: said to somebody else", again.text)
            return transcript, False
    return request, woke


def _name_margin(transcript: Transcript, stt: SpeechToText, grammar: Grammar) -> float | None:
    """How much better the wake name in the transcript reads than any other word in its place.

    Primed to expect "hey Luma", the model also writes it for "hey Lou, more?" or a line on
    the television; scored against the names of the contrast, those read as another word.
    None: the recognizer cannot score a reading, or the name is not in the text.
    """
    score = getattr(stt, "name_margin", None)
    wake = grammar.prefix.split()
    if score is None or not wake:
        return None
    found = re.search(rf"\b{re.escape(wake[-1])}\b", transcript.text, re.IGNORECASE)
    if found is None:
        return None
    return score(transcript.text[: found.start()], found.group(0).title(), grammar.contrast)


def strip_wake(transcript: Transcript, wake_phrase: str) -> tuple[Transcript, bool]:
    """The transcript without a leading wake phrase, and whether it had one.

    Its alternatives lose the wake phrase too, where they have it.
    """
    wake = words(wake_phrase)
    rest = _after_wake(transcript.text, wake)
    if rest is None:
        return transcript, False
    others = tuple(
        dict.fromkeys(
            after if after is not None else other
            for other in transcript.alternatives
            for after in (_after_wake(other, wake),)
        )
    )
    return Transcript(rest, transcript.confidence, transcript.engine, others), True


def _after_wake(text: str, wake: list[str]) -> str | None:
    """The words after a leading wake phrase (fillers before it skipped), or None."""
    spoken = words(text)
    while spoken[:1] and spoken[0] in FILLERS and spoken[:1] != wake[:1]:
        spoken = spoken[1:]
    if wake and spoken[: len(wake)] == wake:
        return " ".join(spoken[len(wake) :])
    return None
