"""The server-side signals of a scenario as reports show them: one row per signal (its metric
expression and source, its range over the load, seconds without data) with the thresholds
that judged it, failing first. Read from result.json's `scenarios[].signals` (docs/signals.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from rich.table import Table
from rich.text import Text

_NAME: Final = re.compile(r"signal\(\s*([^)\s]+)\s*\)")


def signal_of(threshold: Mapping[str, Any]) -> str | None:
    """The signal a threshold judges (`signal(NAME) ...`, `flow: signal(NAME) ...`,
    `recovery_time(signal(NAME)) ...`), or None."""
    found = _NAME.search(str(threshold.get("expression", "")))
    return found[1] if found else None


def failing_signals(scenario: Mapping[str, Any]) -> dict[str, list[str]]:
    """Each signal with a threshold that did not pass (failed, or no data), and those
    thresholds' expressions; a comparison with the baseline that found a regression too."""
    out: dict[str, list[str]] = {}
    for threshold in scenario.get("thresholds") or []:
        if not isinstance(threshold, Mapping) or threshold.get("verdict") == "pass":
            continue
        name = signal_of(threshold)
        if name is not None:
            out.setdefault(name, []).append(str(threshold.get("expression", "")))
    baseline = scenario.get("baseline")
    comparisons = baseline.get("comparisons") if isinstance(baseline, Mapping) else None
    for c in comparisons or []:
        if not isinstance(c, Mapping) or c.get("verdict") != "regression":
            continue
        found = _NAME.fullmatch(str(c.get("metric", "")))
        if found is not None:
            phase = c.get("phase") if isinstance(c.get("phase"), Mapping) else None
            where = f" {phase['phase']} {phase['fault']}" if phase else ""
            out.setdefault(found[1], []).append(f"regression against the baseline{where}")
    return out


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return f"{text} {unit}" if unit else text


def signal_rows(scenario: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(signal, expression and source, min–max and last, seconds without data, thresholds):
    signals with a failing threshold first."""
    signals = scenario.get("signals")
    if not isinstance(signals, Mapping):
        return []
    judged: dict[str, list[Mapping[str, Any]]] = {}
    for threshold in scenario.get("thresholds") or []:
        if isinstance(threshold, Mapping) and (name := signal_of(threshold)) is not None:
            judged.setdefault(name, []).append(threshold)
    rows: list[tuple[bool, tuple[str, str, str, str, str]]] = []
    for name, entry in signals.items():
        if not isinstance(entry, Mapping):
            continue
        unit = str(entry.get("unit") or "")
        values = [v for v in entry.get("series") or [] if isinstance(v, int | float)]
        span = (
            f"{_number(min(values), unit)} – {_number(max(values), unit)}, "
            f"last {_number(values[-1], unit)}"
            if values
            else "no data"
        )
        missing = len(entry.get("no_data") or [])
        gaps = f"{missing} s" if missing else "0"
        if entry.get("failed") or entry.get("malformed"):
            gaps += (
                f" ({entry.get('failed', 0)} reads failed, {entry.get('malformed', 0)} malformed)"
            )
        failing = [t for t in judged.get(name, []) if t.get("verdict") != "pass"]
        verdicts = (
            (f"{len(failing)} of {len(judged[name])} failed" if failing else "pass")
            if name in judged
            else "not judged"
        )
        where = f"{entry.get('expression', '?')} ({entry.get('source', '?')}, {entry.get('kind')})"
        rows.append((bool(failing), (name, where, span, gaps, verdicts)))
    rows.sort(key=lambda row: not row[0])
    return [row for _, row in rows]


def signals_table(scenario: Mapping[str, Any]) -> Table | None:
    """The console's table of signals (None when the scenario read none)."""
    rows = signal_rows(scenario)
    if not rows:
        return None
    table = Table(title="signals", title_justify="left")
    for column in (
        "signal",
        "metric (source, kind)",
        "range over the load",
        "no data",
        "thresholds",
    ):
        table.add_column(column)
    for name, where, span, gaps, verdicts in rows:
        style = "red" if verdicts.endswith("failed") else ""
        table.add_row(name, where, span, gaps, Text(verdicts, style=style))
    return table
