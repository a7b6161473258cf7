"""Judge `signal(NAME)` thresholds against a server-side signal's per-second values (pure).

A signal arrives as one value per second of the load, `None` for a second without data (the
source did not answer, or its body was malformed). Without a reducer every second with data
must hold and the observed value is the worst one; `max`, `min`, `avg`, `last` reduce the
seconds first. `over D` judges every full D-second window that has data and reports the worst;
`before|during|after FAULT` cuts the fault's phase first. Seconds without data are skipped and
counted in the detail; a threshold left with no second of data is `no_data`, never a pass.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from contval.metrics.phases import phase_range
from contval.thresholds.ast import Op, Threshold
from contval.thresholds.baseline import BaselineFigures, baseline_key, judge_against_baseline
from contval.thresholds.phases import NO_FAULTS, Faults, not_injected
from contval.thresholds.result import ThresholdResult, make_result

Values = Sequence[float | None]


@dataclass(frozen=True, slots=True)
class SignalSeries:
    """A signal's values per second of the load (None = no data) and its unit, if declared."""

    values: Values
    unit: str | None = None


Signals = Mapping[str, SignalSeries]


def reduce(threshold: Threshold, values: Sequence[float]) -> float:
    """One number for a non-empty run of values, as the threshold's reducer (or op) says."""
    how = threshold.aggregate.reduce
    if how == "max":
        return max(values)
    if how == "min":
        return min(values)
    if how == "avg":
        return math.fsum(values) / len(values)
    if how == "last":
        return values[-1]
    op = threshold.op
    if op.upper_bound:
        return max(values)
    if op in (Op.GT, Op.GE):
        return min(values)
    failing = [v for v in values if not op.holds(v, threshold.value)]
    return failing[0] if failing else values[0]


def _cut(threshold: Threshold, values: Values, faults: Faults) -> tuple[int, int] | str:
    """[t0, t1) of the seconds the threshold reads, or why there are none."""
    end = len(values)
    if threshold.phase is None:
        return 0, end
    window = faults.get(threshold.phase.fault)
    if window is None:
        return not_injected(threshold.phase.fault)
    return phase_range(str(threshold.phase.kind), window, 0, end)


def evaluate_signal(
    threshold: Threshold,
    signals: Signals | None,
    faults: Faults = NO_FAULTS,
    baseline: BaselineFigures | None = None,
) -> ThresholdResult:
    """The verdict of a `signal(NAME)` threshold over the whole load (or its phase); against
    the baseline's figure when it names the baseline."""
    name = threshold.aggregate.subject or ""
    found = (signals or {}).get(name)
    if threshold.baseline is not None:
        return _against_baseline(threshold, found, faults, baseline)
    if found is None:
        return make_result(threshold, None, detail=f"signal {name} was not read in this run")
    unit = found.unit or ""
    cut = _cut(threshold, found.values, faults)
    if isinstance(cut, str):
        return make_result(threshold, None, detail=cut, unit=unit)
    t0, t1 = cut
    part = found.values[t0:t1]
    missing = sum(1 for v in part if v is None)
    note = f"{missing} of {len(part)}s without data" if missing else ""
    size = threshold.window
    if size is None:
        data = [v for v in part if v is not None]
        if not data:
            return make_result(threshold, None, detail=_no_data(name, len(part)), unit=unit)
        return make_result(threshold, reduce(threshold, data), detail=note, unit=unit)
    worst = _worst_window(threshold, part, size, t0)
    if worst is None:
        detail = f"no full {size}s window with data of signal {name}"
        return make_result(threshold, None, detail=detail, unit=unit)
    value, window = worst
    return make_result(threshold, value, window=window, detail=note, unit=unit)


def _against_baseline(
    threshold: Threshold,
    found: SignalSeries | None,
    faults: Faults,
    figures: BaselineFigures | None,
) -> ThresholdResult:
    """`signal(NAME) [reducer] op baseline ± offset`: with a reducer, the reducer's value of the
    run (or phase); without one, the median of the run's windows as the gate measured it (a
    worst second against a baseline's typical window would fail on any spike)."""
    observed: float | None = None
    if threshold.phase is not None and threshold.phase.fault not in faults:
        return make_result(threshold, None, detail=not_injected(threshold.phase.fault))
    if threshold.aggregate.reduce is None:
        key = baseline_key(threshold)
        figure = None if figures is None or key is None else figures.get(key)
        observed = None if figure is None else figure.current
    elif found is not None:
        cut = _cut(threshold, found.values, faults)
        if not isinstance(cut, str):
            data = [v for v in found.values[cut[0] : cut[1]] if v is not None]
            observed = reduce(threshold, data) if data else None
    result = judge_against_baseline(threshold, observed, figures)
    unit = found.unit if found is not None else None
    return replace(result, unit=unit or "")


def _no_data(name: str, seconds: int) -> str:
    if seconds == 0:
        return f"no data: the phase has no seconds of signal {name}"
    return f"no data: signal {name} had no value in any of its {seconds}s"


def _worst_window(
    threshold: Threshold, part: Values, size: int, t0: int
) -> tuple[float, tuple[int, int]] | None:
    """Every full window with data; the first failing one that is worst, or the worst."""
    worst: tuple[float, tuple[int, int]] | None = None
    failed = False
    for start in range(len(part) - size + 1):
        data = [v for v in part[start : start + size] if v is not None]
        if not data:
            continue
        value = reduce(threshold, data)
        fails = not threshold.op.holds(value, threshold.value)
        if (
            worst is None
            or (fails and not failed)
            or (fails == failed and _worse(threshold, value, worst[0]))
        ):
            worst = (value, (t0 + start, t0 + start + size))
        failed = failed or fails
    return worst


def _worse(threshold: Threshold, value: float, current: float) -> bool:
    op = threshold.op
    if op.upper_bound:
        return value > current
    if op in (Op.GT, Op.GE):
        return value < current
    return False


def abort_signal(
    threshold: Threshold, signals: Signals | None, now: int, faults: Faults = NO_FAULTS
) -> ThresholdResult | None:
    """During the load: the failing result if the threshold fails on the seconds [0, now)
    (its phase so far, or its last full window), else None; no data never aborts."""
    name = threshold.aggregate.subject or ""
    found = (signals or {}).get(name)
    if found is None:
        return None
    values = list(found.values[:now])
    cut = _cut(threshold, values, faults)
    if isinstance(cut, str):
        return None
    t0, t1 = cut
    if threshold.window is not None:
        if t1 - t0 < threshold.window:
            return None
        t0 = t1 - threshold.window
    data = [v for v in values[t0:t1] if v is not None]
    if not data:
        return None
    value = reduce(threshold, data)
    if threshold.op.holds(value, threshold.value):
        return None
    window = (t0, t1) if threshold.window else None
    return make_result(threshold, value, window=window, unit=found.unit or "")
