"""Cutting a finished run into the fixed windows the history store keeps and compares.

A run is kept as 10-second windows per (flow, step) rather than per-second rows (too many)
or one whole-run total (no spread to compare): windows give the statistics several samples
per run and stay small. For chaos scenarios the window grid restarts at every fault's start
and end, so no window mixes phases and each can be tagged before / during / after per fault.
Pure: no clock, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise

from contval.baseline.records import Phase, SignalWindow, WindowRecord
from contval.metrics import Series
from contval.metrics.phases import Window

DEFAULT_SIZE = 10


def windows_of(
    series: Series,
    size: int = DEFAULT_SIZE,
    faults: Mapping[str, Window] | None = None,
    span: Window | None = None,
) -> list[WindowRecord]:
    """Every (flow, step) of `series` over consecutive windows of `size` seconds.

    Windows tile `span` (default [series.start, series.end)) exactly; the gate passes the
    planned [0, duration) so a run and its baseline runs share one grid whatever they drained
    or lost. The last window of a segment (before a fault edge or the end) may be shorter.
    Every slot seen in the run gets a record in every window, zero counts included: a flow that
    went quiet is data, not a gap.
    """
    if size < 1:
        raise ValueError("window size must be at least one second")
    keys = series.slot_keys()
    records: list[WindowRecord] = []
    start, end = span if span is not None else (series.start, series.end)
    for t0, t1 in grid(start, end, size, faults or {}):
        totals = series.window(t0, t1)
        phases = phases_at(t0, faults or {})
        for flow, step in keys:
            part = totals.slots.get((flow, step))
            if part is None:
                records.append(WindowRecord(flow, step, t0, t1, phases=phases))
                continue
            records.append(
                WindowRecord(
                    flow=flow,
                    step=step,
                    t0=t0,
                    t1=t1,
                    requests=part.counters.requests,
                    errors=part.counters.error_count,
                    iterations=part.counters.iterations,
                    latency=part.latency.encode(),
                    duration=part.duration.encode(),
                    phases=phases,
                    dropped=part.counters.dropped_iterations,
                    late=part.counters.late_starts,
                )
            )
    return records


def signal_windows_of(
    signals: Mapping[str, Sequence[float | None]],
    size: int = DEFAULT_SIZE,
    faults: Mapping[str, Window] | None = None,
    span: Window | None = None,
) -> list[SignalWindow]:
    """Each signal (one value per second of the load, None = no data) over the same windows
    `windows_of` cuts for the same `size`, `faults` and `span`: its mean and peak per window."""
    records: list[SignalWindow] = []
    length = max((len(v) for v in signals.values()), default=0)
    start, end = span if span is not None else (0, length)
    for t0, t1 in grid(start, end, size, faults or {}):
        phases = phases_at(t0, faults or {})
        for name, values in sorted(signals.items()):
            data = [v for v in values[max(t0, 0) : max(t1, 0)] if v is not None]
            mean = math.fsum(data) / len(data) if data else None
            peak = max(data) if data else None
            records.append(SignalWindow(name, t0, t1, len(data), mean, peak, phases))
    return records


def grid(start: int, end: int, size: int, faults: Mapping[str, Window]) -> list[Window]:
    """[t0, t1) windows of `size` seconds covering [start, end), restarting at fault edges."""
    edges = {start, end} | {
        min(max(edge, start), end) for window in faults.values() for edge in window
    }
    cuts = sorted(edges)
    windows: list[Window] = []
    for seg0, seg1 in pairwise(cuts):
        windows += [(t, min(t + size, seg1)) for t in range(seg0, seg1, size)]
    return windows


def phases_at(second: int, faults: Mapping[str, Window]) -> dict[str, Phase]:
    """The phase of `second` around each fault (windows are half-open, as in metrics.phases)."""
    return {name: _phase(second, window) for name, window in sorted(faults.items())}


def _phase(second: int, window: Window) -> Phase:
    f0, f1 = window
    if second < f0:
        return "before"
    return "during" if second < f1 else "after"
