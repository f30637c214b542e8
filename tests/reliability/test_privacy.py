"""Privacy: a whole night with no network, no audio written but the WAV asked for, and a deleted
journal entry gone from every byte of the database.

The network is blocked inside Python (socket.socket, socket.create_connection and
socket.getaddrinfo record the attempt and fail). Sockets opened by C libraries directly, such as
the AF_UNIX sockets of the audio libraries, are out of that scope; `unshare -n` (a network
namespace with no network at all) covers them where it is available.

There is no setting to keep recordings: the companion never writes audio unless asked for a WAV
(`--output-wav`, `say --out`), and that is the intended default.
"""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from companion.bench import NIGHT_ANSWERS, NIGHT_CONFIG, answers_wav
from companion.config import Child, Config, Family
from companion.host import Host, tell_text
from companion.messages import Intent, Transcript
from companion.state.store import Store
from companion.storytelling.format import Ask, Choose, load_library
from tests.conftest import daytime

ROOT = Path(__file__).resolve().parents[2]
BLOCK_NETWORK = '''\
"""Loaded at start-up by the privacy test: any network use is recorded, then refused."""
import os
import socket

_LOG = os.environ["COMPANION_TEST_NET_LOG"]


def _record(what, detail):
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(f"{what} {detail!r}\\n")
    raise OSError(101, "network blocked by the privacy test")


class _BlockedSocket(socket.socket):
    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        _record("socket", (family, type, fileno))


def _create_connection(address, *args, **kwargs):
    _record("create_connection", address)


def _getaddrinfo(host, *args, **kwargs):
    _record("getaddrinfo", host)


socket.socket = _BlockedSocket
socket.create_connection = _create_connection
socket.getaddrinfo = _getaddrinfo
'''
PCM_LIMIT = 64 * 1024


def night_env(folder: Path) -> dict[str, str]:
    """Fresh state, cache, temp and home folders; the network blocker on PYTHONPATH."""
    blocker = folder / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(BLOCK_NETWORK, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "NOTIFY_SOCKET"))}
    for name in ("state", "cache", "tmp", "home"):
        (folder / name).mkdir()
    env |= {
        "COMPANION_STATE_DIR": str(folder / "state"),
        "COMPANION_CACHE_DIR": str(folder / "cache"),
        "TMPDIR": str(folder / "tmp"),
        "HOME": str(folder / "home"),
        "PYTHONPATH": str(blocker),
        "COMPANION_TEST_NET_LOG": str(folder / "network.log"),
    }
    return env


def rehearse(voice, folder: Path, prefix: tuple[str, ...] = ()) -> tuple[dict, float]:
    """`companion run --now` on a whole shared night in a fresh process; its env and seconds."""
    folder.mkdir(parents=True)
    env = night_env(folder)
    (folder / "in").mkdir()
    (folder / "out").mkdir()
    wav = answers_wav(voice, NIGHT_ANSWERS, folder / "in" / "answers.wav")
    (folder / "companion.toml").write_text(NIGHT_CONFIG, encoding="utf-8")
    command = [*prefix, sys.executable, "-m", "companion", "run", "--now", "--mode", "shared"]
    command += ["--config", str(folder / "companion.toml"), "--input-wav", str(wav)]
    command += ["--output-wav", str(folder / "out" / "night.wav")]
    started = time.monotonic()
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=900, cwd=folder / "tmp"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return env, time.monotonic() - started


@pytest.fixture(scope="module")
def night(voice, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, float]:
    folder = tmp_path_factory.mktemp("privacy") / "night"
    env, seconds = rehearse(voice, folder)
    return folder, env, seconds


def test_the_blocker_catches_network_use(tmp_path: Path) -> None:
    """The check can fail: a process that does try the network is caught."""
    env = night_env(tmp_path)
    probe = "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), 1)\n"
    probe += "except OSError:\n    pass\nsocket.getaddrinfo('example.com', 80)\n"
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert done.returncode != 0 and "blocked by the privacy test" in done.stderr
    log = (tmp_path / "network.log").read_text(encoding="utf-8")
    assert "create_connection" in log and "getaddrinfo" in log


@pytest.mark.slow
def test_a_whole_night_makes_no_network_attempt(
    night, figure: Callable[[str, object], None]
) -> None:
    folder, _, seconds = night
    log = folder / "network.log"
    attempts = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    journal = Store(folder / "state" / "companion.db").journal()
    figure(
        "network attempts during a whole rehearsed night (Python sockets)",
        f"{len(attempts)} ({seconds:.0f} s night, {len(journal)} story in the journal)",
    )
    assert not attempts, attempts
    assert len(journal) == 1


@pytest.mark.slow
def test_a_night_without_any_network(
    voice, tmp_path: Path, figure: Callable[[str, object], None]
) -> None:
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-n", "true"]).returncode != 0:
        pytest.skip("unshare -n is not available here (needs root or user namespaces)")
    _, seconds = rehearse(voice, tmp_path / "night", prefix=(unshare, "-n"))
    from companion.audio.wav import read_wav

    said, rate = read_wav(tmp_path / "night" / "out" / "night.wav")
    journal = Store(tmp_path / "night" / "state" / "companion.db").journal()
    figure(
        "a whole night in a network namespace with no network (unshare -n)",
        f"completed in {seconds:.0f} s, {len(said) / rate:.0f} s said, {len(journal)} story",
    )
    assert len(said) / rate > 60 and len(journal) == 1


def audio_like(path: Path) -> str | None:
    """Why a file looks like audio: a RIFF/WAVE header, or a large raw blob."""
    data = path.read_bytes()
    if re.search(rb"RIFF....WAVE", data, re.DOTALL):
        return "RIFF/WAVE header"
    if len(data) > PCM_LIMIT and not (path.suffix == ".onnx" and "cache" in path.parts):
        return f"{len(data) // 1024} KB blob"
    return None


@pytest.mark.slow
def test_no_audio_is_written_but_the_wav_asked_for(
    night, figure: Callable[[str, object], None]
) -> None:
    folder, env, _ = night
    scanned: list[Path] = []
    for name in ("COMPANION_STATE_DIR", "COMPANION_CACHE_DIR", "TMPDIR", "HOME"):
        scanned += [p for p in Path(env[name]).rglob("*") if p.is_file()]
    found = {str(p.relative_to(folder)): why for p in scanned if (why := audio_like(p))}
    size = sum(p.stat().st_size for p in scanned)
    outputs = sorted(p.name for p in (folder / "out").iterdir())
    figure(
        "audio written outside the WAV asked for",
        f"{len(found)} files (scanned {len(scanned)} files, {size // 1024} KB in "
        "state, cache, TMPDIR and HOME; no opt-in to keep recordings exists)",
    )
    assert not found, found
    assert outputs == ["night.wav"]
    assert audio_like(folder / "out" / "night.wav") == "RIFF/WAVE header"
    assert any(p.suffix == ".db" for p in scanned)


NAMES = ("Zorblewick", "Quillifant", "Mirabunda")
HEROES = ("plimbertop the brave", "grizzlemore fendle", "vasquinella")


def told(store: Store, library, name: str, seed: int) -> None:
    """One story from stories/, with a distinctive name among the answers."""
    story = library["s000-mila-and-the-secret-dream-door"]
    chosen = {"colour": "purple", "animal": "tiger", "name": name, "feeling": "happy"}
    answers = [
        chosen.get(s.kind, "the moon") if isinstance(s, Ask) else s.options[0].label
        for s in story.steps
        if isinstance(s, (Ask, Choose))
    ]
    host = Host(
        Config(family=Family((Child("Mila", 6),))),
        list(library.values()),
        store,
        random.Random(seed),
        clock=daytime,
    )
    feed = iter(answers)
    tell_text(host, story, lambda: next(feed, None), io.StringIO())


def made_up(store: Store, hero: str, seed: int) -> None:
    host = Host(Config(), [], store, random.Random(seed), clock=daytime)
    host.respond(Intent("night.freeform", 1), Transcript("", 1, "t"))
    for text in (hero, "the moon", "a shiny key", "owl", "they had cocoa"):
        host.respond(Intent("none", 0), Transcript(text, 1, "t"))


def database_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes().lower() for p in folder.iterdir() if ".db" in p.name}


def test_a_deleted_entry_is_gone_from_every_file(
    tmp_path: Path, figure: Callable[[str, object], None]
) -> None:
    stories, _ = load_library(ROOT / "stories")
    library = {s.id: s for s in stories}
    store = Store(tmp_path / "companion.db")
    reader = Store(tmp_path / "companion.db")  # a parent reading the journal meanwhile
    for i, (name, hero) in enumerate(zip(NAMES, HEROES, strict=True)):
        told(store, library, name, i)
        made_up(store, hero, i)
    entries = store.journal()
    assert len(entries) == 6 and reader.journal() == entries
    gone = [e for e in entries if NAMES[1] in e.text or HEROES[1] in e.text.lower()]
    assert len(gone) == 2 and len(gone[0].text) > 4000
    for entry in gone:
        assert store.delete_entry(entry.id)
    open_files = database_bytes(tmp_path)
    store.close()
    reader.close()
    closed = database_bytes(tmp_path)
    words = [NAMES[1].lower().encode(), HEROES[1].encode()]
    left = [
        (f, w) for files in (open_files, closed) for f, b in files.items() for w in words if w in b
    ]
    kept = [
        w
        for w in (NAMES[0], NAMES[2], HEROES[0], HEROES[2])
        if w.lower().encode() not in closed["companion.db"]
    ]
    figure(
        "deleted journal entries left in the database files (.db, -wal, -shm)",
        f"{len(left)} traces of {len(gone)} deleted entries (before and after close); "
        f"{len(entries) - len(gone)} other entries intact",
    )
    assert not left, left
    assert not kept, kept


def companion(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "companion", *args], capture_output=True, text=True, env=env
    )


def test_parents_delete_an_entry_from_the_command_line(tmp_path: Path) -> None:
    store = Store(tmp_path / "companion.db")
    for i, hero in enumerate(HEROES):
        made_up(store, hero, i)
    ids = [e.id for e in store.journal()]
    store.close()
    env = dict(os.environ, COMPANION_STATE_DIR=str(tmp_path))
    shown = companion("journal", env=env).stdout
    assert all(f"entry {i}" in shown for i in ids)
    deleted = companion("journal", "--delete", str(ids[1]), env=env)
    assert deleted.returncode == 0 and f"entry {ids[1]} deleted" in deleted.stdout
    shown = companion("journal", env=env).stdout.lower()  # a made-up name gets its capitals
    assert HEROES[1] not in shown and HEROES[0] in shown and HEROES[2] in shown
    assert all(HEROES[1].encode() not in b for b in database_bytes(tmp_path).values())
    missing = companion("journal", "--delete", "999", env=env)
    assert missing.returncode == 2 and "no journal entry 999" in missing.stderr
