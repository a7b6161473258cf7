"""Workloads run side by side in one scenario (`alongside`): what every report says about them.

result.json lists them under `scenarios[].workloads` (docs/suite.md): the scenario's own workload
first, judged by the scenario's thresholds, then each `alongside` workload with its own. A failed
threshold of any of them fails the scenario, so the reports count them with the scenario's
thresholds; each one is also compared with a baseline of its own (its `baseline`, shaped as the
scenario's), and a regression of any of them fails the scenario too. This module is the one
place that reads them, so the console, summary.md, report.html and junit.xml agree. Cells are
plain text: each renderer escapes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from contval.report.console import (
    baseline_label,
    comparison_name,
    is_failed,
    metric_value,
    plain,
    shift_text,
    shift_value,
    thresholds_of,
)

HEADERS: Final = (
    "workload",
    "executor",
    "start",
    "seconds",
    "requests",
    "errors",
    "baseline",
    "verdict",
)
NOTE: Final = (
    "each on workers of its own, from its start; the first is the scenario's own workload, "
    "judged with all the others by the scenario's thresholds; each compared with a baseline of "
    "its own"
)


def workloads_of(scenario: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The scenario's workloads when it ran several side by side; [] otherwise."""
    parts = scenario.get("workloads")
    if not isinstance(parts, list):
        return []
    return [p for p in parts if isinstance(p, Mapping)]


def label(part: Mapping[str, Any]) -> str:
    """`buyers`, or `buyers (workload buyers-v2)` when the entry's name is not its workload's."""
    name = plain(part.get("name") or "?")
    workload = part.get("workload")
    return name if not workload or workload == part.get("name") else f"{name} ({plain(workload)})"


def all_thresholds(scenario: Mapping[str, Any]) -> list[tuple[str | None, Mapping[str, Any]]]:
    """The scenario's thresholds (workload None), then each workload's own, by workload name:
    every threshold whose failure fails the scenario."""
    found: list[tuple[str | None, Mapping[str, Any]]] = [(None, t) for t in thresholds_of(scenario)]
    for part in workloads_of(scenario):
        found += [(str(part.get("name") or "?"), t) for t in thresholds_of(part)]
    return found


def failed_count(scenario: Mapping[str, Any]) -> tuple[int, int]:
    """(failed, total) over the scenario's thresholds and its workloads' own."""
    thresholds = all_thresholds(scenario)
    return sum(1 for _, t in thresholds if is_failed(t)), len(thresholds)


def failed_workloads(scenario: Mapping[str, Any]) -> list[str]:
    """The workloads whose own thresholds failed (the scenario failed with them)."""
    return [
        str(p.get("name") or "?")
        for p in workloads_of(scenario)
        if p.get("verdict") == "fail" and any(is_failed(t) for t in thresholds_of(p))
    ]


def regressed_workloads(scenario: Mapping[str, Any]) -> list[str]:
    """The workloads whose comparison with their own baseline found a regression."""
    return [str(p.get("name") or "?") for p in workloads_of(scenario) if _gate(p) == "regression"]


def all_comparisons(scenario: Mapping[str, Any]) -> list[tuple[str | None, Mapping[str, Any]]]:
    """The scenario's baseline comparisons (workload None), then each workload's against its
    own baseline, by workload name."""
    found: list[tuple[str | None, Mapping[str, Any]]] = [
        (None, c) for c in comparisons_of(scenario)
    ]
    for part in workloads_of(scenario):
        found += [(str(part.get("name") or "?"), c) for c in comparisons_of(part)]
    return found


def comparisons_of(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """A scenario's or a workload's comparisons with its baseline; [] without one."""
    baseline = entry.get("baseline")
    if not isinstance(baseline, Mapping):
        return []
    return [c for c in baseline.get("comparisons") or [] if isinstance(c, Mapping)]


def _gate(part: Mapping[str, Any]) -> str | None:
    baseline = part.get("baseline")
    return str(baseline.get("verdict")) if isinstance(baseline, Mapping) else None


def overview_label(scenario: Mapping[str, Any]) -> str:
    """The scenario's baseline verdict for the suite's overview, with each workload whose own
    baseline found a regression: `PASS; workload buyers: REGRESSION`."""
    text = baseline_label(scenario.get("baseline"))
    regressed = regressed_workloads(scenario)
    if regressed:
        text += "; " + ", ".join(f"workload {plain(n)}" for n in regressed) + ": REGRESSION"
    return text


def baseline_text(part: Mapping[str, Any]) -> str:
    """The workload's comparison with its own baseline: `regression`, `pass`, `inconclusive`,
    `no baseline yet`; `-` when it was not compared (history off, or the run did not finish)."""
    gate = _gate(part)
    if gate is None:
        return "-"
    return "no baseline yet" if gate == "no_baseline" else plain(gate).replace("_", " ")


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else "-"


def _errors(totals: Mapping[str, Any]) -> str:
    errors, rate = totals.get("errors"), totals.get("error_rate")
    if not isinstance(rate, int | float) or isinstance(rate, bool):
        return _count(errors)
    return f"{_count(errors)} ({rate * 100:.2f} %)"


def _seconds(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:g} s"
    return "-"


def verdict_text(part: Mapping[str, Any], first: bool) -> str:
    """`pass`, `FAIL`, `by the scenario's thresholds` (its own workload), `not gated`; with
    the stop reason when it stopped early."""
    verdict = part.get("verdict")
    if verdict == "fail" and not any(is_failed(t) for t in thresholds_of(part)):
        text = "FAIL (regression)" if _gate(part) == "regression" else "FAIL (no baseline yet)"
    elif verdict == "fail":
        text = "FAIL"
    elif verdict == "pass":
        text = "pass"
    elif first and not thresholds_of(part):
        text = "by the scenario's thresholds"
    else:
        text = str(verdict or "unknown").replace("_", " ")
    if part.get("stop_reason"):
        text += f" (stopped: {plain(part['stop_reason'])})"
    return text


def baseline_lines(part: Mapping[str, Any]) -> list[str]:
    """The workload's comparison with its own baseline as the console prints it: the verdict
    and why, the noise notes, then each comparison that regressed or could not be judged."""
    baseline = part.get("baseline")
    if not isinstance(baseline, Mapping):
        return []
    mode = plain(baseline.get("mode") or "?")
    lines = [
        f"baseline ({mode}): {baseline_label(baseline)} — {plain(baseline.get('detail') or '')}"
    ]
    for note in baseline.get("noise") or []:
        if isinstance(note, Mapping):
            lines.append(f"  noisy: {plain(note.get('detail') or '')}")
    if baseline.get("verdict") == "no_baseline":
        return lines
    for c in comparisons_of(part):
        if c.get("verdict") in ("pass", "improvement", "no_baseline"):
            continue
        metric = str(c.get("metric", ""))
        interval = all(c.get(k) is not None for k in ("shift", "low", "high"))
        shift = shift_text(dict(c)) if interval else shift_value(metric, c.get("shift"))
        lines.append(
            f"  {plain(c.get('verdict'))}: {plain(comparison_name(c).removeprefix('baseline: '))}"
            f" {metric_value(metric, c.get('baseline'))} -> "
            f"{metric_value(metric, c.get('current'))}, shift {shift}, tolerance "
            f"{shift_value(metric, c.get('tolerance'))}"
        )
    return lines


def rows(scenario: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """One row per workload under `HEADERS`: what it ran, when, what it sent, its verdict."""
    found: list[tuple[str, ...]] = []
    for index, part in enumerate(workloads_of(scenario)):
        totals = part.get("totals")
        totals = totals if isinstance(totals, Mapping) else {}
        found.append(
            (
                label(part),
                plain(part.get("executor") or "-"),
                _seconds(part.get("start_time_s")),
                _seconds(part.get("duration_s")),
                _count(totals.get("requests")),
                _errors(totals),
                baseline_text(part),
                verdict_text(part, index == 0),
            )
        )
    return found


__all__ = [
    "HEADERS",
    "NOTE",
    "all_comparisons",
    "all_thresholds",
    "baseline_lines",
    "baseline_text",
    "comparisons_of",
    "failed_count",
    "failed_workloads",
    "label",
    "overview_label",
    "regressed_workloads",
    "rows",
    "verdict_text",
    "workloads_of",
]
