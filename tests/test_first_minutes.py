"""The first ten minutes: a routine with no file written, `init`, and commands that explain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from companion.bench import NIGHT_ANSWERS, answers_wav


def fresh_env(tmp_path: Path) -> dict[str, str]:
    """An empty home: no config anywhere, fresh state."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "NOTIFY_SOCKET"))}
    env |= {"HOME": str(tmp_path / "home"), "COMPANION_STATE_DIR": str(tmp_path / "state")}
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def companion(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "companion", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_with_no_config_there_is_a_routine_every_night(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    shown = companion(env, "schedule", "--days", "7", "--json")
    assert shown.returncode == 0, shown.stderr
    nights = json.loads(shown.stdout)
    assert len(nights) == 7
    for night in nights:
        assert night["bedtime"].endswith("19:30:00" + night["bedtime"][19:])
        assert night["mode"] == "shared"
        assert night["wind_down_at"][11:16] == "19:10"  # a 20-minute wind-down
    plain = companion(env, "schedule", "--days", "2")
    assert plain.stdout.startswith("plan from the built-in defaults")
    assert "companion init" in plain.stdout and "bedtime 19:30" in plain.stdout


def test_init_writes_a_checked_config_and_never_overwrites(tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    made = companion(env, "init", "--family", "Mila:6,Leo:4", "--bedtime", "19:15")
    assert made.returncode == 0, made.stderr
    path = tmp_path / "home" / ".config" / "companion" / "companion.toml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Luma's config") and "# the grown-ups" in text.lower()
    data = tomllib.loads(text)
    assert data["family"]["children"] == [{"name": "Mila", "age": 6}, {"name": "Leo", "age": 4}]
    assert set(data["bedtime"].values()) == {"19:15"}
    assert companion(env, "check-config").stdout.strip() == f"{path}: ok"
    plan = companion(env, "schedule", "--days", "1")
    assert f"plan from {path}" in plan.stdout and "bedtime 19:15" in plan.stdout
    again = companion(env, "init", "--bedtime", "20:00")
    assert again.returncode != 0 and "already exists" in again.stderr
    assert path.read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("--family", "Mila"), "--family: 'Mila' is not NAME:AGE"),
        (("--family", "Mila:40"), "--family: Mila's age must be from 2 to 14"),
        (("--bedtime", "7pm"), '--bedtime: "7pm" is not a time'),
    ],
)
def test_init_mistakes_are_one_line_and_leave_nothing(
    tmp_path: Path, args: tuple[str, ...], problem: str
) -> None:
    env = fresh_env(tmp_path)
    done = companion(env, "init", *args)
    assert done.returncode != 0 and problem in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "home" / ".config" / "companion" / "companion.toml").exists()


def test_stories_shows_its_columns(tmp_path: Path) -> None:
    shown = companion(fresh_env(tmp_path), "stories")
    header, *rows = shown.stdout.splitlines()
    assert header.split() == ["ID", "MIN", "AGES", "SEED", "ASKS", "CHOICES", "TITLE"]
    assert len(rows) >= 10
    for row in rows:
        cells = row.split()
        assert cells[3].endswith(".txt") and int(cells[4]) >= 3 and int(cells[5]) >= 1


def test_say_without_out_needs_a_speaker_and_says_so(tmp_path: Path) -> None:
    env = fresh_env(tmp_path) | {"PULSE_SERVER": "unix:/nonexistent", "AUDIODEV": "none"}
    done = companion(env, "say", "hello")
    if done.returncode == 0:
        pytest.skip("this machine has a speaker")
    assert len(done.stderr.strip().splitlines()) == 1 and "speaker" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_rehearsed_night_runs_with_no_config(voice, tmp_path: Path) -> None:
    env = fresh_env(tmp_path)
    wav = answers_wav(voice, NIGHT_ANSWERS, tmp_path / "answers.wav")
    out = tmp_path / "night.wav"
    done = companion(
        env, "run", "--now", "--input-wav", str(wav), "--output-wav", str(out), timeout=900
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "built-in defaults" in done.stderr or "no config file" in done.stderr
    journal = companion(env, "journal").stdout
    assert "###" in journal  # the night's story was told and kept
    assert out.stat().st_size > 16_000 * 2 * 60  # more than a minute of the companion speaking
