"""Judge parsed thresholds against a run's metrics: pure functions, no clock, no I/O.

Whole-run thresholds read the series' running totals. `over D` thresholds must hold in every
full D-second window of the per-second series (sliding one second at a time); the result
reports the worst window. No data is never a pass: an aggregate with nothing to measure (no
requests, an empty histogram, a run shorter than the window) yields `no_data`.

A threshold qualified `before|during|after FAULT` is judged on that phase's seconds only, cut
out as a series of its own (windows slide within the phase); one naming a fault that was not
injected yields `no_data`. `recovery_time` is judged in `contval.thresholds.resilience`.

Thresholds naming the baseline (`baseline ± offset`, `regression(...)`) read `baseline`
figures the pipeline computed; they are judged in `contval.thresholds.baseline`, and without
a baseline they are `no_data`, never a pass. `signal(NAME)` thresholds read the server-side
`signals` the run scraped; they are judged in `contval.thresholds.signals`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from weakref import WeakKeyDictionary

from contval.metrics.hdr import Histogram
from contval.metrics.rates import per_second
from contval.metrics.series import Counters, RunningWindow, Series, Totals
from contval.metrics.snapshot import Key
from contval.thresholds.ast import Countable, Kind, Op, Threshold
from contval.thresholds.baseline import BaselineFigures, judge_against_baseline, judge_regression
from contval.thresholds.phases import NO_FAULTS, Faults, PhaseCuts, phase_window
from contval.thresholds.resilience import evaluate_recovery
from contval.thresholds.result import DISPLAY, ThresholdResult, Verdict, make_result
from contval.thresholds.signals import Signals, abort_signal, evaluate_signal

__all__ = ["DISPLAY", "ThresholdResult", "Verdict", "check_abort", "evaluate", "evaluate_all"]

US_PER_S: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class _Source:
    """Which slots and which histogram a threshold reads; decided once per evaluation."""

    flow: str | None
    step: str | None
    histogram: str | None

    def __call__(self, key: Key) -> bool:
        flow, step = key
        return (self.flow is None or flow == self.flow) and (self.step is None or step == self.step)


def _source(threshold: Threshold, whole: Totals) -> _Source:
    """Durations of a flow are its iterations (step ""); a step's duration is its own when it
    recorded one (polls) and otherwise its request latency, which is the same thing."""
    scope, metric = threshold.scope, threshold.aggregate.metric
    if metric is None:
        return _Source(scope.flow, scope.step, None)
    if metric == "latency":
        return _Source(scope.flow, scope.step, "latency")
    if scope.step is None:
        return _Source(scope.flow, "", "duration")
    own = sum(t.duration.count for t in whole.select(scope.flow, scope.step))
    return _Source(scope.flow, scope.step, "duration" if own else "latency")


def _observe(threshold: Threshold, totals: Totals, source: _Source) -> float | None:
    """The aggregate's value in base units (seconds, fraction, /s, count), or None: no data."""
    parts = [t for k, t in totals.slots.items() if source(k)]
    agg = threshold.aggregate
    if source.histogram is not None:
        hist = Histogram()
        for part in parts:
            hist.add(getattr(part, source.histogram))
        return _time_of(agg.kind, agg.percentile, hist)
    c = Counters()
    for part in parts:
        c = c + part.counters
    if agg.kind is Kind.ERROR_RATE:
        return c.error_count / c.requests if c.requests else None
    if agg.kind is Kind.CHECKS:
        checks = c.checks_passed + c.checks_failed
        return c.checks_passed / checks if checks else None
    if agg.kind is Kind.RPS:
        return per_second(c.requests, totals.seconds) if parts else None
    if not parts or agg.kind is Kind.RECOVERY_TIME:
        return None
    if agg.kind is Kind.DROPPED_ITERATIONS:
        return float(c.dropped_iterations)
    counts = {
        Countable.REQUESTS: c.requests,
        Countable.ERRORS: c.error_count,
        Countable.ITERATIONS: c.iterations,
    }
    return float(counts[agg.countable]) if agg.countable else None


def _time_of(kind: Kind, percentile: float | None, hist: Histogram) -> float | None:
    if kind is Kind.PERCENTILE:
        us: float | None = hist.percentile(percentile or 0.0)
    elif kind is Kind.AVG:
        us = hist.mean()
    elif kind is Kind.MIN:
        us = hist.min()
    else:
        us = hist.max()
    return None if us is None else us / US_PER_S


def evaluate(
    threshold: Threshold,
    results: Series,
    faults: Faults = NO_FAULTS,
    baseline: BaselineFigures | None = None,
    signals: Signals | None = None,
) -> ThresholdResult:
    """Judge one threshold against a run's series (whole run, or every `over` window), within
    its phase when it names one. `faults` maps each injected fault to its [start, end) second;
    `baseline` holds the figures thresholds naming the baseline are judged with; `signals`
    the server-side series `signal(NAME)` reads."""
    return _evaluate(threshold, results, faults, PhaseCuts(results), baseline, signals)


def evaluate_all(
    thresholds: Iterable[Threshold],
    results: Series,
    faults: Faults = NO_FAULTS,
    baseline: BaselineFigures | None = None,
    signals: Signals | None = None,
) -> list[ThresholdResult]:
    cuts = PhaseCuts(results)
    return [_evaluate(t, results, faults, cuts, baseline, signals) for t in thresholds]


def _evaluate(
    threshold: Threshold,
    results: Series,
    faults: Faults,
    cuts: PhaseCuts,
    baseline: BaselineFigures | None,
    signals: Signals | None = None,
) -> ThresholdResult:
    if threshold.aggregate.kind is Kind.SIGNAL:
        return evaluate_signal(threshold, signals, faults, baseline)
    if threshold.aggregate.kind is Kind.RECOVERY_TIME:
        return evaluate_recovery(threshold, results, faults, signals)
    if threshold.aggregate.kind is Kind.REGRESSION:
        return judge_regression(threshold, baseline, faults)
    if threshold.phase is not None:
        window = phase_window(threshold.phase, results, faults)
        if isinstance(window, str):
            return make_result(threshold, None, detail=window)
        results = cuts(window)
    whole = results.totals()
    source = _source(threshold, whole)
    if threshold.baseline is not None:
        return judge_against_baseline(threshold, _observe(threshold, whole, source), baseline)
    if threshold.window is None:
        return make_result(threshold, _observe(threshold, whole, source))
    return _worst_window(threshold, results, source)


def _worst_window(threshold: Threshold, results: Series, source: _Source) -> ThresholdResult:
    """Slide over every full window; keep the first failing one that is worst, or the worst."""
    size = threshold.window or 1
    worst: tuple[float, tuple[int, int]] | None = None
    failed = False
    hist = source.histogram is not None
    for totals in results.sliding(size, source, histograms=hist):
        value = _observe(threshold, totals, source)
        if value is None:
            continue
        fails = not threshold.op.holds(value, threshold.value)
        if worst is None or _worse(threshold.op, value, worst[0], fails, failed):
            worst = (value, (totals.start, totals.end))
        failed = failed or fails
    if worst is None:
        return make_result(threshold, None, detail=f"no full {size}s window with data")
    return make_result(threshold, worst[0], window=worst[1])


def _worse(op: Op, value: float, current: float, fails: bool, failed: bool) -> bool:
    if op.upper_bound:
        return value > current
    if op in (Op.GT, Op.GE):
        return value < current
    return fails and not failed  # == and !=: the first failing window


def check_abort(
    threshold: Threshold,
    results: Series,
    now: int | None = None,
    faults: Faults = NO_FAULTS,
    signals: Signals | None = None,
) -> ThresholdResult | None:
    """During a run: the failing result if `threshold` fails at second `now`, else None.

    `now` is the number of complete seconds (default: the series' end). Windowed thresholds
    look at the last full window [now - D, now); others at everything so far, within the
    threshold's phase when it names one (a fault not injected yet has no phase yet). No data
    never aborts a run, and neither does `recovery_time`, which is only known once a fault is
    over and the scope is back in its band (or the run ended), nor a threshold naming the
    baseline, which is compared once the run is over.
    """
    end = results.end if now is None else now
    if threshold.aggregate.kind is Kind.SIGNAL:
        return abort_signal(threshold, signals, end, faults)
    if threshold.aggregate.kind is Kind.RECOVERY_TIME or threshold.needs_baseline:
        return None
    source = _source(threshold, results.totals())
    totals = _abort_totals(threshold, results, end, faults, source)
    if totals is None:
        return None
    value = _observe(threshold, totals, source)
    if value is None or threshold.op.holds(value, threshold.value):
        return None
    window = (totals.start, totals.end) if threshold.window else None
    return make_result(threshold, value, window=window)


def _abort_totals(
    threshold: Threshold, results: Series, end: int, faults: Faults, source: _Source
) -> Totals | None:
    """What an abort check reads: the last full window, or everything so far (of the phase).

    Reads the window directly rather than cutting a phase series: this runs every second. A
    whole-run threshold without a phase reads the series' running totals; a windowed or
    phase-scoped one a window kept from the previous call and moved forward (`_RUNNING`).
    """
    start = results.start
    if threshold.phase is not None:
        phase = phase_window(threshold.phase, results, faults, end)
        if isinstance(phase, str) or phase[1] <= phase[0]:
            return None
        start, end = phase
    elif threshold.window is None:
        return results.totals()
    if threshold.window is not None:
        if end - start < threshold.window:
            return None
        start = end - threshold.window
    return _running(results, threshold, source).move(results, start, end)


_RUNNING: WeakKeyDictionary[Series, dict[tuple[Threshold, _Source], RunningWindow]] = (
    WeakKeyDictionary()
)
"""Per running series, each abort threshold's window, moved forward a second at a time: the
per-second cost of a windowed or phase-scoped abort check does not grow with the window (a
whole-run one reads the series' own running totals). Keyed by the source as well: which
histogram a step's duration reads can change once the step records one."""


def _running(results: Series, threshold: Threshold, source: _Source) -> RunningWindow:
    windows = _RUNNING.get(results)
    if windows is None:
        windows = _RUNNING[results] = {}
    window = windows.get((threshold, source))
    if window is None:
        window = windows[threshold, source] = RunningWindow(source, source.histogram is not None)
    return window


def observe_window(threshold: Threshold, results: Series, t0: int, t1: int) -> float | None:
    """The threshold's aggregate over the seconds [t0, t1) of `results`, in base units (None:
    no data); its phase and `over` are ignored (the caller picked the window)."""
    source = _source(threshold, results.totals())
    totals = results.window(t0, t1, source, histograms=source.histogram is not None)
    return _observe(threshold, totals, source)
