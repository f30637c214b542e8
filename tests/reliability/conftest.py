"""Reliability tests each report the figure they measured (see the summary at the end)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

FIGURES: list[tuple[str, str]] = []
"""What the reliability tests measured, printed at the end of the run."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("reliability figures")
        for name, value in FIGURES:
            terminalreporter.write_line(f"{name}: {value}")


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Callable[[str, object], None]:
    """Record one figure, e.g. figure("device lost and back", "20/20 recovered")."""

    def record(name: str, value: object) -> None:
        FIGURES.append((name, str(value)))
        print(f"\nFIGURE {name}: {value}")

    return record
