"""A threshold's verdict with its evidence, in the units people read.

Kept apart from the evaluators so every way of judging (whole run, windows, phases,
recovery) reports through one constructor and one shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from contval.thresholds.ast import Dimension, Threshold


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NO_DATA = "no_data"


# How a dimension is shown: unit name and factor from base units.
DISPLAY: Final = {
    Dimension.TIME: ("ms", 1000.0),
    Dimension.RATIO: ("%", 100.0),
    Dimension.RATE: ("/s", 1.0),
    Dimension.COUNT: ("count", 1.0),
}


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    """A verdict with its evidence; `observed` and `limit` are in `unit` (ms, %, /s, count)."""

    expression: str
    verdict: Verdict
    observed: float | None
    limit: float
    unit: str
    window: tuple[int, int] | None = None
    """The worst window [t0, t1) in seconds from run start, for `over` thresholds; for
    `recovery_time`, from the fault's end to recovery (or to the end of the run)."""
    abort: bool = False
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "expression": self.expression,
            "verdict": str(self.verdict),
            "observed": self.observed,
            "limit": self.limit,
            "unit": self.unit,
            "window": list(self.window) if self.window else None,
            "abort": self.abort,
            "detail": self.detail,
        }


def make_result(
    threshold: Threshold,
    observed: float | None,
    window: tuple[int, int] | None = None,
    detail: str = "",
    verdict: Verdict | None = None,
) -> ThresholdResult:
    """`observed` is in base units. The verdict follows from it unless given: a scope that never
    recovered fails whatever its lower-bound observation says."""
    unit, factor = DISPLAY[threshold.aggregate.dimension]
    if verdict is None:
        verdict = _verdict(threshold, observed)
    return ThresholdResult(
        expression=threshold.expression or threshold.to_text(),
        verdict=verdict,
        observed=None if observed is None else observed * factor,
        limit=threshold.value * factor,
        unit=unit,
        window=window,
        abort=threshold.abort,
        detail=detail or ("no data" if observed is None else ""),
    )


def _verdict(threshold: Threshold, observed: float | None) -> Verdict:
    if observed is None:
        return Verdict.NO_DATA
    return Verdict.PASS if threshold.op.holds(observed, threshold.value) else Verdict.FAIL
