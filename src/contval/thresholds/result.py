"""A threshold's verdict with its evidence, in the units people read.

Kept apart from the evaluators so every way of judging (whole run, windows, phases,
recovery) reports through one constructor and one shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from contval.thresholds.ast import Dimension, Threshold


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NO_DATA = "no_data"


class State(StrEnum):
    """The health model's states (issue 6), worst last; `no_data` ranks below all."""

    NO_DATA = "no_data"
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"

    @property
    def rank(self) -> int:
        return _STATE_RANK[self]


_STATE_RANK: Final = {State.NO_DATA: 0, State.HEALTHY: 1, State.DEGRADED: 2, State.UNHEALTHY: 3}


def worst_state(states: Iterable[State]) -> State:
    """The worst of `states` (no_data when there are none or all are no_data)."""
    return max(states, key=lambda s: s.rank, default=State.NO_DATA)


# How a dimension is shown: unit name and factor from base units.
DISPLAY: Final = {
    Dimension.TIME: ("ms", 1000.0),
    Dimension.RATIO: ("%", 100.0),
    Dimension.RATE: ("/s", 1.0),
    Dimension.COUNT: ("count", 1.0),
    Dimension.SHIFT: ("%", 100.0),
    Dimension.SIGNAL: ("", 1.0),  # the signal's own unit, given where it is judged
}


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    """A verdict with its evidence; `observed` and `limit` are in `unit` (ms, %, /s, count;
    pp, percentage points, for `regression(error_rate)`). `limit` is None only for a threshold
    against a baseline that does not exist yet: there is no number to show."""

    expression: str
    verdict: Verdict
    observed: float | None
    limit: float | None
    unit: str
    window: tuple[int, int] | None = None
    """The worst window [t0, t1) in seconds from run start, for `over` thresholds; for
    `recovery_time`, from the fault's end to recovery (or to the end of the run)."""
    abort: bool = False
    detail: str = ""
    baseline_runs: tuple[str, ...] = ()
    """The baseline runs a threshold naming the baseline was judged against (issue 5: every
    verdict records its baseline); empty for every other threshold."""
    warn: float | None = None
    """The warning level in `unit`, or None."""
    state: State = State.NO_DATA
    """unhealthy when it fails, degraded when it passes the limit but not `warn`."""
    op: str = ""
    """The comparison (`<`, `<=`, `>`, `>=`, `==`, `!=`), so readers need not parse it back."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "expression": self.expression,
            "verdict": str(self.verdict),
            "observed": self.observed,
            "limit": self.limit,
            "unit": self.unit,
            "op": self.op,
            "window": list(self.window) if self.window else None,
            "abort": self.abort,
            "detail": self.detail,
            "baseline_runs": list(self.baseline_runs),
            "warn": self.warn,
            "state": str(self.state),
        }


def make_result(
    threshold: Threshold,
    observed: float | None,
    window: tuple[int, int] | None = None,
    detail: str = "",
    verdict: Verdict | None = None,
    *,
    limit: float | None = None,
    baseline_runs: tuple[str, ...] = (),
    unit: str | None = None,
) -> ThresholdResult:
    """`observed` is in base units. The verdict follows from it unless given: a scope that never
    recovered fails whatever its lower-bound observation says.

    Thresholds naming the baseline pass their `limit` (base units, from the baseline figure);
    without one it is the threshold's own value, and None when they have no baseline yet.
    """
    default_unit, factor = DISPLAY[threshold.aggregate.dimension]
    if limit is None and threshold.baseline is None:
        limit = threshold.value
    if verdict is None:
        verdict = _verdict(threshold, observed, limit)
    warn = threshold.warn
    return ThresholdResult(
        expression=threshold.expression or threshold.to_text(),
        verdict=verdict,
        observed=None if observed is None else observed * factor,
        limit=None if limit is None else limit * factor,
        unit=unit or default_unit,
        window=window,
        abort=threshold.abort,
        detail=detail or ("no data" if observed is None else ""),
        baseline_runs=baseline_runs,
        warn=None if warn is None else warn * factor,
        state=state_of(threshold, verdict, observed),
        op=str(threshold.op),
    )


def state_of(threshold: Threshold, verdict: Verdict, observed: float | None) -> State:
    """fail → unhealthy; a pass beyond the warning level → degraded; no data → no_data."""
    if verdict is Verdict.NO_DATA:
        return State.NO_DATA
    if verdict is Verdict.FAIL:
        return State.UNHEALTHY
    warn = threshold.warn
    if warn is not None and observed is not None and not threshold.op.holds(observed, warn):
        return State.DEGRADED
    return State.HEALTHY


def _verdict(threshold: Threshold, observed: float | None, limit: float | None) -> Verdict:
    if observed is None or limit is None:
        return Verdict.NO_DATA
    return Verdict.PASS if threshold.op.holds(observed, limit) else Verdict.FAIL
