"""The health model (issue 6, after Azure's mission-critical guidance): each flow's state in
every 10-second window of a run, from the thresholds that apply to it.

A window is `unhealthy` when an applicable threshold fails its limit there, `degraded` when one
passes its limit but not its `warn` level, else `healthy`; `no_data` when the flow made no
requests in it. Applicable: thresholds scoped to the flow or one of its steps, and unscoped
ones judged on the flow's own requests; only per-request aggregates (percentiles, avg, min,
max, error_rate, checks), not rates, counts, recovery or baseline comparisons, which mean
nothing in one window of one flow. A phase-qualified threshold applies only to windows that
overlap its phase, judged on the overlap. A flow no threshold applies to is `degraded` in a
window with errors. Pure: no clock, no I/O.

A flow may name a server-side signal (`checkout: signal(p95_server) < 500ms warn 200ms`): the
signal's seconds in the window are judged as the threshold says, so the flow is degraded
when its server side is, even while the client sees no error. Unscoped signal thresholds are
the server's and judge no flow's health.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from contval.metrics.series import Series
from contval.thresholds.ast import Dimension, Kind, Scope, Threshold, format_value
from contval.thresholds.evaluate import observe_window
from contval.thresholds.phases import NO_FAULTS, Faults, phase_window
from contval.thresholds.result import DISPLAY, State, worst_state
from contval.thresholds.signals import Signals, reduce

WINDOW_S: Final = 10
_PER_REQUEST: Final = (Kind.PERCENTILE, Kind.AVG, Kind.MIN, Kind.MAX, Kind.ERROR_RATE, Kind.CHECKS)


@dataclass(frozen=True, slots=True)
class WindowState:
    t0: int
    t1: int
    state: State
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"t": [self.t0, self.t1], "state": str(self.state), "reason": self.reason}


def applicable(thresholds: Iterable[Threshold], flow: str) -> list[Threshold]:
    """The thresholds that judge `flow`'s health, unscoped ones re-scoped to the flow."""
    chosen = []
    for t in thresholds:
        if t.aggregate.kind is Kind.SIGNAL and not t.needs_baseline and t.scope.flow == flow:
            chosen.append(t)
        if t.aggregate.kind not in _PER_REQUEST or t.needs_baseline:
            continue
        if t.scope.flow is None:
            chosen.append(replace(t, scope=Scope(flow)))
        elif t.scope.flow == flow:
            chosen.append(t)
    return chosen


def windows_of(
    series: Series, size: int = WINDOW_S, end: int | None = None
) -> list[tuple[int, int]]:
    """[t0, t1) windows of `size` seconds from the run's start to `end` (default: the series'
    end); the last may be shorter."""
    start = series.start
    end = series.end if end is None else min(end, series.end)
    return [(t0, min(t0 + size, end)) for t0 in range(start, end, size)]


def _judge(
    t: Threshold, series: Series, t0: int, t1: int, faults: Faults, signals: Signals | None
) -> tuple[State, str] | None:
    if t.phase is not None:
        phase = phase_window(t.phase, series, faults)
        if isinstance(phase, str):
            return None
        t0, t1 = max(t0, phase[0]), min(t1, phase[1])
        if t1 <= t0:
            return None
    if t.aggregate.kind is Kind.SIGNAL:
        observed = _signal_window(t, signals, t0 - series.start, t1 - series.start)
    else:
        observed = observe_window(t, series, t0, t1)
    if observed is None:
        return None
    unit_dim = t.aggregate.dimension
    unit, factor = DISPLAY[unit_dim]
    if unit_dim is Dimension.SIGNAL:
        found = (signals or {}).get(t.aggregate.subject or "")
        unit = (found.unit if found else None) or "count"
    shown = f"{observed * factor:.3g}{'' if unit == 'count' else ' ' + unit}"
    name = f"{t.scope.to_text()}{t.aggregate.to_text()}"
    if not t.op.holds(observed, t.value):
        return State.UNHEALTHY, f"{name} {shown} fails {t.op} {format_value(unit_dim, t.value)}"
    if t.warn is not None and not t.op.holds(observed, t.warn):
        return State.DEGRADED, f"{name} {shown} breaches warn {format_value(unit_dim, t.warn)}"
    return State.HEALTHY, ""


def _signal_window(t: Threshold, signals: Signals | None, t0: int, t1: int) -> float | None:
    """The signal's seconds [t0, t1) of the load reduced as the threshold says; None when
    none of them has data (the window is judged on the flow's other thresholds)."""
    found = (signals or {}).get(t.aggregate.subject or "")
    if found is None:
        return None
    data = [v for v in found.values[max(t0, 0) : max(t1, 0)] if v is not None]
    return reduce(t, data) if data else None


def window_state(
    flow: str,
    thresholds: Sequence[Threshold],
    series: Series,
    t0: int,
    t1: int,
    faults: Faults,
    signals: Signals | None = None,
) -> WindowState:
    totals = series.window(t0, t1, lambda key: key[0] == flow, histograms=False)
    requests = sum(slot.counters.requests for slot in totals.slots.values())
    if requests == 0:
        return WindowState(t0, t1, State.NO_DATA)
    judged = [
        j for t in thresholds if (j := _judge(t, series, t0, t1, faults, signals)) is not None
    ]
    if not thresholds:
        errors = sum(slot.counters.error_count for slot in totals.slots.values())
        if errors:
            return WindowState(t0, t1, State.DEGRADED, f"{errors} errors of {requests} requests")
        return WindowState(t0, t1, State.HEALTHY)
    if not judged:
        return WindowState(t0, t1, State.HEALTHY)
    state = worst_state(s for s, _ in judged)
    reasons = [r for s, r in judged if s is state and r]
    return WindowState(t0, t1, state, "; ".join(reasons))


def flow_health(
    thresholds: Sequence[Threshold],
    series: Series,
    flows: Iterable[str],
    faults: Faults = NO_FAULTS,
    size: int = WINDOW_S,
    end: int | None = None,
    signals: Signals | None = None,
) -> dict[str, Any]:
    """The `health` entry of a scenario in result.json (docs/result.md); `end` cuts off the
    seconds after the load (iterations draining), which say nothing about health; `signals`
    are the server-side series the flows' `signal(NAME)` thresholds read."""
    windows = windows_of(series, size, end)
    out: dict[str, Any] = {}
    for flow in flows:
        mine = applicable(thresholds, flow)
        states = [window_state(flow, mine, series, t0, t1, faults, signals) for t0, t1 in windows]
        out[flow] = {
            "worst": str(worst_state(w.state for w in states)),
            "windows": [w.to_dict() for w in states],
        }
    worst = worst_state(State(f["worst"]) for f in out.values())
    return {"window_s": size, "worst": str(worst), "flows": out}
