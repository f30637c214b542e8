"""Made-up stories as JSON, so a freeform story can be resumed exactly as it was."""

from __future__ import annotations

from typing import Any

from companion.storytelling.format import Ask, Choose, Option, Say, Story, Variant


def story_to_json(story: Story) -> dict[str, Any]:
    steps: list[dict[str, Any]] = []
    for step in story.steps:
        if isinstance(step, Say):
            steps.append(
                {
                    "say": list(step.paragraphs),
                    "recap": step.recap,
                    "when": _whens(step.variants),
                    "if": _whens((step.only,) if step.only else ()),
                }
            )
        elif isinstance(step, Ask):
            steps.append(
                {
                    "ask": step.question,
                    "slot": step.slot,
                    "kind": step.kind,
                    "defaults": list(step.defaults),
                    "reply": step.reply,
                    "when": _whens(step.variants),
                    "if": _whens((step.only,) if step.only else ()),
                }
            )
        else:
            steps.append(
                {
                    "choose": step.question,
                    "slot": step.slot,
                    "if": _whens((step.only,) if step.only else ()),
                    "fallback": step.fallback,
                    "options": [
                        {"label": o.label, "words": list(o.words), "say": list(o.paragraphs)}
                        for o in step.options
                    ],
                }
            )
    return {
        "id": story.id,
        "title": story.title,
        "seed": story.seed,
        "ages": list(story.ages),
        "minutes": story.minutes,
        "steps": steps,
        "ending": list(story.ending),
        "path": story.path,
    }


def _whens(variants: tuple[Variant, ...]) -> list[dict[str, Any]]:
    return [
        {"slot": v.slot, "tests": [list(t) for t in v.tests], "text": list(v.text)}
        for v in variants
    ]


def _variants(data: list[dict[str, Any]]) -> tuple[Variant, ...]:
    return tuple(
        Variant(v["slot"], tuple((a, b) for a, b in v["tests"]), tuple(v["text"])) for v in data
    )


def _only(step: dict[str, Any]) -> Variant | None:
    found = _variants(step.get("if", []))
    return found[0] if found else None


def story_from_json(data: dict[str, Any]) -> Story:
    steps: list[Say | Ask | Choose] = []
    for s in data["steps"]:
        if "say" in s:
            steps.append(
                Say(tuple(s["say"]), s.get("recap", ""), _variants(s.get("when", [])), _only(s))
            )
        elif "ask" in s:
            steps.append(
                Ask(
                    s["ask"],
                    s["slot"],
                    s["kind"],
                    tuple(s["defaults"]),
                    s.get("reply", ""),
                    _variants(s.get("when", [])),
                    _only(s),
                )
            )
        else:
            steps.append(
                Choose(
                    s["choose"],
                    tuple(
                        Option(o["label"], tuple(o["words"]), tuple(o["say"])) for o in s["options"]
                    ),
                    s.get("slot", ""),
                    _only(s),
                    s.get("fallback"),
                )
            )
    return Story(
        data["id"],
        data["title"],
        data["seed"],
        tuple(data["ages"]),
        data["minutes"],
        (),
        tuple(steps),
        tuple(data["ending"]),
        data.get("path", ""),
    )
