"""Telling stories in text: slots, defaults, choices, safety, turns, resume, journal, co-creation."""

from __future__ import annotations

import io
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from companion.config import Child, Config, Family
from companion.host import Host, tell_text
from companion.messages import Intent, Line, Transcript
from companion.state.store import Store, journal_markdown
from companion.storytelling.engine import Storyteller, pick_option
from companion.storytelling.format import Ask, Choose, load_library
from companion.storytelling.realise import settle
from companion.storytelling.safety import WordSafety, answer_for
from tests.conftest import daytime

ROOT = Path(__file__).resolve().parent.parent
STORY_ID = "s000-mila-and-the-secret-dream-door"


@pytest.fixture(scope="module")
def library():
    stories, _ = load_library(ROOT / "stories")
    return {s.id: s for s in stories}


def config(*names: str, blocked: tuple[str, ...] = ()) -> Config:
    from companion.config import SafetySettings

    children = tuple(Child(n, 6) for n in names) or (Child("Mila", 6),)
    return Config(family=Family(children), safety=SafetySettings(blocked))


def make_host(library, tmp_path: Path, seed: int) -> Host:
    """A host for Mila with the whole library, its own state and a fixed afternoon clock."""
    return Host(
        config("Mila"),
        list(library.values()),
        Store(tmp_path / "s.db"),
        random.Random(seed),
        clock=daytime,
    )


def run_text(host: Host, story_id: str, answers: list[str]) -> str:
    out = io.StringIO()
    feed = iter(answers)
    tell_text(host, host.stories[story_id], lambda: next(feed, None), out)
    return out.getvalue()


def answers_for(story, colour="purple", animal="tiger", name="Pip") -> list[str]:
    chosen = {
        "colour": colour,
        "animal": animal,
        "name": name,
        "place": "the moon",
        "object": "a teddy",
        "sound": "a soft hum",
        "feeling": "happy",
        "free": "a kite",
    }
    out = []
    for step in story.steps:
        if isinstance(step, Ask):
            out.append(chosen[step.kind])
        elif isinstance(step, Choose):
            out.append(step.options[-1].label)
    return out


def test_scripted_session_fills_every_slot(library, tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    host = Host(config("Mila"), list(library.values()), store, random.Random(1), clock=daytime)
    for story in library.values():
        answers = answers_for(story)
        run_text(host, story.id, answers)
        entry = store.journal()[-1]
        assert entry.story_id == story.id
        given = [
            a
            for a, s in zip(
                answers, [s for s in story.steps if isinstance(s, (Ask, Choose))], strict=True
            )
            if isinstance(s, Ask)
        ]
        for step, answer in zip([s for s in story.steps if isinstance(s, Ask)], given, strict=True):
            value = answer_for(step.kind, answer, WordSafety())
            assert value, (story.id, step.slot, answer)
            value = settle(step.kind, answer, value, "Mila")
            assert value in entry.text, (story.id, step.slot, value)
            assert entry.exchanges and any(what == value for _, what in entry.exchanges)
        assert "{" not in entry.text and "}" not in entry.text


def test_answers_go_into_the_story(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path, 2)
    output = run_text(host, STORY_ID, ["purple", "a tiger", "Pip", "sail on the sleepy lake"])
    assert "The door was purple" in output or "purple door" in output
    assert "tiger" in output and "Pip" in output
    chosen = library[STORY_ID].steps
    choice = next(s for s in chosen if isinstance(s, Choose))
    lake = next(o for o in choice.options if "lake" in o.label)
    assert lake.paragraphs[0].split("{")[0][:25] in output
    assert "Goodnight" in output or "goodnight" in output


def test_silence_asks_again_then_takes_a_default(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path, 3)
    output = run_text(host, STORY_ID, [""] * 12)
    first = next(s for s in library[STORY_ID].steps if isinstance(s, Ask))
    assert "Let me ask again." in output
    assert any(f"... {d}" in output for d in first.defaults)
    entry = host.store.journal()[-1]
    assert any(d in entry.text for d in first.defaults)


def test_unsafe_answers_are_never_spoken_nor_stored(library, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    host = Host(
        config("Mila", blocked=("bogey",)), list(library.values()), Store(db), random.Random(4)
    )
    rude = ["sh1t", "f u c k", "bogey", "zombie blood"]
    output = run_text(host, STORY_ID, [*rude, "first", "", ""])
    for word in ("sh1t", "shit", "f u c k", "fuck", "bogey", "zombie", "blood"):
        assert word not in output.lower().replace("> ", ""), word
    host.store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for word in (b"sh1t", b"f u c k", b"bogey", b"zombie", b"blood"):
        assert word not in raw, word
    assert "gentle and kind" in output


def test_choices_follow_the_answer() -> None:
    from companion.storytelling.format import Option

    step = Choose(
        "Which way?",
        (
            Option("fly over the sock hills", (), ("a",)),
            Option("sail on the sleepy lake", ("boat",), ("b",)),
            Option("visit the singing trees", (), ("c",)),
        ),
    )
    assert pick_option(step, "let's sail") == 1
    assert pick_option(step, "the boat") == 1
    assert pick_option(step, "the trees please") == 2
    assert pick_option(step, "the first one") == 0
    assert pick_option(step, "banana") is None


def test_shared_night_takes_turns_by_name(library, tmp_path: Path) -> None:
    host = Host(
        config("Mila", "Leo"),
        list(library.values()),
        Store(tmp_path / "s.db"),
        random.Random(5),
        listeners=("Mila", "Leo", "Grandpa Bryan"),
    )
    output = run_text(host, STORY_ID, ["red", "owl", "Pip", "first"])
    asked = [line.removeprefix("> ") for line in output.splitlines() if line.rstrip().endswith("?")]
    names = ["Mila", "Leo", "Grandpa Bryan"]
    for question, name in zip(asked[:3], names, strict=True):
        assert question.endswith(f", {name}?") or question.startswith(f"{name},"), question
    who = [w for w, _ in host.store.journal()[-1].exchanges if w != "Luma"]
    assert who[:3] == ["Mila", "Leo", "Grandpa Bryan"]


def test_story_control_words_at_a_question(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path, 6)
    reply = host.start_story(library[STORY_ID])
    question = reply.lines[-1]
    again = host.respond(Intent("none", 0), Transcript("say that again", 1, "text"))
    assert again.lines[-1] == question
    stopped = host.respond(Intent("none", 0), Transcript("stop", 1, "text"))
    assert stopped.expect is None and "stop" in stopped.text().lower()
    assert host.store.unfinished() == [STORY_ID]


def test_narration_slows_and_softens_towards_the_end(library) -> None:
    teller = Storyteller(library[STORY_ID], ("Mila",), rng=random.Random(7))
    paces = []
    while True:
        segment = teller.advance()
        paces += [(n.rate, n.volume) for n in segment.narration]
        if segment.finished:
            break
        teller.answer("")
        teller.answer("")
    assert paces[0] == (1.0, 1.0)
    assert paces[-1][0] < 0.9 and paces[-1][1] < 0.8
    assert all(a[0] >= b[0] for a, b in itertools.pairwise(paces))


def test_freeform_same_answers_different_stories(tmp_path: Path) -> None:
    texts = []
    for seed in (11, 12):
        host = Host(
            config("Mila"), [], Store(tmp_path / f"f{seed}.db"), random.Random(seed), clock=daytime
        )
        reply = host.respond(Intent("night.freeform", 1), Transcript("", 1, "text"))
        for answer in ["a little dragon", "the moon", "a shiny key", "owl", "they had cocoa"]:
            reply = host.respond(Intent("none", 0), Transcript(answer, 1, "text"))
        assert reply.expect is None
        entry = host.store.journal()[-1]
        assert entry.mode == "freeform"
        for word in ("little dragon", "moon", "shiny key", "owl", "they had cocoa"):
            assert word in entry.text, word
        texts.append(entry.text)
    assert texts[0] != texts[1]


def test_journal_markdown_shows_who_said_what(library, tmp_path: Path) -> None:
    store = Store(tmp_path / "j.db")
    host = Host(config("Mila"), list(library.values()), store, random.Random(9), clock=daytime)
    run_text(host, STORY_ID, ["green", "owl", "Pip", "first"])
    md = journal_markdown(store.journal(nights=1))
    assert md.startswith("# Bedtime journal")
    assert "### Mila and the Secret Dream Door" in md
    assert "- **Mila:** green" in md
    entry_id = store.journal()[-1].id
    assert store.delete_entry(entry_id)
    store.close()
    assert b"Mila and the Secret Dream Door" not in (tmp_path / "j.db").read_bytes()


def test_resume_after_kill_9(tmp_path: Path) -> None:
    env = dict(os.environ, COMPANION_STATE_DIR=str(tmp_path))
    cmd = [sys.executable, "-m", "companion", "tell", STORY_ID, "--text"]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    assert proc.stdin and proc.stdout
    proc.stdin.write("purple\n")
    proc.stdin.flush()
    seen = ""
    deadline = time.monotonic() + 60
    while "animal" not in seen and time.monotonic() < deadline:
        seen += proc.stdout.readline()
    proc.stdin.write("tiger\n")
    proc.stdin.flush()
    while "What should Mila call" not in seen and time.monotonic() < deadline:
        seen += proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    again = subprocess.run(
        cmd, input="Pip\nfirst\n", capture_output=True, text=True, env=env, timeout=60
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("Last time, in Mila and the Secret Dream Door:")
    assert "Pip" in again.stdout
    journal = subprocess.run(
        [sys.executable, "-m", "companion", "journal"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "purple" in journal and "tiger" in journal and "Pip" in journal
    store = Store(tmp_path / "companion.db")
    assert store.integrity_ok() and store.unfinished() == []


def test_line_objects_carry_pace() -> None:
    assert Line("x", 0.9, 0.8).rate == 0.9


def test_whole_sentence_answers_go_into_the_story(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path, 12)
    said = ["Um, it was purple.", "I think it was a tiger.", "Her name is Pip.", "Let's sail!"]
    output = run_text(host, STORY_ID, said)
    assert "purple" in output and "tiger" in output and "Pip" in output
    entry = host.store.journal()[-1]
    for answer in ("purple", "tiger", "Pip"):
        assert ("Mila", answer) in entry.exchanges, entry.exchanges


def test_a_question_mid_story_is_answered_and_the_story_goes_on(library, tmp_path: Path) -> None:
    host = make_host(library, tmp_path, 13)
    output = run_text(host, STORY_ID, ["What's a lighthouse?", "purple", "owl", "Pip", "first"])
    assert "A lighthouse is" in output and "back to our story" in output
    entry = host.store.journal()[-1]
    assert entry.story_id == STORY_ID and ("Mila", "purple") in entry.exchanges
    assert not any("lighthouse" in what for _, what in entry.exchanges)


def test_made_up_stories_in_the_terminal(tmp_path: Path) -> None:
    env = dict(os.environ, COMPANION_STATE_DIR=str(tmp_path))
    told = subprocess.run(
        [sys.executable, "-m", "companion", "tell", "freeform", "--text", "--listener", "Ivy"],
        input="a girl called Pip\nunder the sea\nmy teddy bear\nan otter\n"
        "they all had cocoa and went to sleep\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert told.returncode == 0, told.stderr
    out = told.stdout
    assert "Who is our hero?" in out and "Goodnight" in out
    assert "a girl called Pip" in out and "Pip" in out.split("a girl called Pip", 1)[1]
    assert "place under the sea" in out and "teddy bear" in out and "otter" in out
    assert "they all had cocoa and went to sleep" in out
    dream = subprocess.run(
        [sys.executable, "-m", "companion", "tell", "bad-dream", "--text", "--listener", "Ivy"],
        input="\n\n\n\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert dream.returncode == 0, dream.stderr
    assert "safe" in dream.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "companion", "tell", "no-such-story", "--text"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert unknown.returncode != 0 and "freeform, bad-dream" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def test_a_month_of_nights_repeats_no_story_within_ten(library, tmp_path: Path) -> None:
    store = Store(tmp_path / "m.db")
    host = Host(config("Mila"), list(library.values()), store, random.Random(4), clock=daytime)
    chosen: list[str] = []
    for night in range(30):
        story = host.choose_story()
        assert story is not None
        chosen.append(story.id)
        store.finish_story(story.id, story.title, "told", [], "text")
        if night % 3 == 0:  # made-up nights in between do not make a story come back sooner
            store.finish_story(f"freeform-{night}", "Our Own Story", "freeform", [], "text")
    for i, story_id in enumerate(chosen):
        assert story_id not in chosen[max(0, i - 10) : i], (i, story_id, chosen)
