"""One metric of one scope against its baseline runs: a shift, an interval and an outcome (pure).

Input is per-window values (10 s windows: the window's p95, its error rate, its throughput) of
the current run and of each baseline run. Latency and throughput are compared on a log scale so
the shift is relative (ratio - 1); error rate on its own scale so the shift is in absolute
points (0.005 = 0.5 percentage points). The interval comes from `contval.baseline.stats`.

Outcome, with d the Hodges-Lehmann shift and [low, high] its interval at `confidence`:

* ``regression``: the interval lies wholly on the bad side of 0 (the run is really worse) and
  d is beyond the tolerance (by more than allowed); ``improvement`` mirrors it;
* ``pass``: d is within the tolerance and the interval is no wider than ±2 tolerances (the
  measurement can resolve the tolerance);
* ``inconclusive``: otherwise: d beyond the tolerance but not distinguishable from noise, or
  the baseline too noisy to judge at this tolerance ("run more", as Pinpoint says);
* ``no_baseline``: fewer than `min_runs` baseline runs or `min_windows` windows; never a pass.

A latency `floor` (ms) widens the tolerance of a fast route to at least that absolute change:
with a 2 ms floor (the suite's default), a route whose baseline is 0.8 ms is judged at ±250 %, not
±10 %, because a route that fast moves by tens of percent between runs of an unchanged build
(machine noise: scheduling, garbage collection), and nobody gates a release on 0.1 ms. Where the
floor rules, the shift and its interval are computed in milliseconds, not on a log scale
(reported relative to the baseline median as usual): the machine's noise on a fast route is
additive (a scheduling delay of a few hundred microseconds), and on a log scale a 0.25 ms route's
interval reached +3000 % on a loaded machine, `inconclusive` for a change of 0.1 ms.

A server-side signal (`signal(NAME)`, issue 14) is compared on its own scale, in its own unit:
the shift is the change of its per-window mean (absolute, like the error rate), and higher is
worse. Its tolerance is absolute in that unit, or (`relative=True`) a fraction of the baseline
median, so `20%` of a queue whose baseline is 0 tolerates no growth at all.

docs/baselines.md explains why the rule is "significant and beyond tolerance" (Kayenta's) rather
than "whole interval beyond tolerance", with the simulated false-alarm and detection rates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np

from contval.baseline.stats import FloatArray, as_values, shift_interval

MetricName = Literal["p50", "p95", "p99", "error_rate", "rps", "dropped", "late"]
Outcome = Literal["pass", "regression", "improvement", "inconclusive", "no_baseline"]

METRICS: Final[tuple[MetricName, ...]] = (
    "p50",
    "p95",
    "p99",
    "error_rate",
    "rps",
    "dropped",
    "late",
)
# Signed: the sign is the bad direction (throughput is bad when it falls).
DEFAULT_TOLERANCES: Final[dict[str, float]] = {
    "p50": 0.10,
    "p95": 0.10,
    "p99": 0.10,
    "error_rate": 0.005,
    "rps": -0.10,
    "dropped": 0.01,  # share of scheduled iterations never started (open model)
    "late": 0.10,  # share started late (open model): moves with the generator machine's load
}
# Shares: compared in absolute points, like the error rate.
_SHARES: Final = ("error_rate", "dropped", "late")
LATENCY_METRICS: Final = ("p50", "p95", "p99")
DEFAULT_CONFIDENCE: Final = 0.98
MIN_RUNS: Final = 3
MIN_WINDOWS: Final = 3
# A pass needs an interval no wider than this many tolerances on either side of the estimate.
RESOLUTION: Final = 2.0
# Log of a non-positive latency/throughput window (a window with zero throughput) is floored
# here rather than dropped: an outage window is information, and HL is robust to its size.
_LOG_FLOOR: Final = 1e-9

_OUTCOME_ORDER: Final[tuple[Outcome, ...]] = ("regression", "no_baseline", "inconclusive")


@dataclass(frozen=True)
class Comparison:
    """The verdict of one metric against its baseline, with the numbers behind it.

    current: median of the current run's windows. baseline: median over baseline runs of each
    run's median window. shift/low/high: the HL shift and its interval (ratio - 1 for latency and
    throughput, absolute rate difference for error rate); None when there is no baseline.
    """

    metric: str
    current: float | None
    baseline: float | None
    shift: float | None
    low: float | None
    high: float | None
    tolerance: float
    outcome: Outcome
    baseline_runs: tuple[str, ...]
    detail: str


SIGNAL_TOLERANCE: Final = 0.20
"""A signal's default tolerance: 20 % of its baseline median."""


def is_signal(metric: str) -> bool:
    """`signal(NAME)`: a server-side signal's per-window mean."""
    return metric.startswith("signal(") and metric.endswith(")")


def is_relative(metric: str) -> bool:
    """Latency and throughput shifts are ratios; shifts of shares (error rate, dropped and late
    iterations) and of signals (in their own unit) are differences."""
    return metric not in _SHARES and not is_signal(metric)


def bad_sign(metric: str) -> int:
    """+1 when higher is worse (latency, errors), -1 when lower is worse (throughput)."""
    return -1 if metric == "rps" else 1


def _to_scale(metric: str, values: FloatArray) -> FloatArray:
    if is_relative(metric):
        return np.log(np.maximum(values, _LOG_FLOOR))
    return values


def _from_scale(metric: str, shift: float) -> float:
    return math.expm1(shift) if is_relative(metric) else shift


def _median(values: FloatArray) -> float | None:
    return float(np.median(values)) if values.size else None


def _fmt(metric: str, value: float) -> str:
    if is_signal(metric):
        return f"{value:+.4g}"
    if is_relative(metric):
        return f"{value * 100:+.1f} %"
    return f"{value * 100:+.2f} pp"


def classify(metric: str, shift: float, low: float, high: float, tolerance: float) -> Outcome:
    """The outcome rule (see the module docstring), in reported units and a signed tolerance."""
    sign = bad_sign(metric)
    tol = abs(tolerance)
    # Work in "badness" units: positive is worse, whatever the metric.
    d, lo, hi = sign * shift, min(sign * low, sign * high), max(sign * low, sign * high)
    if d > tol and lo > 0:
        return "regression"
    if d < -tol and hi < 0:
        return "improvement"
    if abs(d) <= tol and hi - d <= RESOLUTION * tol and d - lo <= RESOLUTION * tol:
        return "pass"
    return "inconclusive"


def _explain(
    metric: str, outcome: Outcome, shift: float, low: float, high: float, tol: float
) -> str:
    span = f"{_fmt(metric, shift)} ({_fmt(metric, low)} .. {_fmt(metric, high)})"
    limit = _fmt(metric, bad_sign(metric) * abs(tol))
    reason = {
        "regression": f"worse beyond the tolerance {limit}, and the interval excludes no change",
        "improvement": "better beyond the tolerance, and the interval excludes no change",
        "pass": f"within the tolerance {limit}",
        "inconclusive": (
            "beyond the tolerance but within the noise: run more"
            if abs(shift) > abs(tol)
            else f"within the tolerance, but the noise is too large to resolve {limit}"
        ),
        "no_baseline": "",
    }[outcome]
    return f"{span}: {reason}"


def _no_baseline(
    metric: str,
    current: FloatArray,
    runs: list[FloatArray],
    tol: float,
    ids: tuple[str, ...],
    why: str,
) -> Comparison:
    medians = as_values(float(np.median(r)) for r in runs if r.size)
    return Comparison(
        metric, _median(current), _median(medians), None, None, None, tol, "no_baseline", ids, why
    )


def compare(
    metric: str,
    current_windows: Sequence[float],
    baseline_windows: Sequence[Sequence[float]],
    *,
    tolerance: float | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    baseline_runs: Sequence[str] = (),
    min_runs: int = MIN_RUNS,
    min_windows: int = MIN_WINDOWS,
    floor: float | None = None,
    relative: bool = False,
) -> Comparison:
    """Compare one metric's windows of the current run with those of its baseline runs.

    Windows without data (None, NaN) are dropped; a baseline run left with no windows does not
    count towards `min_runs`. The tolerance's magnitude is used with the metric's own bad
    direction, so `0.10` and `-0.10` mean the same for throughput. For a signal, `relative`
    makes the tolerance a fraction of the baseline median (default: 20 % of it).
    """
    if is_signal(metric):
        relative = relative or tolerance is None
        tolerance = SIGNAL_TOLERANCE if tolerance is None else tolerance
    elif metric not in DEFAULT_TOLERANCES:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    else:
        relative = False
    default = DEFAULT_TOLERANCES.get(metric, SIGNAL_TOLERANCE)
    tol = bad_sign(metric) * abs(default if tolerance is None else tolerance)
    ids = tuple(baseline_runs)
    current = as_values(current_windows)
    runs = [r for r in (as_values(w) for w in baseline_windows) if r.size]
    if len(runs) < max(min_runs, 2):
        return _no_baseline(
            metric, current, runs, tol, ids, f"{len(runs)} baseline runs, {min_runs} needed to gate"
        )
    if current.size < min_windows:
        return _no_baseline(
            metric, current, runs, tol, ids, f"{current.size} windows, {min_windows} needed to gate"
        )
    medians = as_values(float(np.median(r)) for r in runs)
    base = _median(medians)
    if relative:
        tol *= abs(base or 0.0)
    floored = _floored(metric, tol, floor, base)
    if floored != tol and base:  # the floor rules: judge the change in milliseconds
        si = shift_interval(current, runs, confidence)
        shift, low, high = (v / base for v in (si.estimate, si.low, si.high))
    else:
        si = shift_interval(
            _to_scale(metric, current), [_to_scale(metric, r) for r in runs], confidence
        )
        shift, low, high = (_from_scale(metric, v) for v in (si.estimate, si.low, si.high))
    tol = floored
    outcome = classify(metric, shift, low, high, tol)
    return Comparison(
        metric,
        _median(current),
        _median(medians),
        shift,
        low,
        high,
        tol,
        outcome,
        ids,
        _explain(metric, outcome, shift, low, high, tol),
    )


def _floored(metric: str, tol: float, floor: float | None, baseline: float | None) -> float:
    """The tolerance widened, for latency, to at least `floor` (ms) of the baseline median."""
    if not floor or metric not in LATENCY_METRICS or not baseline or baseline <= 0:
        return tol
    return math.copysign(max(abs(tol), floor / baseline), tol)


def summarize(comparisons: Iterable[Comparison]) -> Outcome:
    """A scenario's outcome: any regression; else any no_baseline or inconclusive; else pass.

    Improvements count as passes: a gate is about not getting worse. No comparisons at all is
    no_baseline, never a pass.
    """
    outcomes = {c.outcome for c in comparisons}
    if not outcomes:
        return "no_baseline"
    for outcome in _OUTCOME_ORDER:
        if outcome in outcomes:
            return outcome
    return "pass"
