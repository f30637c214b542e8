"""Wiring: the only module that knows every stage."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from companion.audio.base import AudioInput, AudioOutput
from companion.audio.segmenter import Segmenter, VoiceDetector
from companion.audio.sounds import SleepSounds
from companion.config import Config
from companion.dialog.intents import command_phrases
from companion.dialog.loop import Brain, ListeningLoop
from companion.host import Host
from companion.messages import Grammar, Reply
from companion.paths import data_dir, state_dir
from companion.service import Watchdog, notify
from companion.speech.piper_engine import PiperEngine
from companion.speech.stt import SpeechToText, open_recognizer
from companion.speech.tts import (
    PhraseCache,
    TextToSpeech,
    VoiceRole,
    load_voice_roles,
    resolve_voice,
)
from companion.state.store import Store
from companion.storytelling.format import load_library

logger = logging.getLogger(__name__)

SENTENCE_PAUSE_S = 0.25
REHEARSAL_SOUND_MINUTES = 1.0


def idle_grammar(config: Config) -> Grammar:
    wake = config.speech.wake_phrase
    return Grammar("idle", command_phrases(wake), open=True, prefix=wake)


def load_voice(config: Config, voices_dir: Path | None = None) -> tuple[PiperEngine, VoiceRole]:
    """The narrator voice from voices/voices.toml (the config's speech.voice overrides it)."""
    voices = voices_dir or data_dir("voices")
    role = load_voice_roles(voices).get("narrator", VoiceRole())
    model, name = resolve_voice(config.speech.voice or role.voice, voices)
    return PiperEngine(model, name), role


def load_recognizer(config: Config) -> SpeechToText:
    return open_recognizer(config.speech.engine, config.speech.vosk_model, data_dir("voices"))


@dataclass
class Speaker:
    """Says replies sentence by sentence: each sentence plays while the next is synthesized."""

    tts: TextToSpeech
    output: AudioOutput
    role: VoiceRole
    cache: PhraseCache
    on_first_audio: Callable[[], None] | None = None
    fixed: frozenset[str] = frozenset()
    _warming: threading.Thread | None = None
    _stop_warming: threading.Event = field(default_factory=threading.Event)

    def say(self, text: str, rate: float | None = None, volume: float | None = None) -> float:
        """Speak one line; returns its length in seconds."""
        rate = self.role.rate if rate is None else rate
        gain = self.role.volume if volume is None else volume
        cached = self.cache.get(self.tts.name, rate, text)
        chunks = cached if cached is not None else self.tts.synthesize(text, rate)
        kept: list[np.ndarray] = []
        seconds = 0.0
        pause = np.zeros(int(self.tts.sample_rate * SENTENCE_PAUSE_S), np.float32)
        for audio in chunks:
            if self.on_first_audio is not None:
                self.on_first_audio()
            self.output.play(audio * gain, self.tts.sample_rate)
            self.output.play(pause, self.tts.sample_rate)
            seconds += (len(audio) + len(pause)) / self.tts.sample_rate
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

    def reply(self, reply: Reply) -> float:
        seconds = 0.0
        for line in reply.lines:
            if isinstance(line, str):
                seconds += self.say(line)
                continue
            seconds += self.say(
                line.text, self.role.rate * line.rate, self.role.volume * line.volume
            )
            if line.pause_s > SENTENCE_PAUSE_S:
                gap = line.pause_s - SENTENCE_PAUSE_S
                self.output.play(
                    np.zeros(int(self.tts.sample_rate * gap), np.float32), self.tts.sample_rate
                )
                seconds += gap
        self.output.wait()
        return seconds


def make_host(config: Config, store: Store | None = None) -> Host:
    """Stories from stories/ (broken files are logged and skipped) and the state database."""
    stories, _ = load_library(data_dir("stories"))
    return Host(config, stories, store or open_store())


def open_store() -> Store:
    return Store(state_dir() / "companion.db")


class Companion:
    """The speech loop, ready to run on an input and an output."""

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
    ) -> None:
        started = time.perf_counter()
        self.config = config
        self.audio_in = audio_in
        self.audio_out = audio_out
        audio_out.cap = min(audio_out.cap, config.volume.day)
        self.stt = stt or load_recognizer(config)
        tts, role = voice or load_voice(config)
        self.host = brain if isinstance(brain, Host) else None
        if brain is None:
            self.host = make_host(config, store)
            brain = self.host
        self.brain = brain
        self.speaker = Speaker(tts, audio_out, role, PhraseCache())
        idle = idle_grammar(config)
        prepare = getattr(self.stt, "prepare", None)
        if prepare is not None:
            prepare(idle)
            prepare(Grammar("command", command_phrases(), open=True))
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
        self.watchdog = Watchdog()
        self.loop.on_audio = self.watchdog.feed
        self.startup_s = time.perf_counter() - started
        notify("READY=1")
        logger.info('ready in %.2f s; say "%s"', self.startup_s, config.speech.wake_phrase)

    def speak(self, reply: Reply) -> float:
        """Say a reply; start or stop sleep sounds; apply a new volume cap."""
        if self.sounds is not None and (reply.stop_sounds or reply.lines or reply.sounds):
            self.sounds.stop()
            self.audio_out.stop()
            self.sounds = None
        if reply.cap is not None:
            self.audio_out.cap = min(self.config.volume.day, reply.cap)
        seconds = self.speaker.reply(reply)
        for name in reply.sounds:
            settings = self.config.sleep_sounds
            minutes, fade = settings.minutes, settings.fade_minutes
            if not self.realtime and minutes > REHEARSAL_SOUND_MINUTES:
                # a recording of a rehearsal keeps one minute, faded the same way
                fade, minutes = fade * REHEARSAL_SOUND_MINUTES / minutes, REHEARSAL_SOUND_MINUTES
            self.sounds = SleepSounds(self.audio_out.play, name, minutes, fade, self.realtime)
            self.sounds.start()
        return seconds

    def run(self, drain: bool = False) -> None:
        try:
            self.loop.run(self.audio_in.chunks(), drain=drain)
        finally:
            self.close()

    def close(self) -> None:
        if self.sounds is not None:
            self.sounds.stop()
        self.speaker.close()
        self.audio_in.close()
        self.audio_out.close()
