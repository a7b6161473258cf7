"""Thresholds that name the baseline: the figures they are judged with, and the judging (pure).

The pipeline compares a run with its baseline runs (`contval.baseline.compare`) per scope,
metric and chaos phase, and hands over what each comparison found as `BaselineFigures`, keyed
like the thresholds that read them. This module never reads a store: it only turns a figure
and (for `baseline ± offset`) the run's own observation into a verdict.

No baseline is never a pass: a missing figure, no figures at all, or a comparison that found
too few baseline runs (`no_baseline`) is `no_data` with the detail "no baseline yet".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from contval.thresholds.ast import Kind, Threshold
from contval.thresholds.phases import Faults, not_injected
from contval.thresholds.result import DISPLAY, ThresholdResult, Verdict, make_result

BaselineKey = tuple[str, str, str, str | None, str | None]
"""(flow, or "*" for the whole scenario and for signals; step, or ""; metric
p50|p95|p99|error_rate|rps|signal(NAME);
fault, or None; phase before|during|after, or None)."""

NO_BASELINE: Final = "no baseline yet"


@dataclass(frozen=True, slots=True)
class BaselineFigure:
    """One comparison's result as thresholds need it.

    `baseline` is the baseline's value in base units (latency in seconds, error rate a
    fraction, rps per second). `shift`, `low`, `high` are the estimated shift and its interval:
    relative (ratio - 1) for latency and rps, absolute (fraction points) for error rate.
    `outcome` is the comparison's (`pass`, `regression`, ..., `no_baseline`).
    """

    baseline: float | None
    shift: float | None
    low: float | None
    high: float | None
    runs: tuple[str, ...]
    outcome: str
    current: float | None = None
    """The current run's own figure as the comparison measured it (the median of its
    windows), in the same base units; what a signal without a reducer is judged on."""


BaselineFigures = Mapping[BaselineKey, BaselineFigure]


def needs_baseline(threshold: Threshold) -> bool:
    """True for `... op baseline [± VALUE]` and `regression(...)`: judged with figures."""
    return threshold.needs_baseline


def baseline_key(threshold: Threshold) -> BaselineKey | None:
    """The key of the figure `threshold` reads, or None when it does not name the baseline."""
    metric = threshold.aggregate.baseline_metric
    if not threshold.needs_baseline or metric is None:
        return None
    scope, phase = threshold.scope, threshold.phase
    server = threshold.aggregate.kind is Kind.SIGNAL  # the server's, whatever flow names it
    return (
        "*" if server else scope.flow or "*",
        scope.step or "",
        metric,
        None if phase is None else phase.fault,
        None if phase is None else str(phase.kind),
    )


def _figure(threshold: Threshold, figures: BaselineFigures | None) -> BaselineFigure | None:
    key = baseline_key(threshold)
    if figures is None or key is None:
        return None
    return figures.get(key)


def judge_against_baseline(
    threshold: Threshold, observed: float | None, figures: BaselineFigures | None
) -> ThresholdResult:
    """`aggregate op baseline ± offset`: the run's own value (base units) against a limit
    derived from the baseline figure."""
    ref = threshold.baseline
    figure = _figure(threshold, figures)
    if ref is None or figure is None or figure.outcome == "no_baseline" or figure.baseline is None:
        return _no_baseline(threshold, figure)
    unit, factor = DISPLAY[threshold.aggregate.dimension]
    detail = f"baseline {figure.baseline * factor:.4g} {unit} from {_runs(figure)}"
    return make_result(
        threshold,
        observed,
        detail="no data; " + detail if observed is None else detail,
        limit=ref.limit(figure.baseline),
        baseline_runs=figure.runs,
    )


def judge_regression(
    threshold: Threshold, figures: BaselineFigures | None, faults: Faults
) -> ThresholdResult:
    """`regression(metric) op PERCENT`: the comparison's estimated shift, in the bad direction
    (a fall in throughput is a positive regression), against the percentage.

    The shift is in percent of the baseline for latency and rps, in percentage points for the
    error rate; the verdict reads the estimate, the detail shows its interval and outcome.
    """
    phase = threshold.phase
    if phase is not None and phase.fault not in faults:
        detail = not_injected(phase.fault)
        return make_result(threshold, None, detail=detail, unit=_unit(threshold))
    figure = _figure(threshold, figures)
    if figure is None or figure.outcome == "no_baseline" or figure.shift is None:
        return _no_baseline(threshold, figure)
    sign = -1.0 if threshold.aggregate.subject == "rps" else 1.0
    shift = sign * figure.shift
    unit = _unit(threshold) or "%"
    return make_result(
        threshold,
        shift,
        detail=_regression_detail(figure, sign, unit),
        baseline_runs=figure.runs,
        unit=unit,
    )


def _unit(threshold: Threshold) -> str | None:
    """Percentage points for a shift in error rate; otherwise the dimension's own unit."""
    return "pp" if threshold.aggregate.subject == "error_rate" else None


def _regression_detail(figure: BaselineFigure, sign: float, unit: str) -> str:
    text = f"{_runs(figure)}, comparison: {figure.outcome}"
    if figure.low is None or figure.high is None:
        return text
    low, high = sorted((sign * figure.low * 100, sign * figure.high * 100))
    return f"interval {low:+.3g} .. {high:+.3g} {unit}; {text}"


def _runs(figure: BaselineFigure) -> str:
    return f"{len(figure.runs)} baseline run{'' if len(figure.runs) == 1 else 's'}"


def _no_baseline(threshold: Threshold, figure: BaselineFigure | None) -> ThresholdResult:
    """Never a pass: the verdict is `no_data`, and the runs found so far (if any) are kept."""
    runs = () if figure is None else figure.runs
    return make_result(
        threshold,
        None,
        detail=NO_BASELINE,
        verdict=Verdict.NO_DATA,
        baseline_runs=runs,
        unit=_unit(threshold),
    )
