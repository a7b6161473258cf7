"""`recovery_time`: how long a scope took to return to its pre-fault band after a fault.

Measured per fault by `contval.metrics.phases` (`recovery` for a flow's or the scenario's
requests, `signal_recovery` for a server-side signal, `recovery_time(signal(NAME))`: one
streak rule, two bands); judged here. With several faults the
worst one decides. A scope that never recovered fails, whatever the limit: its observed value
(the time from the fault's end to the end of the run) is only a lower bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contval.metrics.phases import (
    Band,
    Recovery,
    RecoveryStatus,
    Slots,
    recovery,
    signal_recovery,
)
from contval.metrics.series import Series
from contval.thresholds.ast import Threshold
from contval.thresholds.phases import Faults, not_injected
from contval.thresholds.result import ThresholdResult, Verdict, make_result
from contval.thresholds.signals import Signals


def evaluate_recovery(
    threshold: Threshold, series: Series, faults: Faults, signals: Signals | None = None
) -> ThresholdResult:
    """Judge `recovery_time` for the fault named with `after F`, or for every injected fault;
    of the requests in the threshold's scope, or of the signal it names."""
    if threshold.phase is not None:
        if threshold.phase.fault not in faults:
            return make_result(threshold, None, detail=not_injected(threshold.phase.fault))
        names = [threshold.phase.fault]
    else:
        names = sorted(faults)
    if not names:
        return make_result(threshold, None, detail="no fault was injected in this run")
    signal = threshold.aggregate.subject
    if signal is not None:
        found = (signals or {}).get(signal)
        if found is None:
            return make_result(threshold, None, detail=f"signal {signal} was not read in this run")
        return _judge(threshold, [signal_recovery(found.values, name, faults) for name in names])
    scope = Slots(threshold.scope.flow, threshold.scope.step)
    return _judge(threshold, [recovery(series, name, faults, scope) for name in names])


def _judge(threshold: Threshold, measured: Sequence[Recovery[Any]]) -> ThresholdResult:
    """Not recovered beats no data beats a measured time: each hides less than the next."""
    stuck = [m for m in measured if m.status is RecoveryStatus.NOT_RECOVERED]
    if stuck:
        worst = max(stuck, key=lambda m: m.seconds or 0)
        detail = f"{worst.fault}: {worst.detail}{_band(worst)}"
        return make_result(threshold, _float(worst), worst.window, detail, Verdict.FAIL)
    missing = [m for m in measured if m.status is RecoveryStatus.NO_DATA]
    if missing:
        detail = "; ".join(f"{m.fault}: {m.detail}" for m in missing)
        return make_result(threshold, None, detail=f"no data ({detail})")
    worst = max(measured, key=lambda m: m.seconds or 0)
    detail = f"{worst.fault}: recovered {worst.seconds}s after it ended{_band(worst)}"
    return make_result(threshold, _float(worst), worst.window, detail)


def _band(measured: Recovery[Any]) -> str:
    band = measured.band
    if band is None:
        return ""
    if not isinstance(band, Band):
        return (
            f" (band: {band.low:.4g} .. {band.high:.4g}, from {band.min_seen:.4g} .. "
            f"{band.max_seen:.4g} before the fault)"
        )
    text = f" (band: error rate <= {band.max_error_rate * 100:.3g}%"
    if band.max_p95_us is not None:
        text += f", p95 <= {band.max_p95_us / 1000:.4g}ms"
    return text + ")"


def _float(measured: Recovery[Any]) -> float | None:
    return None if measured.seconds is None else float(measured.seconds)
