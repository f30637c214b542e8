"""Killed at random: `kill -9` the real process at seeded random moments of rehearsed and scheduled
nights, restart it on the same state each time, and check what survived."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from companion.bench import answers_wav
from companion.routine.scheduler import done_key
from companion.state.store import Store
from tests.conftest import ROOT, SHORT_STORY

KILLS = 50
SEED = 2026_11_22
FIRST_KILL_S = 1.0
"""Kills land between this and the length of a whole night, measured by a first night not killed."""
STORY_ID = "owl-and-the-door"
ANSWERS = ("Purple.", "A tiger.", "Sail.", "Happy.")
WEEK = "\n".join(
    f'{d} = "19:30"'
    for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
)
CONFIG = f"""\
timezone = "Europe/London"
[family]
children = [{{ name = "Mila", age = 6 }}]
[bedtime]
{WEEK}
[routine]
steps = ["story"]
[sleep_sounds]
minutes = 0.2
fade_minutes = 0.1
"""
FIRST_NIGHT = date(2026, 11, 23)
TODAY = datetime.now(ZoneInfo("Europe/London")).date()
SAVED = re.compile(r"journal entry (\d+) saved")
SCHEDULED_KILLS = 20
SCHEDULED_NIGHTS = 28
SCHEDULED_NIGHT = r"""
import logging, random, sys, time
from datetime import date, timedelta
from pathlib import Path

from companion.config import load_config
from companion.dialog.intents import classify
from companion.host import Host
from companion.messages import Transcript
from companion.paths import data_dir, state_dir
from companion.routine.plan import night_plan
from companion.routine.scheduler import RoutineScheduler
from companion.state.store import Store
from companion.storytelling.format import load_library

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
config = load_config(Path(sys.argv[1]))
first = date.fromisoformat(sys.argv[2])
store = Store(state_dir() / "companion.db")
stories, _ = load_library(data_dir("stories"))
for i in range(int(sys.argv[3])):
    plan = night_plan(config, first + timedelta(days=i))
    now = [plan.wind_down_at + timedelta(minutes=2)]
    host = Host(config, stories, store, random.Random(i), clock=lambda: now[0])
    verdict = RoutineScheduler(config, store, host.post_night, lambda: now[0]).fire()
    print(f"night {plan.night} {verdict}", file=sys.stderr, flush=True)
    answers = iter(["everyone", "snow", "purple", "a tiger", "sail", "happy"])
    reply = host.tick()
    for _ in range(500):
        if reply is not None and reply.expect is not None:
            time.sleep(0.1)
            text = next(answers, None)
            heard = Transcript(text or "", 1.0, "text")
            reply = host.respond(classify(heard), heard) if text else host.silence()
            continue
        if host.night is None:
            break
        now[0] += timedelta(minutes=1)
        reply = host.tick()
    print(f"night {plan.night} over", file=sys.stderr, flush=True)
"""


def _folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A night's files, and the environment pointing state, cache and stories into the folder."""
    (tmp_path / "stories").mkdir()
    (tmp_path / "stories" / f"{STORY_ID}.toml").write_text(SHORT_STORY, encoding="utf-8")
    (tmp_path / "companion.toml").write_text(CONFIG, encoding="utf-8")
    env = dict(
        os.environ,
        COMPANION_STATE_DIR=str(tmp_path / "state"),
        COMPANION_CACHE_DIR=str(tmp_path / "cache"),
        COMPANION_STORIES_DIR=str(tmp_path / "stories"),
        PYTHONPATH=str(ROOT),
    )
    return tmp_path / "companion.toml", env


def _run(command: list[str], env: dict[str, str], log: Path, kill_at: float | None) -> bool:
    """Run the command with its log in `log`; `kill -9` it after `kill_at` s. True if killed."""
    with log.open("w") as err:
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err
        )
        try:
            process.wait(timeout=kill_at if kill_at is not None else 300)
            assert process.returncode == 0, log.read_text()[-800:]
            return False
        except subprocess.TimeoutExpired:
            if kill_at is None:
                raise
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return True


def _state(folder: Path) -> tuple[bool, set[int], tuple[int, int] | None, list[str]]:
    """Open the state as a restarted companion would: integrity, journal ids, story progress."""
    store = Store(folder / "companion.db")
    try:
        ids = {e.id for e in store.journal()}
        saved = store.load_progress(STORY_ID)
        progress = (saved["step"], len(saved["exchanges"])) if saved else None
        days = [TODAY + timedelta(days=i) for i in range(-1, 8)]
        facts = [done_key(d) for d in days if store.get_fact(done_key(d)) is not None]
        return store.integrity_ok(), ids, progress, facts
    finally:
        store.close()


def _phase(log: str) -> str:
    if "journal entry" in log:
        return "after the story"
    if "routine step: story" in log:
        return "in the story"
    return "starting up"


@pytest.mark.slow
@pytest.mark.parametrize(
    "kills",
    [pytest.param(20, id="20-kills"), pytest.param(KILLS, id="50-kills", marks=pytest.mark.full)],
)
def test_killed_at_random(
    voice, tmp_path: Path, figure: Callable[[str, object], None], kills: int
) -> None:
    config, env = _folder(tmp_path)
    answers_wav(voice, ANSWERS, tmp_path / "answers.wav", gap_s=2.0)
    state = tmp_path / "state"
    command = [sys.executable, "-m", "companion", "run", "--now", "--mode", "shared"]
    command += ["--config", str(config), "--input-wav", str(tmp_path / "answers.wav")]
    command += ["--output-wav", str(tmp_path / "night.wav")]
    tell = [sys.executable, "-m", "companion", "tell", STORY_ID, "--text", "--config", str(config)]
    rng = random.Random(SEED)
    reported: set[int] = set()
    lost = integrity_failures = doubled = went_back = resumed = 0
    phases: Counter[str] = Counter()
    started = time.monotonic()
    usual = time.monotonic()
    _run(command, env, tmp_path / "whole.log", None)
    usual = time.monotonic() - usual
    for kill in range(kills + 1):
        before = _state(state)
        kill_at = rng.uniform(FIRST_KILL_S, usual) if kill < kills else None
        log = tmp_path / f"run{kill}.log"
        killed = _run(command, env, log, kill_at)
        text = log.read_text()
        if killed:
            phases[_phase(text)] += 1
        reported |= {int(n) for n in SAVED.findall(text)}
        ok, ids, progress, facts = _state(state)
        integrity_failures += not ok
        lost += len(reported - ids)
        new = ids - before[1]
        doubled += len(new) > 1
        if not new and before[2] is not None and (progress is None or progress < before[2]):
            went_back += 1
        assert facts == [], f"a rehearsal marked a night as done: {facts}"
        if progress is not None and kill % 3 == 0:
            told = subprocess.run(
                tell, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
            )
            assert told.returncode == 0, told.stderr
            resumed += told.stdout.startswith("Last time")
            assert told.stdout.startswith("Last time"), told.stdout
    files = sorted(p.name for p in state.iterdir())
    leftovers = sorted(p.name for p in (tmp_path / "cache").rglob("*.part"))
    elapsed = time.monotonic() - started
    figure(
        "killed at random",
        f"{kills} kills at 1-{usual:.0f} s ({', '.join(f'{n} {p}' for p, n in sorted(phases.items()))}): "
        f"{lost} lost entries of {len(reported)} reported saved, {integrity_failures} integrity "
        f"failures, {doubled} doubled stories, {went_back} stories gone back, {resumed} resumed "
        f'with "Last time", 0 rehearsals marking a night done; state files {files}, '
        f"{len(leftovers)} half-written cache files; {elapsed:.0f} s",
    )
    assert lost == 0 and integrity_failures == 0 and doubled == 0 and went_back == 0
    assert set(files) <= {"companion.db", "companion.db-wal", "companion.db-shm"}
    assert len(reported) >= 2 and resumed >= max(1, kills // 20), (reported, resumed)


def test_scheduled_nights_killed_and_restarted(
    tmp_path: Path, figure: Callable[[str, object], None]
) -> None:
    """The scheduled path (injected clock): four weeks of nights, killed mid-night and restarted."""
    config, env = _folder(tmp_path)
    config.write_text(CONFIG.replace('steps = ["story"]\n', ""))
    command = [sys.executable, "-c", SCHEDULED_NIGHT, str(config), FIRST_NIGHT.isoformat()]
    command.append(str(SCHEDULED_NIGHTS))
    rng = random.Random(SEED + 1)
    runs: Counter[str] = Counter()
    reported: set[int] = set()
    cut = 0
    for kill in range(SCHEDULED_KILLS + 1):
        log = tmp_path / f"scheduled{kill}.log"
        _run(command, env, log, rng.uniform(1.0, 5.0) if kill < SCHEDULED_KILLS else None)
        text = log.read_text()
        runs.update(re.findall(r"night (\S+) run", text))
        ran = re.findall(r"night (\S+) run", text)
        cut += sum(f"night {night} over" not in text for night in ran)
        reported |= {int(n) for n in SAVED.findall(text)}
        ok, ids, _, _ = _state(tmp_path / "state")
        assert ok and reported <= ids
    doubled = sum(n > 1 for n in runs.values())
    figure(
        "killed at random (scheduled)",
        f"{SCHEDULED_KILLS} kills over {SCHEDULED_NIGHTS} scheduled nights: {len(runs)}/"
        f"{SCHEDULED_NIGHTS} nights ran, {doubled} "
        f"doubled, {cut} cut short by a kill (not continued after the restart), "
        f"{len(reported)} journal entries reported saved, 0 lost",
    )
    assert len(runs) == SCHEDULED_NIGHTS and doubled == 0 and cut >= 3, (runs, cut)
    store = Store(tmp_path / "state" / "companion.db")
    nights = [FIRST_NIGHT + timedelta(days=i) for i in range(SCHEDULED_NIGHTS)]
    assert all(store.get_fact(done_key(night)) for night in nights)
    store.close()
