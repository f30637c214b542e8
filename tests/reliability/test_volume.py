"""The parents' volume caps, measured on the written output: no request, story or config reload
raises the output above the cap, and after goodnight the night cap holds (sleep sounds too).

There is no volume intent: "louder" or "turn it up" is not understood (the companion asks again,
or at night says it is sleeping time), so a child has no way to ask for more volume.
"""

from __future__ import annotations

import random
import wave
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from companion.audio.files import WavOutput
from companion.audio.resample import resample
from companion.audio.wav import write_wav
from companion.config import VolumeCaps, parse_config
from companion.dialog.intents import classify
from companion.host import Host
from companion.messages import Reply, Transcript
from companion.routine.plan import night_plan
from companion.state.store import Store
from companion.storytelling.format import Ask, Choose, load_library, parse_story
from tests.conftest import SHORT_STORY, daytime

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DAY, NIGHT = 0.3, 0.12
LSB = 1 / 32767
CONFIG = {
    "timezone": "Europe/London",
    "family": {"children": [{"name": "Mila", "age": 6}]},
    "bedtime": {"friday": "19:30"},
    "volume": {"day": DAY, "night": NIGHT},
    "sleep_sounds": {"sound": "rain", "minutes": 0.3, "fade_minutes": 0.1},
    "routine": {"reminders": ["pyjamas on"]},
}
LOUDER = (
    "louder",
    "turn it up",
    "louder please",
    "make it louder",
    "volume up",
    "turn the volume up",
    "full volume",
    "max volume",
    "speak up",
    "i can't hear you",
    "shout",
    "turn it all the way up",
)


class MeteredOutput(WavOutput):
    """A WAV speaker that counts the frames written, so each reply can be found in the file."""

    frames = 0

    def play(self, samples: np.ndarray, rate: int) -> None:
        block = resample(samples, rate, self.rate)
        self.frames += len(block)
        super().play(block, self.rate)


def read_pcm(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.int32)


@pytest.fixture
def rig(tmp_path: Path, recognizer, voice):
    """The Companion, headless on a WAV speaker, with its host; replies are said via `say`."""
    from companion.app import Companion
    from companion.audio.files import WavInput
    from companion.speech.tts import VoiceRole

    config = parse_config(CONFIG)
    stories, _ = load_library(ROOT / "stories")
    story = parse_story(SHORT_STORY, "stories/owl-and-the-door.toml")
    host = Host(config, [story], Store(tmp_path / "s.db"), random.Random(5), clock=daytime)
    write_wav(tmp_path / "quiet.wav", np.zeros(1600, np.float32), 16_000)
    out = MeteredOutput(tmp_path / "out.wav", rate=voice.sample_rate, cap=config.volume.day)
    companion = Companion(
        config,
        WavInput(tmp_path / "quiet.wav"),
        out,
        stt=recognizer,
        voice=(voice, VoiceRole()),
        warm_all=False,
        brain=host,
    )
    said: list[tuple[str, int, int, float]] = []
    caps = {"cap": DAY}

    def say(reply: Reply | None, what: str) -> Reply | None:
        if reply is None:
            return None
        if reply.cap is not None:
            caps["cap"] = min(caps["cap"], reply.cap)
        start = out.frames
        companion.speak(reply)
        said.append((what, start, out.frames, caps["cap"]))
        return reply

    yield host, companion, stories, say, said, tmp_path / "out.wav"


def ask(host: Host, text: str) -> Reply:
    transcript = Transcript(text, 0.9, "pocketsphinx")
    return host.respond(classify(transcript), transcript)


def story_answers(story) -> list[str]:
    kinds = {"colour": "purple", "animal": "owl", "name": "Pip", "feeling": "happy"}
    return [
        kinds.get(s.kind, "the moon") if isinstance(s, Ask) else s.options[0].label
        for s in story.steps
        if isinstance(s, (Ask, Choose))
    ]


def test_no_request_story_or_reload_raises_the_output(
    rig, figure: Callable[[str, object], None]
) -> None:
    host, companion, stories, say, said, out = rig
    # by day: asking for more volume, then a whole story from stories/
    for text in LOUDER:
        say(ask(host, text), f"day: {text}")
    story = min(
        stories, key=lambda s: sum(len(p) for x in s.steps for p in getattr(x, "paragraphs", ()))
    )
    reply = say(host.start_story(story), "day story")
    for text in story_answers(story):
        if reply is None or reply.expect is None:
            break
        reply = say(ask(host, text), "day story")
    # a night, with the parents raising the day volume while it runs
    plan = night_plan(host.config, date(2026, 11, 20), "shared")
    assert plan is not None
    host.post_night(plan, rehearsal=True)
    louder_config = replace(host.config, volume=VolumeCaps(day=1.0, night=NIGHT))
    answers = iter(["everyone", "louder", "turn it up", "purple", "owl", "sail", "happy"])
    reloaded = False
    for _ in range(100):
        reply = say(host.tick(), "night")
        if host.night is not None and host.night.current == "gratitude" and not reloaded:
            host.update_config(louder_config)
            reloaded = True
        while reply is not None and reply.expect is not None:
            text = next(answers, "happy")
            reply = say(ask(host, text), f"night: {text}")
        if host.night is None:
            break
    assert reloaded and host.after_goodnight
    # after goodnight: asking for more, sleep sounds, a bad dream, another reload
    host.update_config(louder_config)
    for text in (*LOUDER, "play sleep sounds", "tell me a story", "i had a bad dream"):
        reply = say(ask(host, text), f"after goodnight: {text}")
    for text in ("a big spider", "a pink tutu"):
        if reply is None or reply.expect is None:
            break
        reply = say(ask(host, text), "after goodnight: bad dream")
    say(ask(host, "play sleep sounds"), "after goodnight: sleep sounds")
    companion.close()

    pcm = read_pcm(out)
    assert len(pcm) == said[-1][2]
    worst = 0.0
    over = []
    peaks = {DAY: 0, NIGHT: 0}
    for what, start, end, cap in said:
        if end == start:
            continue
        peak = int(np.abs(pcm[start:end]).max())
        limit = round(cap * 32767) + 1
        peaks[cap] = max(peaks[cap], peak)
        worst = max(worst, peak / (cap * 32767))
        if peak > limit:
            over.append((what, peak / 32767, cap))
    spoken = sum(1 for _, s, e, _ in said if e > s)
    night_replies = sum(1 for _, s, e, cap in said if e > s and cap == NIGHT)
    figure(
        "max output / cap over replies",
        f"{worst:.3f} over {spoken} replies ({night_replies} under the night cap): day "
        f"{peaks[DAY] / 32767:.3f}/{DAY}, night {peaks[NIGHT] / 32767:.3f}/{NIGHT}",
    )
    assert not over, over
    assert night_replies >= 15
    assert peaks[DAY] / 32767 > 0.7 * DAY and peaks[NIGHT] / 32767 > 0.7 * NIGHT  # caps bind
    assert companion.audio_out.cap == NIGHT
