"""Hearing "stop" while the companion itself is speaking.

The listening loop is half-duplex: while a reply plays it does not listen. This listener
does, on a tap of the same microphone. Every chunk first goes through the echo canceller,
which is fed what the speaker plays. On the cleaned audio:

- voice that the companion's own output does not explain ducks the reply at once (so does
  the keyword model for "stop"), and the recognizer decodes what was said when it ends: a
  short stop phrase decoded surely enough ("stop", "be quiet", "Luma, stop", "that's
  enough") stops the reply, anything else brings the volume back. The keyword model hearing
  "stop" in the same stretch lowers how sure the decode must be.

What is left of the companion's own voice decodes as its own words, not as "stop": a
line that itself says "stop" can only be stopped with the companion's name first ("Luma,
stop"). Without an echo canceller the microphone is heard only in the pauses between
sentences.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Final

import numpy as np

from companion.audio.base import CHUNK_S
from companion.audio.echo import GAP_S, EchoCanceller, SpeakerGate
from companion.dialog.intents import classify
from companion.messages import SAMPLE_RATE, AudioChunk, Grammar, Line, Reply, Transcript
from companion.speech.grammar import whole_phrase, words
from companion.speech.spotter import KeywordSpotter
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
    "be quiet",
    "that's enough",
    "no more",
    "shush",
    "hush",
)
STOP_WORDS: Final = frozenset({"stop", "stops", "stopped", "stopping"})
"""Words that, said by the companion itself, could sound like a stop phrase."""
DUCK_GAIN: Final = 0.18
"""The reply's level while someone speaks over it (about -15 dB)."""
DUCK_AFTER_S: Final = 0.06
"""Voiced audio that ducks the reply."""
TRAILING_S: Final = 0.24
"""Quiet that ends what was said over the reply."""
MAX_S: Final = 4.0
"""Longest stretch decoded at once; longer talk is not a stop phrase."""
PREROLL_S: Final = 0.3
JOIN_S: Final = 0.8
"""Speech that starts again this soon is decoded together with what came before ("um... stop")."""
MIN_CONFIDENCE: Final = 0.4
"""A stop phrase decoded less surely is not taken: primed with the stop phrases, the model
reads breathing or a television next door as "Stop. Stop." at 0.30-0.49, while children's
stops over a story mostly decode at 0.45-0.9."""
SPOTTED_CONFIDENCE: Final = 0.3
"""The same, when the keyword model heard "stop" in the stretch too."""
MAX_LOUD_S: Final = 1.2
"""A stop phrase is short: a stretch loud for longer (within 12 dB of its peak) is other talk
or noise. Children's stops over a story measured 0.15-0.66 s, what the model misread as
stop in a room with nobody saying it 1.7-2.3 s."""
QUIET_DBFS: Final = -70.0
"""The voice detector's floor on the cancelled signal: the canceller leaves a child's voice
over the story at -50 to -55 dBFS, below the listening loop's -48."""
MAX_WORDS: Final = 6
"""Longer sentences are not a stop phrase, even with one in them."""
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
        *,
        canceller: EchoCanceller | None = None,
        spotter: KeywordSpotter | None = None,
        duck: Callable[[float], None] | None = None,
        on_heard: Callable[[Transcript, bool], None] | None = None,
    ) -> None:
        self.stt = stt
        self.is_speech = is_speech
        self.wake_phrase = wake_phrase
        self.on_stop = on_stop
        self.canceller = canceller or SpeakerGate()
        self.spotter = spotter
        self.duck = duck
        self.on_heard = on_heard
        """Called with what was said over a reply, and whether it stopped it."""
        self._lock = threading.Lock()
        self._lines: tuple[str, ...] | None = None
        self._said: frozenset[str] = frozenset()
        self._guarded = False
        self._grammar = Grammar("speaking", STOP_PHRASES, prompt=self._prompt())
        """Primes a neural recognizer with the stop phrases; a grammar decoder also gets the
        reply's own lines, so that its echo decodes as itself and not as "stop"."""
        self._recent: deque[np.ndarray] = deque(maxlen=max(1, round(PREROLL_S / CHUNK_S)))
        self._utterance: list[np.ndarray] = []
        self._voiced_s = self._quiet_s = 0.0
        self._before: list[np.ndarray] = []
        """The last stretch decoded, while speech may go on after it, and the quiet since."""
        self._gap: list[np.ndarray] = []
        self._ducked = False
        self._spotted = False
        self.heard: list[Transcript] = []
        """Every stop that stopped a reply (for logs and tests)."""
        self.cpu_s = self.audio_s = 0.0
        """CPU time spent listening while the companion spoke, and the audio it covered."""

    @property
    def active(self) -> bool:
        return self._lines is not None

    def begin(self, reply: Reply) -> None:
        """The companion starts saying `reply`: listen for stop until end()."""
        lines = tuple(line.text if isinstance(line, Line) else line for line in reply.lines)
        with self._lock:
            self._lines = lines
            self._said = frozenset(w for line in lines for w in words(line))
            self._guarded = bool(STOP_WORDS & self._said)
            said = tuple(p for p in (" ".join(words(line)) for line in lines) if p)
            calls = tuple(f"{c} {p}" for c in self._calls() for p in STOP_PHRASES)
            self._grammar = Grammar(
                "speaking", (*STOP_PHRASES, *calls, *said), prompt=self._prompt(), transient=True
            )
            self._utterance = []
            self._before, self._gap = [], []
            self._voiced_s = self._quiet_s = 0.0
            self._spotted = False
            if self.spotter is not None:
                self.spotter.reset()

    def end(self) -> None:
        """The reply is over: let go of the recognizer for the listening loop."""
        with self._lock:
            self._lines = None
            self._utterance = []
            self._before, self._gap = [], []
            self._restore()

    def hear(self, chunk: AudioChunk) -> None:
        """One microphone chunk, already through the echo canceller (the tap's thread)."""
        with self._lock:
            if self._lines is None:
                return
            heard = self._listen(chunk)
            if heard is None:
                return
            self._lines = None
            self._utterance = []
        logger.info("stop heard while speaking (%r)", heard.text)
        self.heard.append(heard)
        if self.on_heard is not None:
            self.on_heard(heard, True)
        self.on_stop(heard)

    def _listen(self, chunk: AudioChunk) -> Transcript | None:
        samples = chunk.samples
        if not self.canceller.cancels and self.canceller.speaker_quiet_s() < GAP_S:
            samples = np.zeros_like(samples)  # the speaker's own sound: nothing to hear
        spotter = self.spotter
        if spotter is not None and not self._guarded and spotter.hear(samples):
            # the keyword model is fast but not sure enough on its own: it ducks at once and
            # vouches for the stretch being decoded
            self._spotted = True
            self._duck()
        speech = self.is_speech(samples)
        self._recent.append(samples)
        if not self._utterance:
            if self._before:
                self._gap.append(samples)
                if len(self._gap) * CHUNK_S >= JOIN_S:
                    self._before, self._gap = [], []
            if not speech:
                return None
            joined = [*self._before, *self._gap] if self._before else list(self._recent)
            self._utterance, self._before, self._gap = joined, [], []
            self._voiced_s = self._quiet_s = 0.0
        else:
            self._utterance.append(samples)
        if speech:
            self._voiced_s += chunk.duration_s
            self._quiet_s = 0.0
        else:
            self._quiet_s += chunk.duration_s
        if self._voiced_s >= DUCK_AFTER_S:
            self._duck()
        length_s = len(self._utterance) * CHUNK_S
        if self._quiet_s < TRAILING_S and length_s < MAX_S:
            return None
        stretch, self._utterance = self._utterance, []
        spotted, self._spotted = self._spotted, False
        if self._voiced_s < DUCK_AFTER_S:
            return None
        audio = np.concatenate(stretch)
        heard = self._decode(audio)
        if heard is not None:
            logger.debug("over the reply: %r (%.2f)", heard.text, heard.confidence)
        surely = heard is not None and heard.confidence >= (
            SPOTTED_CONFIDENCE if spotted else MIN_CONFIDENCE
        )
        if surely and _loud_s(audio) <= MAX_LOUD_S and self.is_stop(heard.text):
            return Transcript(heard.text, 1.0, heard.engine, heard.alternatives)
        if heard is not None and heard.text and self.on_heard is not None:
            self.on_heard(heard, False)
        if len(stretch) * CHUNK_S < MAX_S:
            self._before, self._gap = stretch, []
        if not speech:
            self._restore()
        return None

    def _decode(self, audio: np.ndarray) -> Transcript | None:
        self.stt.start(self._grammar)
        self.stt.feed(audio)
        transcript = self.stt.finish()
        return transcript if transcript.text else None

    def _duck(self) -> None:
        if not self._ducked and self.duck is not None:
            self._ducked = True
            self.duck(DUCK_GAIN)

    def _restore(self) -> None:
        if self._ducked and self.duck is not None:
            self.duck(1.0)
        self._ducked = False

    def _prompt(self) -> str:
        name = self._calls()[-1].title() if self._calls() else ""
        return f"Stop. Stop please. {name}, stop. Be quiet. That's enough. No more.".strip()

    def _calls(self) -> tuple[str, ...]:
        """How a child calls the companion: the wake phrase, or just its name ("luma")."""
        wake = words(self.wake_phrase)
        return tuple(dict.fromkeys([" ".join(wake), wake[-1]])) if wake else ()

    def is_stop(self, text: str) -> bool:
        """Whether what was heard over the reply asks it to stop.

        A short stop phrase, or a short sentence the classifier reads as stop. Words that
        are all the reply's own are its echo; after a line that says "stop" itself, only
        with the companion's name before it.
        """
        said = words(text)
        if not said or len(said) > MAX_WORDS:
            return False
        named = False
        for call in self._calls():
            size = len(call.split())
            if " ".join(said[:size]) == call:
                said, named = said[size:], True
                break
        if not said:
            return False
        if self._guarded and not named:
            return False
        if not named and len(said) > 1 and set(said) <= self._said:
            return False  # its own words, heard back
        phrase = " ".join(said)
        if whole_phrase(phrase, STOP_PHRASES):
            return True
        # "um, stop", "okay stop it"; "I don't want to stop" is not
        return classify(phrase, frozenset({"stop"}), in_story=True).name == "stop"

    def tap(self, chunks: Iterable[AudioChunk]) -> Iterator[AudioChunk]:
        """Read the microphone on a thread (from now on), hearing stop there, and pass the
        chunks on.

        Chunks that arrive while a reply plays are heard here only: the half-duplex loop
        would skip them anyway, and a long story would otherwise pile them up.
        """
        passed: queue.Queue[AudioChunk | None] = queue.Queue(maxsize=BACKLOG)
        failed: list[BaseException] = []

        def read() -> None:
            try:
                for chunk in chunks:
                    began = time.thread_time()
                    cleaned = self.canceller.near(chunk)
                    if self.active:
                        self.hear(cleaned)
                        self.cpu_s += time.thread_time() - began
                        self.audio_s += chunk.duration_s
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
        return _passed(passed, failed)


def _loud_s(audio: np.ndarray) -> float:
    """Seconds of `audio` within 12 dB of its loudest 30 ms."""
    size = round(SAMPLE_RATE * CHUNK_S)
    frames = audio[: len(audio) // size * size].astype(np.float64).reshape(-1, size)
    if not len(frames):
        return 0.0
    levels = np.sqrt(np.mean(frames**2, axis=1)) + 1e-9
    return float(np.sum(levels > levels.max() * 10 ** (-12 / 20)) * CHUNK_S)


def _passed(
    passed: queue.Queue[AudioChunk | None], failed: list[BaseException]
) -> Iterator[AudioChunk]:
    while (chunk := passed.get()) is not None:
        yield chunk
    if failed:
        raise failed[0]
