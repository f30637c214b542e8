"""Hearing "stop" while the companion itself is speaking.

The listening loop is half-duplex: while a reply plays it does not listen. This listener
does, on a tap of the same microphone, with a grammar of the stop phrases plus the words
being said right now, so the companion's own voice (what an echo canceller leaves of it)
decodes as its own words and not as "stop". A line that itself says "stop" can only be
stopped with the companion's name first ("Luma, stop").
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Final

import numpy as np

from companion.audio.base import CHUNK_S
from companion.messages import AudioChunk, Grammar, Line, Reply, Transcript
from companion.speech.grammar import whole_phrase, words
from companion.speech.stt import SpeechToText

logger = logging.getLogger(__name__)

STOP_PHRASES: Final = (
    "stop",
    "stop stop",
    "stop please",
    "please stop",
    "stop it",
    "stop talking",
    "okay stop",
)
STOP_WORDS: Final = frozenset({"stop", "stops", "stopped", "stopping"})
"""Words that, said by the companion itself, could sound like a stop phrase."""
TRAILING_S: Final = 0.4
"""Quiet that ends a stretch of decoding."""
HELD_S: Final = 0.15
"""How long a stop phrase must stay the end of the best guess before it counts."""
MAX_S: Final = 4.0
"""Decoding starts over after this much sound, overlapping by RECENT_S."""
RECENT_S: Final = 0.6
BACKLOG: Final = 400
"""Chunks (about 12 s) the tap keeps for a loop that is busy; older ones are dropped."""


class BargeIn:
    """Listens for a stop phrase during replies; `on_stop` is called from the tap's thread."""

    def __init__(
        self,
        stt: SpeechToText,
        is_speech: Callable[[np.ndarray], bool],
        wake_phrase: str,
        on_stop: Callable[[Transcript], None],
    ) -> None:
        self.stt = stt
        self.is_speech = is_speech
        self.wake_phrase = wake_phrase
        self.on_stop = on_stop
        self._lock = threading.Lock()
        self._lines: tuple[str, ...] | None = None
        self._grammar: Grammar | None = None
        self._guarded = False
        self._in_utterance = False
        self._recent: deque[np.ndarray] = deque(maxlen=max(1, round(RECENT_S / CHUNK_S)))
        self._length_s = self._quiet_s = self._held_s = 0.0
        self.heard: list[Transcript] = []
        """Every stop that stopped a reply (for logs and tests)."""

    @property
    def active(self) -> bool:
        return self._lines is not None

    def begin(self, reply: Reply) -> None:
        """The companion starts saying `reply`: listen for stop until end()."""
        lines = tuple(line.text if isinstance(line, Line) else line for line in reply.lines)
        with self._lock:
            self._lines = lines
            self._grammar = None  # built on the tap's thread, off the reply's path
            self._recent.clear()

    def end(self) -> None:
        """The reply is over: let go of the recognizer for the listening loop."""
        with self._lock:
            self._lines = None
            self._drop_utterance()

    def _drop_utterance(self) -> None:
        if self._in_utterance:
            self._in_utterance = False
            self.stt.finish()

    def _prepare(self, lines: tuple[str, ...]) -> Grammar:
        said = [" ".join(words(line)) for line in lines]
        self._guarded = any(STOP_WORDS & set(words(line)) for line in lines)
        calls = self._calls()
        phrases = (*STOP_PHRASES, *(f"{c} {p}" for c in calls for p in STOP_PHRASES), *said)
        grammar = Grammar("speaking", tuple(p for p in phrases if p), transient=True)
        prepare = getattr(self.stt, "prepare", None)
        if prepare is not None:
            prepare(grammar)
        return grammar

    def hear(self, chunk: AudioChunk) -> None:
        """One chunk from the microphone (the tap's thread)."""
        with self._lock:
            if self._lines is None:
                return
            if self._grammar is None:
                self._grammar = self._prepare(self._lines)
            heard = self._listen(chunk)
            if heard is None:
                return
            self._lines = None
            self._drop_utterance()
        logger.info("stop heard while speaking (%r)", heard)
        transcript = Transcript(heard, 1.0, "barge-in")
        self.heard.append(transcript)
        self.on_stop(transcript)

    def _listen(self, chunk: AudioChunk) -> str | None:
        """Decode continuously while there is sound; the stop phrase once it has held."""
        speech = self.is_speech(chunk.samples)
        self._recent.append(chunk.samples)
        if not self._in_utterance:
            if not speech:
                return None
            self._start()
        self.stt.feed(chunk.samples)
        self._length_s += chunk.duration_s
        self._quiet_s = 0.0 if speech else self._quiet_s + chunk.duration_s
        said = self.stt.partial()
        stop = self.stop_at_end(said)
        self._held_s = self._held_s + chunk.duration_s if stop else 0.0
        if stop and self._held_s >= HELD_S:
            return said
        if self._quiet_s >= TRAILING_S or self._length_s >= MAX_S:
            self._in_utterance = False
            final = self.stt.finish().text
            if self.stop_at_end(final):
                return final
            logger.debug("while speaking: %r", final)
            if speech:  # still sound: go straight on, overlapping, so no word is cut
                self._start()
        return None

    def _start(self) -> None:
        assert self._grammar is not None
        self.stt.start(self._grammar)
        for samples in self._recent:
            self.stt.feed(samples)
        self._in_utterance = True
        self._length_s = self._quiet_s = self._held_s = 0.0

    def _calls(self) -> tuple[str, ...]:
        """How a child calls the companion: the wake phrase, or just its name ("luma")."""
        wake = words(self.wake_phrase)
        return tuple(dict.fromkeys([" ".join(wake), wake[-1]])) if wake else ()

    def stop_at_end(self, text: str) -> bool:
        """Whether what was heard ends in a stop phrase (the companion's own words before it).

        After a line that says "stop" itself, only with the companion's name before it.
        """
        said = words(text)
        for size in (3, 2, 1):
            tail = said[-size:]
            if len(tail) < size or not whole_phrase(" ".join(tail), STOP_PHRASES):
                continue
            before = " ".join(said[:-size])
            if any(before == c or before.endswith(" " + c) for c in self._calls()):
                return True
            return not self._guarded
        return False

    def tap(self, chunks: Iterable[AudioChunk]) -> Iterator[AudioChunk]:
        """Read the microphone on a thread, hearing stop there, and pass the chunks on.

        Chunks that arrive while a reply plays are heard here only: the half-duplex loop
        would skip them anyway, and a long story would otherwise pile them up.
        """
        passed: queue.Queue[AudioChunk | None] = queue.Queue(maxsize=BACKLOG)
        failed: list[BaseException] = []

        def read() -> None:
            try:
                for chunk in chunks:
                    if self.active:
                        self.hear(chunk)
                        continue
                    try:
                        passed.put_nowait(chunk)
                    except queue.Full:
                        logger.warning("listening fell behind: dropped %.2f s", chunk.duration_s)
            except BaseException as err:  # raised again on the listening loop's thread
                failed.append(err)
            finally:
                passed.put(None)

        reader = threading.Thread(target=read, name="microphone", daemon=True)
        reader.start()
        while (chunk := passed.get()) is not None:
            yield chunk
        if failed:
            raise failed[0]
