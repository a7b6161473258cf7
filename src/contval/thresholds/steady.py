"""The steady-state gate before a fault: inject only when the system is healthy before it.

Chaos on a system that is already failing proves nothing, so a scenario whose `before FAULT`
thresholds do not hold is invalid rather than passed or failed. No data counts as not holding:
a steady state nobody measured is unproven, and injecting on it would be a guess.
"""

from __future__ import annotations

from collections.abc import Iterable

from contval.metrics.series import Series
from contval.thresholds.ast import Phase, PhaseKind, Threshold
from contval.thresholds.evaluate import evaluate_all
from contval.thresholds.phases import Faults
from contval.thresholds.result import ThresholdResult, Verdict


def steady_state(
    thresholds: Iterable[Threshold], series: Series, fault: str, faults: Faults
) -> list[ThresholdResult]:
    """The `before fault` thresholds that do not hold (fail or no data) on the series so far.

    Call it at the planned injection second: the series then ends where the fault would start.
    `faults` must hold `fault`'s planned window; other thresholds are ignored. An empty list
    means: inject.
    """
    if fault not in faults:
        raise ValueError(f"steady_state needs the planned window of fault {fault!r}")
    gate = Phase(PhaseKind.BEFORE, fault)
    before = [t for t in thresholds if t.phase == gate]
    results = evaluate_all(before, series, faults)
    return [r for r in results if r.verdict is not Verdict.PASS]
