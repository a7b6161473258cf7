"""The data the report's charts draw, extracted from a scenario as compact columns.

Per flow, one value per second (requests, errors, p50/p95/p99 in ms; null where a second had no
requests), rounded to 4 significant digits; a time column that is a plain count of seconds is
sent as its first value only. Fault windows come as done (injected → reverted), else as planned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from contval.report.html_fmt import compact, get, number

ALL_FLOWS: Final = "(all flows)"
COLUMNS: Final = (
    ("req", "requests"),
    ("err", "errors"),
    ("p50", "p50_ms"),
    ("p95", "p95_ms"),
    ("p99", "p99_ms"),
)


def _seq(values: Any) -> Sequence[Any]:
    return values if isinstance(values, Sequence) and not isinstance(values, str) else []


def _flow(name: str, columns: Mapping[str, Any]) -> dict[str, Any]:
    """Rows whose second is not a number are dropped from every column alike; a short column
    is padded with nulls. A time column that counts up by one is sent as its first value."""
    times = [compact(v) for v in _seq(columns.get("t"))]
    keep = [i for i, x in enumerate(times) if x is not None]
    t = [times[i] for i in keep]
    flow: dict[str, Any] = {"name": name}
    first = t[0] if t else None
    if isinstance(first, int) and t == list(range(first, first + len(t))):
        flow.update(t0=first, n=len(t))
    else:
        flow["t"] = t
    for short, key in COLUMNS:
        values = _seq(columns.get(key))
        flow[short] = [compact(values[i]) if i < len(values) else None for i in keep]
    return flow


def _from_rows(rows: Any) -> dict[str, list[Any]]:
    """The scenario's whole-run `series` rows turned into columns (older documents)."""
    rows = [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []
    keys = ("t", "requests", "errors", "p50_ms", "p95_ms", "p99_ms")
    return {k: [r.get(k) for r in rows] for k in keys}


def flows(scenario: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One entry per flow; a document without `flow_series` falls back to the whole run."""
    per_flow = scenario.get("flow_series")
    if isinstance(per_flow, Mapping) and per_flow:
        return [
            _flow(str(name), cols) for name, cols in per_flow.items() if isinstance(cols, Mapping)
        ]
    rows = _from_rows(scenario.get("series"))
    return [_flow(ALL_FLOWS, rows)] if rows["t"] else []


def fault_window(fault: Mapping[str, Any]) -> tuple[float, float] | None:
    """Seconds the fault was on: as done when known, else as planned."""
    at, length = number(fault.get("at_s")), number(fault.get("for_s"))
    start = number(fault.get("injected_at_s"))
    end = number(fault.get("reverted_at_s"))
    if start is None:
        start = at
    if end is None and at is not None and length is not None:
        end = at + length
    if start is None or end is None or end < start:
        return None
    return start, end


def faults(scenario: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for fault in scenario.get("faults") or []:
        if not isinstance(fault, Mapping):
            continue
        window = fault_window(fault)
        if window is None:
            continue
        out.append(
            {
                "name": str(fault.get("name", "fault")),
                "t0": compact(window[0]),
                "t1": compact(window[1]),
                "skipped": fault.get("skipped") is True,
            }
        )
    return out


def chart_data(scenario: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "end": compact(scenario.get("duration_s")),
        "window_s": compact(get(scenario, "health", "window_s")),
        "flows": flows(scenario),
        "faults": faults(scenario),
    }
