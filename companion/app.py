"""Wiring: the only module that knows every stage."""

from __future__ import annotations

import bisect
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np

from companion.audio.base import AudioInput, AudioOutput
from companion.audio.echo import open_canceller
from companion.audio.segmenter import Segmenter, VoiceDetector
from companion.audio.sounds import SleepSounds
from companion.config import Config, read_credentials
from companion.dialog.bargein import QUIET_DBFS, BargeIn
from companion.dialog.intents import KEY_TERMS, command_phrases
from companion.dialog.loop import Brain, ListeningLoop, State, Turn, strip_wake
from companion.dialog.replies import VOLUME_FLOOR
from companion.errors import AudioDeviceLost, ConfigError
from companion.events import EventLog
from companion.host import Host
from companion.messages import AudioChunk, Grammar, Intent, Line, Reply, Transcript
from companion.paths import cache_dir, data_dir, state_dir
from companion.routine.plan import NightPlan, begun_now, mode_for, night_of, with_mode
from companion.routine.scheduler import done_key
from companion.service import Watchdog, notify
from companion.speech.engines import open_recognizer
from companion.speech.microwakeword_engine import open_stop_spotter
from companion.speech.piper_engine import PiperEngine
from companion.speech.stt import SpeechToText
from companion.speech.tts import (
    SENTENCE_PAUSE_S,
    PhraseCache,
    TextToSpeech,
    VoiceRole,
    load_voice_roles,
    resolve_voice,
)
from companion.state.store import Store
from companion.storytelling.bad_dream import BAD_DREAM_ID
from companion.storytelling.format import load_library

if TYPE_CHECKING:
    from companion.home.mqtt import Command, HomeLink, HomeState

logger = logging.getLogger(__name__)

REHEARSAL_SOUND_MINUTES = 1.0
OTHERS_CALLED = ("Mum", "Mama")
"""Whom else a child says "hey" to at bedtime (the family's own names are added). Not "you":
primed with it, the model hears "hey you" in a reverberant "hey Luma" and turns the child
away (a plain "hey you" reads as "you" anyway)."""


def idle_grammar(config: Config) -> Grammar:
    wake = config.speech.wake_phrase
    name = config.speech.wake_name
    # whole sentences, as a child says them: a list of words primes the model to say lists
    prompt = (
        f"Hey {name}, tell me a story. Hey {name}, what happens next? Hey {name}, let's have a "
        f"shared night. Hey {name}, a freeform night. Hey {name}, stop. I had a bad dream. "
        "Say that again. Sleep sounds, the rain. Goodnight."
    )
    others = " ".join(f"Hey {who}." for who in (*OTHERS_CALLED, *config.family.names))
    contrast = f"{others} Hey {name}, tell me a story."
    return Grammar(
        "idle",
        command_phrases(wake),
        open=True,
        prefix=wake,
        prompt=prompt,
        contrast=contrast,
        terms=KEY_TERMS,
    )


def load_voice(config: Config, voices_dir: Path | None = None) -> tuple[PiperEngine, VoiceRole]:
    """The narrator voice from voices/voices.toml (the config's speech.voice overrides it)."""
    voices = voices_dir or data_dir("voices")
    role = load_voice_roles(voices).get("narrator", VoiceRole())
    model, name = resolve_voice(config.speech.voice or role.voice, voices)
    return PiperEngine(model, name, cache=cache_dir() / "voices"), role


def load_recognizer(config: Config) -> SpeechToText:
    speech = config.speech
    return open_recognizer(
        speech.engine, data_dir("voices"), speech.vosk_model, speech.whisper_model
    )


@dataclass
class Speaker:
    """Says replies as they are synthesized: each block plays while the next is made."""

    tts: TextToSpeech
    output: AudioOutput
    role: VoiceRole
    cache: PhraseCache
    on_first_audio: Callable[[], None] | None = None
    fixed: frozenset[str] = frozenset()
    _warming: threading.Thread | None = None
    resumed: list[int] = field(default_factory=list)
    """Lines said again after the speaker came back (their index in the reply)."""
    _stop_warming: threading.Event = field(default_factory=threading.Event)
    interrupted: threading.Event = field(default_factory=threading.Event)
    """Set by interrupt(): the reply stops now (cleared by the caller before the next)."""

    def interrupt(self) -> None:
        """Stop speaking at once: drop what is queued, say nothing more of this reply."""
        self.interrupted.set()
        self.output.stop()

    def say(self, text: str, rate: float | None = None, volume: float | None = None) -> float:
        """Speak one line; returns its length in seconds."""
        rate = self.role.rate if rate is None else rate
        gain = self.role.volume if volume is None else volume
        cached = self.cache.get(self.tts.name, rate, text)
        chunks = cached if cached is not None else self.tts.synthesize(text, rate)
        kept: list[np.ndarray] = []
        seconds = 0.0
        for audio in chunks:
            if self.interrupted.is_set():
                return seconds
            if self.on_first_audio is not None:
                self.on_first_audio()
            self.output.play(audio * gain, self.tts.sample_rate)
            seconds += len(audio) / self.tts.sample_rate
            kept.append(audio)
        if cached is None and text in self.fixed:
            self.cache.put(self.tts.name, rate, text, tuple(kept))
        return seconds

    def warm(self, lines: list[str], background: bool = True) -> None:
        """Synthesize the fixed phrases once (in the background), so replies start at once."""
        self.fixed = frozenset(lines)

        def fill() -> None:
            for line in lines:
                if self._stop_warming.is_set():
                    return
                if self.cache.get(self.tts.name, self.role.rate, line) is None:
                    audio = tuple(self.tts.synthesize(line, self.role.rate))
                    self.cache.put(self.tts.name, self.role.rate, line, audio)

        if background:
            self._warming = threading.Thread(target=fill, name="phrase-cache", daemon=True)
            self._warming.start()
        else:
            fill()

    def close(self) -> None:
        """Stop warming (onnxruntime must not be running while the process exits)."""
        self._stop_warming.set()
        if self._warming is not None:
            self._warming.join()

    def _line(self, line: str | Line) -> float:
        if isinstance(line, str):
            return self.say(line)
        seconds = self.say(line.text, self.role.rate * line.rate, self.role.volume * line.volume)
        if line.pause_s > SENTENCE_PAUSE_S and not self.interrupted.is_set():
            gap = line.pause_s - SENTENCE_PAUSE_S
            silence = np.zeros(int(self.tts.sample_rate * gap), np.float32)
            self.output.play(silence, self.tts.sample_rate)
            seconds += gap
        return seconds

    def reply(self, reply: Reply) -> float:
        """Say every line; if the speaker is lost, carry on from the line it was playing."""
        lines = list(reply.lines)
        first = 0
        while True:
            starts: list[float] = []
            seconds = 0.0
            try:
                for line in lines[first:]:
                    if self.interrupted.is_set():
                        break
                    starts.append(getattr(self.output, "queued_s", 0.0))
                    seconds += self._line(line)
                self.output.wait()
                return seconds
            except AudioDeviceLost as lost:
                playing = first + max(0, bisect.bisect_right(starts, lost.played_s) - 1)
                recover = getattr(self.output, "recover", None)
                if recover is None or not recover(lost.message):
                    raise
                logger.info("carrying on from line %d of %d", playing + 1, len(lines))
                self.resumed.append(playing)
                first = playing


def make_host(config: Config, store: Store | None = None) -> Host:
    """Stories from stories/ (broken files are logged and skipped) and the state database."""
    stories, _ = load_library(data_dir("stories"))
    return Host(config, stories, store or open_store())


def open_store() -> Store:
    return Store(state_dir() / "companion.db")


class Companion:
    """The speech loop, ready to run on an input and an output."""

    home: HomeBridge | None = None
    """The home link (Home Assistant), when [home] is set and it could be opened."""

    def __init__(
        self,
        config: Config,
        audio_in: AudioInput,
        audio_out: AudioOutput,
        *,
        half_duplex: bool = False,
        stt: SpeechToText | None = None,
        voice: tuple[PiperEngine, VoiceRole] | None = None,
        warm_all: bool = True,
        wait_warm: bool = False,
        brain: Brain | None = None,
        store: Store | None = None,
        events: EventLog | None = None,
    ) -> None:
        started = time.perf_counter()
        self.config = config
        self.audio_in = audio_in
        self.audio_out = audio_out
        audio_out.cap = min(audio_out.cap, config.volume.day)
        self.stt = stt or load_recognizer(config)
        self.host = brain if isinstance(brain, Host) else None
        if brain is None:
            self.host = make_host(config, store)
            brain = self.host
        self.brain = brain
        idle = idle_grammar(config)
        prepare = getattr(self.stt, "prepare", None)
        if prepare is not None:
            prepare(idle)
            prepare(Grammar("command", command_phrases(), open=True))
        tts, role = voice or load_voice(config)
        self.speaker = Speaker(tts, audio_out, role, PhraseCache())
        tts.warm()
        fixed_lines = getattr(brain, "fixed_lines", None)
        fixed = fixed_lines() if fixed_lines is not None and warm_all else []
        self.speaker.warm(fixed, background=not wait_warm)
        detector = VoiceDetector()
        listening = config.listening
        self.sounds: SleepSounds | None = None
        self.realtime = half_duplex
        self.loop = ListeningLoop(
            self.stt,
            detector.is_speech,
            Segmenter(listening.trailing_silence_s, listening.max_utterance_s),
            self.brain,
            self.speak,
            idle,
            listening.silence_timeout_s,
            half_duplex=half_duplex,
        )
        self.speaker.on_first_audio = self.loop.mark_first_audio
        self.barge_in: BargeIn | None = None
        self._stop_heard: Transcript | None = None
        self.events = events
        self.input_s = 0.0
        """Seconds of microphone audio read so far (the clock of the event log)."""
        if events is not None:
            self.loop.on_heard = self._heard
        if half_duplex and listening.stop_while_speaking:
            self.barge_in = self._barge_in()
            self.loop.interrupted = self._take_stop
        self.watchdog = Watchdog()
        self.loop.on_audio = self.watchdog.feed
        if hasattr(audio_out, "on_progress"):  # a long story is still the loop at work
            audio_out.on_progress = self.watchdog.feed
        if config.home is not None and self.host is not None:
            self.home = open_home(self, self.host)
            if self.home is not None and self.loop.interrupted is None:
                self.loop.interrupted = self._take_stop
        self.startup_s = time.perf_counter() - started
        notify("READY=1")
        preload = getattr(self.stt, "preload", None)
        if preload is not None:  # listening starts on the small model; the open one follows
            preload()
        logger.info('ready in %.2f s; say "%s"', self.startup_s, config.speech.wake_phrase)

    def _barge_in(self) -> BargeIn:
        """The listener for "stop" while speaking: echo canceller, keyword model, recognizer."""
        canceller = open_canceller()
        out = self.audio_out
        if hasattr(out, "on_played"):
            out.on_played = canceller.far
        elif canceller.cancels:
            logger.warning("speaker %s does not say what it plays: no echo cancelling", out.name)
        return BargeIn(
            self.stt,
            VoiceDetector(min_dbfs=QUIET_DBFS).is_speech,
            self.config.speech.wake_phrase,
            self._stopped,
            canceller=canceller,
            spotter=open_stop_spotter(),
            duck=getattr(out, "duck", None),
            on_heard=self._heard_over if self.events is not None else None,
        )

    def _heard(self, transcript: Transcript, intent: Intent) -> None:
        if self.events is not None and transcript.text:
            self.events.write(self.input_s, "heard", text=transcript.text, intent=intent.name)

    def _heard_over(self, transcript: Transcript, stopped: bool) -> None:
        if self.events is not None:
            intent = "stop" if stopped else "none"
            self.events.write(self.input_s, "heard", text=transcript.text, intent=intent)

    def speak(self, reply: Reply) -> float:
        """Say a reply; start or stop sleep sounds; apply a new volume cap or a volume step."""
        out = self.audio_out
        if reply.volume_step:
            from dataclasses import replace

            from companion.dialog.replies import VOLUME_FLOOR

            if hasattr(out, "volume"):
                # a step from what is heard now (the cap where it binds), never above the cap;
                # the output stage limits every sample to the cap as well
                level = min(out.volume, out.cap) * (1 + reply.volume_step)
                out.volume = min(out.cap, max(out.cap * VOLUME_FLOOR, level))
            else:
                role = self.speaker.role
                level = role.volume * (1 + reply.volume_step)
                self.speaker.role = replace(role, volume=min(1.0, max(VOLUME_FLOOR, level)))
            sounds = self.sounds
            playing = sounds is not None and sounds.played_s < sounds.total_s - 1.0
            if playing and not (reply.stop_sounds or reply.sounds or reply.expect):
                return 0.0  # the sleep sounds themselves get louder or softer: no talking
        if self.sounds is not None and (reply.stop_sounds or reply.lines or reply.sounds):
            self.sounds.stop()
            out.stop()
            self.sounds = None
        if reply.cap is not None:
            before = out.cap
            out.cap = min(self.config.volume.day, reply.cap)
            level = getattr(out, "volume", None)
            if isinstance(level, float) and level < before:
                out.volume = level / before * out.cap  # a quieter level stays as quiet a share
        self.speaker.interrupted.clear()
        if self.home is not None:
            self.home.replying(reply)
        began = time.monotonic()
        text = " ".join(line.text if isinstance(line, Line) else line for line in reply.lines)
        if self.events is not None and text:
            self.events.write(self.input_s, "saying", text=text)
        if self.barge_in is not None:
            self.barge_in.begin(reply)
        try:
            seconds = self.speaker.reply(reply)
        finally:
            if self.barge_in is not None:
                self.barge_in.end()
            if self.home is not None:
                self.home.replied()
        if self.events is not None and text:
            stopped = self.speaker.interrupted.is_set()
            self.events.write(self.input_s, "said", text=text, stopped=stopped)
        if self.speaker.interrupted.is_set():
            return time.monotonic() - began
        for name in reply.sounds:
            settings = self.config.sleep_sounds
            minutes, fade = settings.minutes, settings.fade_minutes
            if not self.realtime and minutes > REHEARSAL_SOUND_MINUTES:
                # a recording of a rehearsal keeps one minute, faded the same way
                fade, minutes = fade * REHEARSAL_SOUND_MINUTES / minutes, REHEARSAL_SOUND_MINUTES
            self.sounds = SleepSounds(self.audio_out.play, name, minutes, fade, self.realtime)
            if self.home is not None:
                self.home.update(force=True)
            self.sounds.start()
        return seconds

    def _stopped(self, transcript: Transcript) -> None:
        """Stop heard over our own voice (the microphone's thread): silence now."""
        self._stop_heard = transcript
        self.speaker.interrupt()
        if self.events is not None:
            self.events.write(self.input_s, "stopped", text=transcript.text)

    def _take_stop(self) -> Transcript | None:
        heard, self._stop_heard = self._stop_heard, None
        if heard is None and self.home is not None:
            heard = self.home.take_stop()
        if heard is None:
            return None
        return strip_wake(heard, self.config.speech.wake_phrase)[0]

    def _counted(self, chunks: Iterable[AudioChunk]) -> Iterator[AudioChunk]:
        for chunk in chunks:
            self.input_s = chunk.start_s + chunk.duration_s
            yield chunk

    def run(self, drain: bool = False, first: Reply | None = None) -> None:
        """Listen until the input ends; `first` is said at once (a story asked for by name),
        with "stop" heard over it like over any reply."""
        chunks: Iterable[AudioChunk] = self._counted(self.audio_in.chunks())
        if self.barge_in is not None:
            chunks = self.barge_in.tap(chunks)
        if self.home is not None:
            chunks = self.home.between(chunks)
        try:
            if first is not None:
                self.loop.begin(first)
            self.loop.run(chunks, drain=drain)
        finally:
            self.close()

    def close(self) -> None:
        if self.sounds is not None:
            self.sounds.stop()
            self.sounds = None
        if self.home is not None:
            self.home.close()
        self.speaker.close()
        self.audio_in.close()
        self.audio_out.close()
        if self.events is not None:
            self.events.close()


HOME: Final = "home"
"""The engine named on a request that came from the home link."""
NOT_A_CHILD: Final = frozenset({"routine", "start", "silence", HOME})
"""Turns the companion began itself, or a grown-up's command from home."""
WOKE_GAP_S: Final = 600.0
"""One "woke up at night" per awakening: a child talking on for a while is still one."""
HOME_EVERY_S: Final = 0.1
"""How often the status is looked at between chunks (it is published only when it changes)."""


def open_home(companion: Companion, host: Host) -> HomeBridge | None:
    """The home link, when [home] is set and its login can be read; else None and one line."""
    config = companion.config
    assert config.home is not None
    try:
        credentials = read_credentials(config.home, config.path)
    except ConfigError as err:
        logger.error("%s; carrying on without the home link", err.message)
        return None
    try:
        from companion.home.mqtt import HomeLink
    except ImportError as err:
        logger.error("home.mqtt_url: the MQTT client is missing (%s): pip install aiomqtt", err)
        return None
    bridge = HomeBridge(companion, host)
    bridge.link = HomeLink(config.home, credentials, bridge.on_command)
    bridge.link.start()
    return bridge


class HomeBridge:
    """Between the companion and its home link: status and events out, commands in.

    Commands run on the listening loop's thread between chunks, by the paths a spoken request
    takes ("stop" is understood as "stop"). "Stop" while a reply is being said silences it at
    once, like "stop" heard over it; the volume is set at once, never above the cap.
    """

    link: HomeLink

    def __init__(self, companion: Companion, host: Host) -> None:
        self.companion = companion
        self.host = host
        self.commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.mode_tonight: tuple[date, str] | None = None
        """Tonight's mode chosen at home before the night began: (the night, the mode)."""
        self._lock = threading.Lock()
        self._speaking = False
        self._sounds_coming = False
        self._stop_pending = False
        self._updating = threading.Lock()
        self._last: HomeState | None = None
        self._looked = -math.inf
        self._session: object | None = None
        self._turn: Turn | None = None
        self._woke_at = -math.inf
        self._post_night = host.post_night
        # nights posted from now on (the scheduler, --now) take the mode chosen at home
        host.post_night = self.post_night  # type: ignore[method-assign]

    # -- the link's thread --------------------------------------------------------------

    def on_command(self, command: Command) -> None:
        """A checked command from Home Assistant: stop and volume act at once, the rest waits
        for the loop's next chunk."""
        if command.name == "volume":
            assert isinstance(command.value, float)
            self._set_volume(command.value)
            return
        if command.name == "stop":
            with self._lock:
                if self._speaking:
                    self._stop_pending = True
                    self.companion.speaker.interrupt()
                    return
        self.commands.put(command)

    def _set_volume(self, percent: float) -> None:
        out = self.companion.audio_out
        if not hasattr(out, "volume"):
            logger.warning("home: volume: %s has no volume control", out.name)
            return
        cap = out.cap
        wanted = percent / 100
        if wanted > cap:
            logger.info("home: volume %g%% is above the cap (%g%%): set to it", percent, cap * 100)
        level = min(cap, max(cap * VOLUME_FLOOR, wanted))
        out.volume = level  # applies from the next block played
        self.host.volume_level = level / cap if cap else 1.0
        self.update(force=True)

    # -- the loop's thread --------------------------------------------------------------

    def between(self, chunks: Iterable[AudioChunk]) -> Iterator[AudioChunk]:
        """Pass the chunks on; before each, act on the commands that came and publish changes."""
        for chunk in chunks:
            while True:
                try:
                    command = self.commands.get_nowait()
                except queue.Empty:
                    break
                self._apply(command)
            self.update()
            yield chunk

    def replying(self, reply: Reply) -> None:
        with self._lock:
            self._speaking = True
            self._sounds_coming = bool(reply.sounds)
        self._note_turn()
        self.update(force=True)

    def replied(self) -> None:
        """The reply is said; what follows (sleep sounds) is published as it starts."""
        with self._lock:
            self._speaking = False
            self._sounds_coming = False

    def take_stop(self) -> Transcript | None:
        """The stop pressed while the last reply was being said (once)."""
        with self._lock:
            pending, self._stop_pending = self._stop_pending, False
        return Transcript("stop", 1.0, HOME) if pending else None

    def post_night(self, plan: NightPlan, rehearsal: bool = False) -> None:
        """Thread-safe, as Host.post_night: in the mode chosen at home for that night."""
        chosen = self.mode_tonight
        if chosen is not None and chosen[0] == plan.night:
            plan = with_mode(self.host.config, plan, chosen[1])
        self._post_night(plan, rehearsal)

    def _apply(self, command: Command) -> None:
        host = self.host
        loop = self.companion.loop
        if command.name == "stop":
            if host.session is not None or self._sounds_playing() or loop.state is State.LISTENING:
                loop.command(Transcript("stop", 1.0, HOME))
            else:
                logger.info("home: stop: nothing to stop")
        elif command.name == "sleep_sounds":
            playing = self._sounds_playing()
            if command.value and not playing:
                if host.session is None and host.night is None:
                    loop.command(Transcript("sleep sounds", 1.0, HOME))
                else:
                    logger.info("home: sleep sounds: not while a story or the wind-down is on")
            elif not command.value and playing:
                self.companion.speak(Reply((), stop_sounds=True))
        elif command.name == "mode":
            self._set_mode(str(command.value))
        elif command.name == "wind_down":
            self._start_wind_down()
        self.update(force=True)

    def _set_mode(self, mode: str) -> None:
        host = self.host
        night = host.night
        if night is None:
            self.mode_tonight = (night_of(host.config, host.clock()), mode)
            logger.info("home: tonight will be a %s night", mode)
        elif host.story_step_started:
            logger.info("home: tonight's story has begun; it stays a %s night", night.plan.mode)
        else:  # as a spoken "let's have a freeform night" does
            night.plan = replace(night.plan, mode=mode)
            logger.info("home: tonight is a %s night", mode)

    def _start_wind_down(self) -> None:
        host = self.host
        if host.night is not None:
            logger.info("home: the wind-down is already under way")
            return
        now = host.clock()
        night = night_of(host.config, now)
        chosen = self.mode_tonight
        mode = chosen[1] if chosen is not None and chosen[0] == night else None
        plan = begun_now(host.config, now, mode)
        if host.store is not None:  # the scheduler does not start tonight's again
            host.store.set_fact(done_key(plan.night), now.isoformat())
        logger.info("home: wind-down started (a %s night)", plan.mode)
        self.post_night(plan)

    def _note_turn(self) -> None:
        """A child talking to the companion after goodnight or in quiet hours: woke up."""
        turns = self.companion.loop.turns
        turn = turns[-1] if turns else None
        if turn is None or turn is self._turn:
            return
        self._turn = turn
        now = time.monotonic()
        if turn.transcript.engine in NOT_A_CHILD or now - self._woke_at < WOKE_GAP_S:
            return
        if self._asleep():
            self._woke_at = now
            self.link.event("woke_up_at_night")

    # -- either thread ------------------------------------------------------------------

    def update(self, force: bool = False) -> None:
        """Publish the status if it changed; look for a bad dream begun."""
        now = time.monotonic()
        if not force and now - self._looked < HOME_EVERY_S:
            return
        with self._updating:
            self._looked = now
            host = self.host
            session = host.session
            if session is not self._session:
                self._session = session
                if session is not None and session.teller.story.id == BAD_DREAM_ID:
                    self.link.event("bad_dream")
            # a grown-up is promised only while the link can tell one
            host.on_event = self.link.event if self.link.connected.is_set() else None
            state = self._state()
            if state != self._last:
                self._last = state
                self.link.publish_status(state)

    def close(self) -> None:
        self.update(force=True)
        self.link.close()

    def _state(self) -> HomeState:
        from companion.home.mqtt import HomeState

        host = self.host
        session = host.session
        telling = session is not None and not session.finished
        sounds = self._sounds_playing()
        if sounds or self._sounds_coming:  # "Here comes the rain", or the rain
            status = "sleep sounds"
        elif telling:
            status = "story"
        elif host.night is not None:
            status = "wind-down"
        elif self.companion.loop.state is State.LISTENING:
            status = "listening"
        elif self._asleep():
            status = "quiet"
        else:
            status = "idle"
        title = session.teller.story.title if telling and session is not None else ""
        out = self.companion.audio_out
        volume = round(min(getattr(out, "volume", 1.0), out.cap) * 100)
        return HomeState(status, title, self._mode(), volume, sounds or self._sounds_coming)

    def _mode(self) -> str:
        """The night under way's, else the one chosen at home, else tonight's finished night's,
        else the config's."""
        host = self.host
        if host.night is not None:
            return host.night.plan.mode
        night = night_of(host.config, host.clock())
        chosen = self.mode_tonight
        if chosen is not None and chosen[0] == night:
            return chosen[1]
        done = host.last_night
        if done is not None and done.plan.night == night:
            return done.plan.mode
        return mode_for(host.config, night)

    def _asleep(self) -> bool:
        host = self.host
        return host.after_goodnight or host.config.quiet_hours.contains(host.clock().time())

    def _sounds_playing(self) -> bool:
        sounds = self.companion.sounds
        return sounds is not None and sounds.played_s < sounds.total_s
