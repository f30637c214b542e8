"""The story library: every file loads and meets the counts; broken files give file:line errors."""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

from companion.cli import main
from companion.storytelling.format import (
    Ask,
    Choose,
    Say,
    Story,
    StoryFileError,
    load_library,
    load_story,
)
from companion.storytelling.safety import WordSafety

ROOT = Path(__file__).resolve().parent.parent
STORIES = ROOT / "stories"
SEEDS = ROOT.parent / "shared" / "seeds"
WORDS_PER_MINUTE = 160  # measured: the narrator at rate 0.95, with paragraph pauses


def paths(story: Story) -> list[str]:
    """The text of every way through the story (one per option of its choice points)."""
    base: list[str] = []
    variants: list[list[str]] = [[]]
    for step in story.steps:
        if isinstance(step, Say):
            variants = [v + list(step.paragraphs) for v in variants]
        elif isinstance(step, Ask):
            variants = [[*v, step.question] for v in variants]
        else:
            variants = [[*v, step.question, *o.paragraphs] for v in variants for o in step.options]
    return [" ".join(base + v + list(story.ending)) for v in variants]


@pytest.fixture(scope="module")
def library() -> list[Story]:
    stories, problems = load_library(STORIES)
    assert problems == []
    return stories


def test_at_least_ten_stories_two_per_seed(library: list[Story]) -> None:
    per_seed = Counter(s.seed for s in library)
    assert len(library) >= 10
    seeds = sorted(p.name for p in SEEDS.glob("*.txt")) if SEEDS.is_dir() else sorted(per_seed)
    assert len(seeds) == 5
    for seed in seeds:
        assert per_seed[seed] >= 2, seed


def test_each_story_meets_the_counts(library: list[Story]) -> None:
    for story in library:
        assert story.ask_points >= 3, story.id
        assert story.choice_points >= 1, story.id
        lengths = [len(text.split()) for text in paths(story)]
        minutes = [n / WORDS_PER_MINUTE for n in lengths]
        assert all(4 <= m <= 10 for m in minutes), (story.id, lengths)
        assert abs(story.minutes - max(minutes)) <= 1, (story.id, story.minutes, minutes)
        assert 4 <= story.minutes <= 10


def test_stories_read_gently(library: list[Story]) -> None:
    safety = WordSafety()
    for story in library:
        for text in paths(story):
            sentences = [s for s in re.split(r"[.!?]+", text) if s.strip()]
            words = text.split()
            assert len(words) / len(sentences) < 12, story.id  # short sentences
            assert safety.is_safe(text), story.id
        assert any(w in " ".join(story.ending).lower() for w in ("sleep", "goodnight", "dream"))


def test_every_slot_is_used_in_the_story(library: list[Story]) -> None:
    for story in library:
        text = " ".join(paths(story))
        for step in story.steps:
            if isinstance(step, Ask):
                used = re.findall(r"\{" + step.slot + r"(?::\w+)?\}", text)
                assert used, (story.id, step.slot)


def test_stories_json_command(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["stories", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) >= 10
    for item in listed:
        assert set(item) == {
            "id",
            "title",
            "seed",
            "ages",
            "minutes",
            "ask_points",
            "choice_points",
        }
        assert item["ask_points"] >= 3 and item["choice_points"] >= 1


GOOD = (STORIES / "s000-mila-and-the-secret-dream-door.toml").read_text()


def broken(tmp_path: Path, name: str, text: str | bytes) -> list[str]:
    folder = tmp_path / "stories"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    with pytest.raises(StoryFileError) as caught:
        load_story(path, folder)
    return caught.value.problems


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_unknown_placeholder_is_reported_at_its_line(tmp_path: Path) -> None:
    text = GOOD.replace('say = """\n', 'say = """\n{mom_name} ', 1)
    assert text != GOOD
    problems = broken(tmp_path, "s000-mila-and-the-secret-dream-door", text)
    assert problems == [
        f"stories/s000-mila-and-the-secret-dream-door.toml:{line_of(GOOD, 'say = ')}: "
        "{mom_name} is not filled by an earlier ask or choose step"
    ]


def test_wrong_kind_and_missing_defaults(tmp_path: Path) -> None:
    text = GOOD.replace('kind = "colour"', 'kind = "smell"', 1).replace(
        'defaults = ["sky blue", "silver", "rosy pink"]', "defaults = []", 1
    )
    problems = broken(tmp_path, "s000-mila-and-the-secret-dream-door", text)
    assert len(problems) == 2
    assert problems[0].endswith(
        "kind 'smell' is not one of: colour, animal, name, place, object, sound, feeling, free"
    )
    assert re.match(r"stories/s000-mila-and-the-secret-dream-door\.toml:\d+: ", problems[1])


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("x", 'format = 1\nid = "x"\ntitle = "X"\n[[step]\n', "stories/x.toml:4: invalid TOML"),
        ("x", 'format = 3\nid = "x"\n', "stories/x.toml:1: format must be 1 or 2 (found 3)"),
        (
            "x",
            'format = 1\nid = "y"\n',
            "stories/x.toml:2: id 'y' must match the file name (x.toml)",
        ),
        ("x", b'format = 1\nid = "x\x00"\n', "stories/x.toml:2: contains NUL bytes"),
        (
            "x",
            'format = 1\nid = "../../etc/passwd"\n',
            "stories/x.toml:2: id '../../etc/passwd' must be",
        ),
        ("x", 'format = 1\nid = "' + "a" * 300 + '"\n', "stories/x.toml:2: id 'aaaa"),
        ("x", 'format = 1\nid = "x"\ncolour = "red"\n', "stories/x.toml:3: unknown key 'colour'"),
    ],
)
def test_broken_files_name_file_and_line(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    problems = broken(tmp_path, name, text)
    assert any(p.startswith(expected) for p in problems), problems


def test_huge_file_and_outside_link_are_refused(tmp_path: Path) -> None:
    problems = broken(tmp_path, "big", "# " + "x" * (300 * 1024))
    assert problems[0].startswith("stories/big.toml:1: file is 300 KB")
    outside = tmp_path / "elsewhere.toml"
    outside.write_text(GOOD)
    os.symlink(outside, tmp_path / "stories" / "link.toml")
    with pytest.raises(StoryFileError) as caught:
        load_story(tmp_path / "stories" / "link.toml", tmp_path / "stories")
    assert "leads outside stories/" in caught.value.problems[0]


def test_a_broken_file_is_skipped_and_the_others_still_load(tmp_path: Path) -> None:
    folder = tmp_path / "stories"
    folder.mkdir()
    (folder / "s000-mila-and-the-secret-dream-door.toml").write_text(GOOD)
    (folder / "oops.toml").write_text('format = 1\nid = "oops"\n')
    stories, problems = load_library(folder)
    assert [s.id for s in stories] == ["s000-mila-and-the-secret-dream-door"]
    assert problems and all(p.startswith("stories/oops.toml:") for p in problems)


def test_choose_needs_two_or_three_options(tmp_path: Path) -> None:
    text = GOOD
    first = text.index("[[step.option]]")
    second = text.index("[[step.option]]", first + 1)
    third = text.index("[[step.option]]", second + 1)
    end = text.index("[[step]]", third)
    one_option = text[:second] + text[end:]
    problems = broken(tmp_path, "s000-mila-and-the-secret-dream-door", one_option)
    assert any("needs 2 or 3 [[step.option]]" in p for p in problems)
    assert isinstance(Choose, type)
