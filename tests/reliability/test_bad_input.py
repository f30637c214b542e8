"""Bad input: odd or broken WAV files and story files give one clear line, or are handled well.

Every command runs as a real `python -m companion` process, so what the user sees on stderr
(log lines included) is exactly what is checked.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from companion.audio.wav import read_wav
from companion.storytelling.format import load_library
from tests.conftest import ROOT, need

pytestmark = pytest.mark.slow

GOOD_STORIES = ("s000-mila-and-the-dream-she-drew", "s003-mara-and-the-pillow-maze")
REQUEST = "Hey Luma, tell me a story."


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    peak_mb: float

    @property
    def lines(self) -> list[str]:
        return self.err.strip().splitlines()


PEAK = """
import os, sys
from companion.cli import main
try:
    code = main(sys.argv[1:])
finally:
    with open("/proc/self/status") as status, open(os.environ["PEAK_FILE"], "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM")).split()[1])
sys.exit(code)
"""
"""`companion.cli.main` as `python -m companion` runs it, then its own peak RSS in kB."""


def companion(*args: str, timeout: float = 120.0) -> Run:
    """The command line in its own process: exit code, output, time and peak memory."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile() as peak,
    ):
        start = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-c", PEAK, *args],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PEAK_FILE": peak.name},
        )
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        seconds = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        kilobytes = Path(peak.name).read_text().strip()
        return Run(
            proc.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            seconds,
            int(kilobytes or 0) / 1024,
        )


def digest(folder: Path) -> dict[str, str]:
    """Every regular file in `folder` and a hash of its bytes (links are not followed)."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.is_symlink()
    }


def write_pcm(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> Path:
    """Float samples in -1..1 (frames × channels) as 16-bit PCM, clipping what is beyond."""
    import wave

    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


@dataclass
class WavCase:
    """One kind of WAV file and what a polished product does with it."""

    path: Path
    expect: str
    """"reject": exit 2 with one line; "hear": the request's intent; "ignore": nothing to act on
    (no intent, or no wake phrase, so the idle companion stays quiet)."""
    words: str = ""
    """Words the one line must contain (besides the file's path)."""


def wav_cases(tmp: Path, speak: Callable[..., Path]) -> dict[str, WavCase]:
    sox = need("sox")
    speech = speak(REQUEST)
    voice, rate = read_wav(speech)
    rng = np.random.default_rng(7)

    empty = tmp / "empty.wav"
    empty.write_bytes(b"")
    truncated = tmp / "truncated.wav"
    truncated.write_bytes(b"RIFF")
    floats = tmp / "float.wav"
    alaw = tmp / "alaw.wav"
    eight = tmp / "eight-bit.wav"
    stereo = tmp / "stereo-48k.wav"
    for target, options in (
        (floats, ["-b", "32", "-e", "floating-point"]),
        (alaw, ["-b", "8", "-e", "a-law"]),
        (eight, ["-b", "8", "-e", "unsigned-integer"]),
        (stereo, ["-r", "48000", "-c", "2", "-b", "16"]),
    ):
        subprocess.run([sox, str(speech), *options, str(target)], check=True)

    ten_minutes = tmp / "ten-minutes.wav"
    lead = np.zeros(int(rate * (600 - len(voice) / rate)), np.float32)
    write_pcm(ten_minutes, np.concatenate([lead, voice]), rate)
    silence = write_pcm(tmp / "silence.wav", np.zeros(16000 * 5, np.float32), 16000)
    noise = write_pcm(
        tmp / "white-noise.wav", rng.normal(0, 0.3, 16000 * 10).astype(np.float32), 16000
    )
    clipped = write_pcm(tmp / "clipped.wav", voice * 12.0, rate)
    return {
        "empty": WavCase(empty, "reject", "the file is empty"),
        "truncated (4-byte RIFF)": WavCase(truncated, "reject", "truncated"),
        "32-bit float": WavCase(floats, "reject", "not PCM audio (floating-point samples)"),
        "a-law": WavCase(alaw, "reject", "not PCM audio (A-law)"),
        "8-bit PCM": WavCase(eight, "reject", "8-bit samples, not 16-bit"),
        "stereo 48 kHz": WavCase(stereo, "hear"),
        "10 minutes long": WavCase(ten_minutes, "hear"),
        "pure silence": WavCase(silence, "reject", "no speech found"),
        "white noise": WavCase(noise, "reject", "no speech found"),
        "clipped": WavCase(clipped, "ignore"),
    }


def judge(kind: str, case: WavCase, run: Run) -> str:
    """ "" when the product did the right thing, else what went wrong."""
    if "Traceback" in run.err:
        return f"{kind}: traceback\n{run.err}"
    if run.code < 0:
        return f"{kind}: killed after {run.seconds:.0f} s (hung)"
    if case.expect == "reject":
        if run.code != 2 or len(run.lines) != 1:
            return f"{kind}: exit {run.code}, stderr {run.lines}"
        line = run.lines[0]
        if str(case.path) not in line or case.words not in line:
            return f"{kind}: {line!r} does not name the file and say {case.words!r}"
        convertible = "PCM" in case.words or "bit" in case.words
        if convertible and ("sox" not in line or "-b 16" not in line):
            return f"{kind}: {line!r} does not say how to convert it"
        return ""
    if run.code != 0 or run.lines:
        return f"{kind}: exit {run.code}, stderr {run.lines}"
    result = json.loads(run.out)
    if case.expect == "hear":
        if result["intent"] != "story.start" or not result["wake"]:
            return f"{kind}: heard {result}"
        return ""
    if result["wake"] and result["intent"] not in ("none", "story.start"):
        return f"{kind}: a false request {result}"
    return ""


def test_bad_wav_files(
    tmp_path: Path, speak: Callable[..., Path], figure: Callable[[str, object], None]
) -> None:
    folder = tmp_path / "wavs"
    folder.mkdir()
    cases = wav_cases(folder, speak)
    before = digest(folder)
    failures: list[str] = []
    tracebacks = 0
    runs: dict[str, Run] = {}
    for kind, case in cases.items():
        run = companion("hear", str(case.path), "--json")
        runs[kind] = run
        tracebacks += "Traceback" in run.err
        problem = judge(kind, case, run)
        if problem:
            failures.append(problem)
    handled = len(cases) - len(failures)
    figure("bad WAV files handled", f"{handled}/{len(cases)}, {tracebacks} tracebacks")
    clipped = runs["clipped"]
    said = json.loads(clipped.out) if clipped.code == 0 else {"intent": clipped.err.strip()}
    figure("`hear` on clipped", f"{said.get('text')!r} → {said['intent']}, wake {said.get('wake')}")
    short = companion("hear", str(speak(REQUEST)), "--json")
    long = runs["10 minutes long"]
    grown = long.peak_mb - short.peak_mb
    size = cases["10 minutes long"].path.stat().st_size / 1e6
    figure(
        "10-minute WAV through `hear`",
        f"{long.seconds:.1f} s, peak memory +{grown:.0f} MB over a 3 s file (the file is "
        f"{size:.0f} MB)",
    )
    assert not failures, "\n".join(failures)
    assert grown < 15, f"peak memory grew by {grown:.0f} MB for a longer file"
    assert long.seconds < 60
    assert digest(folder) == before, "an input file was changed"


def test_endless_speech_is_cut_at_max_utterance(
    tmp_path: Path, figure: Callable[[str, object], None]
) -> None:
    rng = np.random.default_rng(3)
    noise = write_pcm(
        tmp_path / "babble.wav", rng.normal(0, 0.3, 16000 * 600).astype(np.float32), 16000
    )
    config = tmp_path / "c.toml"
    config.write_text("[listening]\nmax_utterance_s = 5\n")
    run = companion("hear", str(noise), "--json", "--config", str(config), timeout=60)
    said = json.loads(run.out) if run.code == 0 else {}
    figure(
        "10 minutes of loud noise through `hear` (max_utterance_s = 5)",
        f"{run.seconds:.1f} s, peak {run.peak_mb:.0f} MB, exit {run.code}, "
        f"{said.get('text')!r} → {said.get('intent')}, wake {said.get('wake')}",
    )
    assert "Traceback" not in run.err and run.code in (0, 2)
    if run.code == 0:
        assert said["intent"] == "none" or not said["wake"], said
    else:
        assert len(run.lines) == 1
    assert run.seconds < 30


def story_folder(tmp: Path) -> tuple[Path, dict[str, str]]:
    """A stories folder: two good stories and one bad file of each kind (name → kind)."""
    folder = tmp / "stories"
    folder.mkdir()
    for story_id in GOOD_STORIES:
        shutil.copy(ROOT / "stories" / f"{story_id}.toml", folder)
    good = (ROOT / "stories" / f"{GOOD_STORIES[0]}.toml").read_text()

    def with_id(new_id: str) -> str:
        return re.sub(r'(?m)^id = ".*"$', f'id = "{new_id}"', good, count=1)

    bad = {
        "malformed.toml": "malformed TOML",
        "huge.toml": "a 100 MB file",
        "passwd.toml": "id ../../etc/passwd",
        "absolute.toml": "an absolute path as id",
        "nul.toml": "NUL bytes",
        "long-id.toml": "a 300-character id",
        "outside.toml": "a symlink leading outside",
        "folder.toml": "a folder named like a story",
        "latin1.toml": "not UTF-8",
    }
    (folder / "malformed.toml").write_text(good.replace('title = "', 'title = "unclosed\n', 1))
    with (folder / "huge.toml").open("wb") as handle:
        handle.write(good.encode())
        handle.truncate(100 * 1024 * 1024)
    (folder / "passwd.toml").write_text(with_id("../../etc/passwd"))
    (folder / "absolute.toml").write_text(with_id("/etc/passwd"))
    raw = good.encode()
    (folder / "nul.toml").write_bytes(raw[:300] + b"\x00\x00" + raw[300:])
    (folder / "long-id.toml").write_text(with_id("a" * 300))
    (folder / "outside.toml").symlink_to("/etc/passwd")
    (folder / "folder.toml").mkdir()
    (folder / "latin1.toml").write_bytes(good.replace("Mila", "Ren\xe9e").encode("latin-1"))
    return folder, bad


def test_bad_story_files_are_skipped_and_the_good_ones_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, figure: Callable[[str, object], None]
) -> None:
    folder, bad = story_folder(tmp_path)
    before = digest(folder)
    monkeypatch.setenv("COMPANION_STORIES_DIR", str(folder))

    stories, problems = load_library(folder, log=False)
    assert sorted(s.id for s in stories) == sorted(GOOD_STORIES)
    pattern = re.compile(r"^stories/([^:/]+\.toml):(\d+): \S")
    named = {m[1] for p in problems if (m := pattern.match(p))}
    assert len(problems) == len(bad) and named == set(bad), problems
    assert all(len(p) < 200 for p in problems), [p for p in problems if len(p) >= 200]

    run = companion("stories", "--json", timeout=30)
    listed = [s["id"] for s in json.loads(run.out)] if run.code == 0 else []
    skipped = {m[1] for line in run.lines if (m := pattern.match(line))}
    figure(
        "bad story files skipped with a file:line line",
        f"{len(skipped & set(bad))}/{len(bad)}, good stories kept "
        f"{len(set(listed) & set(GOOD_STORIES))}/{len(GOOD_STORIES)}, {run.seconds:.1f} s",
    )
    assert run.code == 0 and "Traceback" not in run.err
    assert sorted(listed) == sorted(GOOD_STORIES)
    assert run.lines == problems, "each skipped file must be one line on stderr, once"
    assert run.seconds < 20 and run.peak_mb < 300, "the 100 MB file must not be read"
    assert digest(folder) == before


@pytest.mark.parametrize("story_id", ["../../etc/passwd", "/etc/passwd", "a" * 300])
def test_telling_a_path_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, story_id: str
) -> None:
    folder, _ = story_folder(tmp_path)
    monkeypatch.setenv("COMPANION_STORIES_DIR", str(folder))
    run = companion("tell", story_id, "--text", timeout=60)
    assert run.code == 2 and "Traceback" not in run.err
    assert len(run.lines) == 1, run.lines
    line = run.lines[0]
    assert line.startswith("companion: ") and "is not a story id" in line
    assert story_id[:30] in line and len(line) < 200
    assert "companion stories" in line and run.out == ""
