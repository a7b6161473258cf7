"""The progress line while a scenario runs, as a CI log prints it (not a terminal)."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from contval.report.console import LOG_EVERY, Progress


def second(t: int, requests: int, errors: int, active: int) -> dict[str, Any]:
    return {
        "t": t,
        "requests": requests,
        "errors": errors,
        "dropped_iterations": 0,
        "active": active,
        "lag_ms": 0.0,
    }


def test_the_line_says_when_only_iterations_in_flight_remain() -> None:
    out = io.StringIO()
    progress = Progress(Console(file=out, width=200), "normal", total=12, grace=30)
    for t in range(25):
        ending = t >= 12
        progress.update(second(t, 0 if ending else 100, 1, 7 if ending else 40), 12.5)
    progress.finish()
    lines = out.getvalue().splitlines()
    assert lines == [
        f"normal    {LOG_EVERY}s/12s     100/s  active   40  errors 10 (1.00%)  p95 12.5 ms",
        "normal    20s/12s       0/s  finishing 7 in flight (up to 30s after the end)  "
        "errors 20 (1.67%)  p95 12.5 ms",
    ]
