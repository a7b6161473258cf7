"""Series with known answers, for tests of phases, thresholds and baselines."""

from __future__ import annotations

from contval.metrics import ErrorClass, Recorder, Series

Second = dict[str, tuple[int, int, float]]  # "flow/step" -> (ok, errors, latency ms)


def build_series(seconds: list[Second], iterations: bool = False) -> Series:
    """One snapshot per entry; `iterations` also records one iteration per row and second."""
    rec = Recorder()
    series = Series()
    for t, rows in enumerate(seconds):
        for name, (ok, errors, ms) in rows.items():
            flow, step = name.split("/")
            slot = rec.slot(flow, step)
            for _ in range(ok):
                slot.request(ms / 1000)
            for _ in range(errors):
                slot.error(ErrorClass.HTTP_STATUS, ms / 1000)
            if iterations:
                rec.slot(flow).iteration(ms / 1000)
        series.add(rec.snapshot(t))
    return series
