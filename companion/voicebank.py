"""A test voice bank: utterances in voices that are not the narrator's, for tests and the bench.

The recognizer must be judged on voices it does not hear every night from its own speaker.
Three families of voices render a phrase: espeak-ng's English accents and variants, flite's
voices, and the narrator's piper voice with its timbre shifted (formants and pitch moved
together, length kept). Each family's voices are split in two disjoint sets: TEST voices for
the test suite, and HELD_OUT voices that only `companion bench` uses, so the bench figures are
on voices the tests never saw. The phrase sets below are split the same way.

Any voice can be rendered plain, as a child (higher and a little slower), with a bedroom fan
10 dB below the speech, or in a reverberant bedroom. Files are mono 16-bit PCM at 16 kHz with
silence before and after the speech, the speech at about -20 dBFS RMS, and are cached in the
given folder by a hash of everything that shapes them.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
import weakref
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Final, Generic, NamedTuple, TypeVar

import numpy as np

from companion.errors import CompanionError

if TYPE_CHECKING:
    from companion.speech.piper_engine import PiperEngine

FAMILIES: Final[tuple[str, ...]] = ("espeak-ng", "flite", "narrator-shifted")
VARIANTS: Final[tuple[str, ...]] = ("plain", "child", "fan", "reverb")
RATE: Final = 16_000
"""Sample rate of every rendered file."""
LEVEL_DBFS: Final = -20.0
"""RMS of the speech (its active frames) in a rendered file."""
FAN_SNR_DB: Final = 10.0
"""How far the fan noise of the `fan` variant is below the speech RMS."""
CHILD_CENTS: Final = (300, 450)
"""Range of the `child` variant's pitch rise; each voice gets its own value in it."""
CHILD_TEMPO: Final = 0.92
REVERB: Final = ("reverb", "40", "50", "60", "100", "15")
"""A reverberant bedroom: reverberance, HF damping, room scale, stereo depth (%), pre-delay (ms)."""
_RENDER_VERSION: Final = 1
"""Part of the cache key: bump it when rendering changes, so old files are not reused."""

_TOOLS: Final = {"espeak-ng": "espeak-ng", "flite": "flite", "sox": "sox"}
"""Each tool and the Debian package that installs it."""

# Narrator shifts: sox `speed` scales the whole spectrum (formants and pitch together) by the
# ratio, then `tempo` gives the speech its length back.
NARRATOR_SHIFTS: Final[dict[str, float]] = {
    "up15": 1.15,
    "down10": 0.90,
    "up21": 1.21,
    "down14": 0.86,
}


@dataclass(frozen=True)
class TestVoice:
    """One voice of the bank: its family, its name within the family, and which set it is in."""

    __test__ = False  # not a pytest test class

    family: str
    name: str
    held_out: bool

    @property
    def label(self) -> str:
        """`family:name`, as shown in bench figures and test ids."""
        return f"{self.family}:{self.name}"

    @property
    def child_cents(self) -> int:
        """This voice's pitch rise for the `child` variant, fixed per voice."""
        low, high = CHILD_CENTS
        return low + zlib.crc32(self.label.encode()) % (high - low + 1)


_VOICES: Final = (
    # espeak-ng: accents with different voice shapes (+f* female, +m* male). en-029 is left
    # out: the en-US recognizer models hear almost none of it.
    TestVoice("espeak-ng", "en-us+f2", held_out=False),
    TestVoice("espeak-ng", "en-us+m3", held_out=False),
    TestVoice("espeak-ng", "en-gb-x-rp+f2", held_out=False),
    TestVoice("espeak-ng", "en-us", held_out=True),
    TestVoice("espeak-ng", "en-us+f3", held_out=True),
    TestVoice("espeak-ng", "en-gb-scotland+m3", held_out=True),
    # flite: kal and kal16 are one voice, so only kal16; awb_time only knows the time of day
    TestVoice("flite", "kal16", held_out=False),
    TestVoice("flite", "awb", held_out=False),
    TestVoice("flite", "slt", held_out=True),
    TestVoice("flite", "rms", held_out=True),
    # the narrator's voice, its timbre shifted up and down
    TestVoice("narrator-shifted", "up15", held_out=False),
    TestVoice("narrator-shifted", "down10", held_out=False),
    TestVoice("narrator-shifted", "up21", held_out=True),
    TestVoice("narrator-shifted", "down14", held_out=True),
)


def voices(held_out: bool) -> tuple[TestVoice, ...]:
    """The TEST voices (`held_out=False`, for the test suite) or the HELD_OUT ones (the bench)."""
    return tuple(v for v in _VOICES if v.held_out == held_out)


def missing_tools() -> list[str]:
    """Which of espeak-ng, flite and sox are not installed."""
    return [tool for tool in _TOOLS if shutil.which(tool) is None]


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise CompanionError(
            f"{tool} is not installed; the test voice bank needs it "
            f"(sudo apt-get install {_TOOLS[tool]})",
            code="missing_tool",
        )
    return path


def _run(command: list[str], stdin: bytes | None = None) -> bytes:
    """Run a tool; its failure becomes one line naming the tool and what it said."""
    try:
        done = subprocess.run(command, input=stdin, capture_output=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise CompanionError(f"{Path(command[0]).name} failed: {err}", code="tool") from None
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        reason = said[-1] if said else f"exit status {done.returncode}"
        raise CompanionError(f"{Path(command[0]).name} failed: {reason}", code="tool")
    return done.stdout


def _sox(audio: np.ndarray, rate: int, effects: list[str], out_rate: int = RATE) -> np.ndarray:
    """Mono float32 through sox effects, resampled to `out_rate` (float all the way, no dither)."""
    raw = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-L"]
    command = [_require("sox"), "-q", "-R", *raw, "-r", str(rate), "-", *raw, "-"]
    command += [*effects, "channels", "1", "rate", "-v", str(out_rate)]
    out = _run(command, np.asarray(audio, "<f4").tobytes())
    return np.frombuffer(out, "<f4").astype(np.float32)


def _espeak(text: str, name: str, folder: Path) -> tuple[np.ndarray, int]:
    from companion.audio.wav import read_wav

    out = folder / "espeak.wav"
    _run([_require("espeak-ng"), "-v", name, "-w", str(out), "--stdin"], text.encode())
    return read_wav(out)


@cache
def _flite_voices() -> frozenset[str]:
    """The voices this flite has built in (`flite -lv`); it quietly uses another otherwise."""
    listed = _run([_require("flite"), "-lv"]).decode(errors="replace")
    return frozenset(listed.partition(":")[2].split())


def _flite(text: str, name: str, folder: Path) -> tuple[np.ndarray, int]:
    from companion.audio.wav import read_wav

    if name not in _flite_voices():
        known = ", ".join(sorted(_flite_voices()))
        raise CompanionError(f"flite has no voice {name!r} (it has: {known})", code="tool")
    source, out = folder / "flite.txt", folder / "flite.wav"
    source.write_text(text, encoding="utf-8")
    _run([_require("flite"), "-voice", name, "-f", str(source), "-o", str(out)])
    return read_wav(out)


@cache
def _default_narrator() -> PiperEngine:
    """The narrator voice, loaded once, when the caller did not pass its own."""
    from companion.paths import data_dir
    from companion.speech.piper_engine import PiperEngine
    from companion.speech.tts import DEFAULT_VOICE, voice_files

    return PiperEngine(
        voice_files(data_dir("voices"))[DEFAULT_VOICE], DEFAULT_VOICE, deterministic=True
    )


_NARRATED: Final[weakref.WeakKeyDictionary[PiperEngine, dict[str, np.ndarray]]] = (
    weakref.WeakKeyDictionary()
)
_NARRATED_KEPT: Final = 16


def _narrated(engine: PiperEngine, text: str) -> np.ndarray:
    """The narrator saying `text`, kept for the few texts most recently rendered.

    Every shift and variant of one text starts from the same narration: it is made once.
    """
    kept = _NARRATED.setdefault(engine, {})
    audio = kept.pop(text, None)
    if audio is None:
        audio = np.concatenate([np.zeros(0, np.float32), *engine.synthesize(text)])
    kept[text] = audio  # the newest last
    while len(kept) > _NARRATED_KEPT:
        del kept[next(iter(kept))]
    return audio


def _source(
    text: str, voice: TestVoice, folder: Path, narrator: PiperEngine | None
) -> tuple[np.ndarray, int, list[str]]:
    """The voice's own audio for `text`, its rate, and the sox effects that finish the voice."""
    if voice.family == "espeak-ng":
        return (*_espeak(text, voice.name, folder), [])
    if voice.family == "flite":
        return (*_flite(text, voice.name, folder), [])
    if voice.family == "narrator-shifted":
        ratio = NARRATOR_SHIFTS.get(voice.name)
        if ratio is None:
            known = ", ".join(NARRATOR_SHIFTS)
            raise ValueError(f"unknown narrator shift {voice.name!r} (one of: {known})")
        engine = narrator if narrator is not None else _default_narrator()
        shift = ["speed", f"{ratio:.4f}", "tempo", f"{1 / ratio:.4f}"]
        return _narrated(engine, text), engine.sample_rate, shift
    raise ValueError(f"unknown voice family {voice.family!r} (one of: {', '.join(FAMILIES)})")


def _frames_rms(audio: np.ndarray, frame: int) -> np.ndarray:
    usable = len(audio) - len(audio) % frame
    if usable == 0:
        return np.zeros(0)
    blocks = audio[:usable].reshape(-1, frame).astype(np.float64)
    return np.sqrt(np.mean(blocks**2, axis=1))


def _trim(audio: np.ndarray, rate: int) -> np.ndarray:
    """The speech without the silence a synthesizer puts around it."""
    frame = rate // 100
    levels = _frames_rms(audio, frame)
    if not levels.size or levels.max() <= 0:
        raise CompanionError("the synthesizer gave no audible speech", code="tool")
    loud = np.flatnonzero(levels > levels.max() * 10 ** (-45 / 20))
    start = max(0, (loud[0] - 1) * frame)
    end = min(len(audio), (loud[-1] + 3) * frame)
    return audio[start:end]


def speech_rms(audio: np.ndarray, rate: int = RATE) -> float:
    """RMS of the active 20 ms frames (within 35 dB of the loudest): pauses do not count."""
    levels = _frames_rms(audio, rate // 50)
    if not levels.size or levels.max() <= 0:
        return 0.0
    active = levels[levels > levels.max() * 10 ** (-35 / 20)]
    return float(np.sqrt(np.mean(active**2)))


def _normalise(audio: np.ndarray, rate: int) -> np.ndarray:
    level = speech_rms(audio, rate)
    return (audio * (10 ** (LEVEL_DBFS / 20) / level)).astype(np.float32)


def file_name(text: str, voice: TestVoice, variant: str, lead_s: float, tail_s: float) -> str:
    """The cache file name: readable voice and variant, and a hash of everything else."""
    key = f"{_RENDER_VERSION}|{voice.label}|{variant}|{lead_s:.3f}|{tail_s:.3f}|{text}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    readable = re.sub(r"[^a-z0-9]+", "-", f"{voice.family}-{voice.name}".lower()).strip("-")
    return f"{readable}-{variant}-{digest}.wav"


def render(
    text: str,
    voice: TestVoice,
    variant: str,
    folder: Path,
    narrator: PiperEngine | None = None,
    lead_s: float = 0.4,
    tail_s: float = 1.0,
) -> Path:
    """`text` said by `voice` in `variant`, as a WAV in `folder` (made once, then reused).

    `narrator` is the already loaded narrator voice for the `narrator-shifted` family (without
    it, the default voice is loaded once). The file has `lead_s` of silence before the speech
    and `tail_s` after it (the `fan` variant's noise runs through them too).
    """
    from companion.audio.wav import write_wav

    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r} (one of: {', '.join(VARIANTS)})")
    if voice.family not in FAMILIES:
        raise ValueError(f"unknown voice family {voice.family!r} (one of: {', '.join(FAMILIES)})")
    target = Path(folder) / file_name(text, voice, variant, lead_s, tail_s)
    if target.is_file():
        return target
    _require("sox")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="voicebank-") as tmp:
        audio, rate, effects = _source(text, voice, Path(tmp), narrator)
    if variant == "child":
        effects += ["pitch", str(voice.child_cents), "tempo", str(CHILD_TEMPO)]
    speech = _normalise(_trim(_sox(_trim(audio, rate), rate, effects), RATE), RATE)
    lead = np.zeros(round(lead_s * RATE), np.float32)
    audio = np.concatenate([lead, speech, np.zeros(round(tail_s * RATE), np.float32)])
    if variant == "reverb":
        # the room's tail rings on into the silence after the speech; the length is kept
        audio = _normalise(_sox(audio, RATE, list(REVERB))[: len(audio)], RATE)
    if variant == "fan":
        from companion.bench import fan_noise

        level = speech_rms(audio) / 10 ** (FAN_SNR_DB / 20)
        seed = zlib.crc32(target.name.encode())
        audio = audio + level * fan_noise(len(audio), RATE, seed)
    write_wav(target, audio, RATE)
    return target


# Phrase sets --------------------------------------------------------------------------------

T = TypeVar("T")


class Split(NamedTuple, Generic[T]):
    """A phrase set in two disjoint halves; `SET[held_out]` picks one like `voices(held_out)`."""

    test: T
    held_out: T


Request = tuple[str, str]
"""What a child says to the companion, with the wake phrase, and the intent it must give."""
Answer = tuple[str, str, str]
"""An answer to a story question: what is said, the question's kind, a word it must be heard as."""

REQUESTS: Final[Split[tuple[Request, ...]]] = Split(
    test=(
        ("Hey Luma, tell me a story.", "story.start"),
        ("Hey Luma, um, can you tell me a story?", "story.start"),
        ("Hey Luma, I want a bedtime story please.", "story.start"),
        ("Hey Luma, what happens next?", "story.continue"),
        ("Hey Luma, keep going.", "story.continue"),
        ("Hey Luma, uh, and then what?", "story.continue"),
        ("Hey Luma, can we have a shared night?", "night.shared"),
        ("Hey Luma, everyone together tonight.", "night.shared"),
        ("Hey Luma, um, the whole family please.", "night.shared"),
        ("Hey Luma, let's make up a story.", "night.freeform"),
        ("Hey Luma, can I make my own story?", "night.freeform"),
        ("Hey Luma, uh, freeform night please.", "night.freeform"),
        ("Hey Luma, stop.", "stop"),
        ("Hey Luma, be quiet please.", "stop"),
        ("Hey Luma, um, that's enough now.", "stop"),
        ("Hey Luma, goodnight.", "goodnight"),
        ("Hey Luma, sleep tight.", "goodnight"),
        ("Hey Luma, I'm going to sleep now.", "goodnight"),
        ("Hey Luma, I had a bad dream.", "bad_dream"),
        ("Hey Luma, um, I'm scared.", "bad_dream"),
        ("Hey Luma, I woke up from a nightmare.", "bad_dream"),
        ("Hey Luma, say that again.", "repeat"),
        ("Hey Luma, what did you say?", "repeat"),
        ("Hey Luma, uh, I didn't hear you.", "repeat"),
        ("Hey Luma, play sleep sounds.", "sleep_sounds"),
        ("Hey Luma, can I have the rain?", "sleep_sounds"),
        ("Hey Luma, um, I want the ocean sounds.", "sleep_sounds"),
    ),
    held_out=(
        ("Hey Luma, could you read me a bedtime story?", "story.start"),
        ("Hey Luma, uh, is it story time?", "story.start"),
        ("Hey Luma, I'd like another story.", "story.start"),
        ("Hey Luma, what comes next?", "story.continue"),
        ("Hey Luma, um, please carry on.", "story.continue"),
        ("Hey Luma, tell me more.", "story.continue"),
        ("Hey Luma, a story for all of us, please.", "night.shared"),
        ("Hey Luma, uh, a family night please.", "night.shared"),
        ("Hey Luma, let's invent a story.", "night.freeform"),
        ("Hey Luma, um, can we make one up?", "night.freeform"),
        ("Hey Luma, hush now.", "stop"),
        ("Hey Luma, uh, stop talking please.", "stop"),
        ("Hey Luma, cancel that.", "stop"),
        ("Hey Luma, night night.", "goodnight"),
        ("Hey Luma, um, sweet dreams.", "goodnight"),
        ("Hey Luma, it's time to sleep.", "goodnight"),
        ("Hey Luma, I had a scary dream.", "bad_dream"),
        ("Hey Luma, uh, I'm frightened.", "bad_dream"),
        ("Hey Luma, can you repeat that?", "repeat"),
        ("Hey Luma, um, one more time please.", "repeat"),
        ("Hey Luma, pardon?", "repeat"),
        ("Hey Luma, some rain sounds please.", "sleep_sounds"),
        ("Hey Luma, uh, can you play the waves?", "sleep_sounds"),
        ("Hey Luma, white noise please.", "sleep_sounds"),
    ),
)

ANSWERS: Final[Split[tuple[Answer, ...]]] = Split(
    test=(
        ("a hedgehog", "animal", "hedgehog"),
        ("um, turquoise", "colour", "turquoise"),
        ("the lighthouse", "place", "lighthouse"),
        ("an axolotl", "animal", "axolotl"),
        ("my teddy bear", "object", "teddy bear"),
        ("her name is Rosie", "name", "rosie"),
        ("it was golden", "colour", "golden"),
        ("a big drum", "sound", "drum"),
        ("uh, happy", "feeling", "happy"),
        ("in the forest", "place", "forest"),
        ("Oliver", "name", "oliver"),
        ("they found a rainbow", "free", "rainbow"),
    ),
    held_out=(
        ("a penguin", "animal", "penguin"),
        ("um, purple", "colour", "purple"),
        ("the castle", "place", "castle"),
        ("a giraffe", "animal", "giraffe"),
        ("a shiny key", "object", "key"),
        ("his name is Max", "name", "max"),
        ("it was silver", "colour", "silver"),
        ("a little bell", "sound", "bell"),
        ("uh, sleepy", "feeling", "sleepy"),
        ("under the sea", "place", "sea"),
        ("Daisy", "name", "daisy"),
        ("they had a picnic", "free", "picnic"),
    ),
)

WAKE_ONLY: Final[Split[tuple[str, ...]]] = Split(
    test=("Hey Luma.", "Hey Luma?", "Hey Luma..."),
    held_out=("Hey, Luma!", "Hey... Luma?"),
)
"""The wake phrase alone, the companion then waits for the request: the same words, said with a
different tune and pause in each."""

NOT_FOR_ME: Final[Split[tuple[str, ...]]] = Split(
    test=(
        "Hey mama, where is my blanket?",
        "Hey Luna, look at this.",
        "Did you remember to lock the back door?",
        "I'm going to read for a bit, then turn the light off.",
        "My dinosaur is bigger than yours.",
        "Can I have some water please?",
    ),
    held_out=(
        "Hey Lou, more?",
        "Hey Lima, come here.",
        "We need to buy milk tomorrow morning.",
        "The meeting moved to Thursday, didn't it?",
        "Look, my sock has a hole in it.",
        "Where did you put my book?",
    ),
)
"""Said near the companion but not to it: adult talk, children chatting, near misses of the name."""
