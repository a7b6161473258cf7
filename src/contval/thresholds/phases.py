"""Which seconds a phase-qualified threshold reads: `before`, `during` or `after` a fault.

The fault windows come from the run (planned or actual injection seconds); a phase naming a
fault that was not injected has no seconds at all, which evaluation reports as `no_data`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from contval.metrics.phases import Window, phase_range, phase_series
from contval.metrics.series import Series
from contval.thresholds.ast import Phase

Faults = Mapping[str, Window]
NO_FAULTS: Final[Faults] = MappingProxyType({})
"""The default: a run without chaos. Immutable, so it is safe as a default argument."""


def not_injected(fault: str) -> str:
    return f"fault {fault} was not injected in this run (skipped, or not in this scenario)"


def phase_window(
    phase: Phase, series: Series, faults: Faults, end: int | None = None
) -> Window | str:
    """[t0, t1) of `phase` within the series up to `end` (default: its end), or why none."""
    window = faults.get(phase.fault)
    if window is None:
        return not_injected(phase.fault)
    last = series.end if end is None else end
    return phase_range(str(phase.kind), window, series.start, last)


class PhaseCuts:
    """Phase sub-series, cut once per window: several thresholds often judge the same phase,
    and cutting decodes every second's histograms."""

    def __init__(self, series: Series) -> None:
        self.series = series
        self._cuts: dict[Window, Series] = {}

    def __call__(self, window: Window) -> Series:
        cut = self._cuts.get(window)
        if cut is None:
            cut = self._cuts[window] = phase_series(self.series, *window)
        return cut
