"""Micro-benchmark of the recorder's hot path: nanoseconds per recorded request.

Run: `.venv/bin/python bench/recorder.py`. Prints ns per call for `Slot.request` (what the
flow runner calls per request) against peers measured in the same run — hdrhistogram's own
`record_value`, and appending to a list (what sample-keeping tools do) — plus the per-second
cost of a snapshot. Not a test: numbers depend on the machine; read the ratios.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from contval.metrics import ErrorClass, Recorder
from contval.metrics.hdr import new_hdr

N = 1_000_000
REPEATS = 5


def _ns_per_call(fn: Callable[[float], object], values: list[float]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        for v in values:
            fn(v)
        best = min(best, (time.perf_counter_ns() - start) / len(values))
    return best


def _snapshot_us(slots: int) -> float:
    rec = Recorder()
    resolved = [rec.slot("flow", f"step {i}") for i in range(slots)]
    best = float("inf")
    for second in range(REPEATS):
        for slot in resolved:
            for v in range(1000):
                slot.request(v * 1e-5)
        start = time.perf_counter_ns()
        rec.snapshot(second)
        best = min(best, (time.perf_counter_ns() - start) / 1000)
    return best


def main() -> None:
    values = [((i * 7919) % 200_000) * 1e-6 for i in range(N)]
    rec = Recorder()
    slot = rec.slot("browse", "list products")
    hdr = new_hdr()
    samples: list[float] = []
    us_values: list[float] = [int(v * 1e6) for v in values]

    def baseline(v: float) -> None:
        pass

    def error(v: float) -> None:
        slot.error(ErrorClass.HTTP_STATUS, v)

    record_value: Callable[[float], object] = hdr.record_value
    rows = {
        "empty Python call": _ns_per_call(baseline, values),
        "Slot.request(latency)": _ns_per_call(slot.request, values),
        "Slot.error(kind, latency)": _ns_per_call(error, values),
        "HdrHistogram.record_value(us)": _ns_per_call(record_value, us_values),
        "list.append (keeps samples)": _ns_per_call(samples.append, values),
    }
    ours = rows["Slot.request(latency)"]
    print(f"{'operation':32} {'ns/call':>8} {'vs Slot.request':>16}")
    for name, ns in rows.items():
        print(f"{name:32} {ns:8.0f} {ns / ours:15.2f}x")
    print("(list.append is cheap per call but its memory grows with every request)")
    for slots in (1, 20):
        print(f"snapshot of {slots:2} busy slots: {_snapshot_us(slots):8.0f} µs per second")


if __name__ == "__main__":
    main()
