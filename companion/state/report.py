"""The night report for parents (`companion report`): what happened, when, never what was said.

Built from the night log (the wind-down, goodnight, sleep sounds, wake-ups, bad dreams, a child
asking for a grown-up, the morning) and the journal (the stories told and who answered).
"""

from __future__ import annotations

from datetime import date

from companion.state.store import Store

_SAID: dict[str, str] = {
    "wind_down": "wind-down started",
    "story": "a story began",
    "goodnight": "goodnight",
    "sleep_sounds": "sleep sounds",
    "quiet": "went quiet",
    "woke_up": "woke up and talked to Luma",
    "bad_dream": "a bad dream",
    "asked_for_grownup": "asked for a grown-up",
    "morning": "good morning",
}
_COUNTED = ("woke_up", "bad_dream", "asked_for_grownup")


def night_report(store: Store, night: str | None = None) -> str:
    """One night as Markdown (the last night with anything to tell, if none is given)."""
    night = night or store.last_logged_night()
    if night is None:
        return "# Night report\n\nNothing to report yet.\n"
    title = f"# Night report: {date.fromisoformat(night):%A %d %B %Y}"
    lines: list[tuple[str, str]] = []
    for at, event, detail in store.night_log(night):
        what = _SAID.get(event, event)
        lines.append((at, f"{what} ({detail})" if detail else what))
    for entry in store.journal():
        if entry.night != night:
            continue
        who = sorted({w for w, _ in entry.exchanges if w != "Luma"})
        answered = f", answered by {', '.join(who)}" if who else ", nobody answered"
        lines.append((entry.created_at, f"finished “{entry.title}” ({entry.mode}{answered})"))
    if not lines:
        return f"{title}\n\nNothing happened that night.\n"
    lines.sort()
    log = store.night_log(night)
    counts = {e: sum(1 for _, event, _ in log if event == e) for e in _COUNTED}
    summary = ", ".join(
        f"{n} {_SAID[e]}" if e != "woke_up" else f"woke up {n} time{'s' if n > 1 else ''}"
        for e, n in counts.items()
        if n
    )
    out = [title, ""]
    out += [f"- {at[11:16]} {what}" for at, what in lines]
    out += ["", f"In the night: {summary}." if summary else "A quiet night: nobody woke up.", ""]
    return "\n".join(out)
