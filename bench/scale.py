"""Scale-out costs the controller pays, measured without a cluster (issue 13, first part).

Run: `.venv/bin/python bench/scale.py`. Prints, for 1-64 workers, the controller's cost to
decode and merge one second of worker snapshots (µs per snapshot merged: a worker-second), and
what shipping one worker its job costs (the loaded suite and data rows, pickled). Local vs Ray
throughput side by side is not here yet: it needs the Ray controller. Not a test: read ratios.
"""

from __future__ import annotations

import pickle
import random
import time

from contval.engine import messages as msg
from contval.metrics import Recorder, Snapshot
from contval.metrics.snapshot import merge
from contval.spec import load_suite

STEPS = ("browse", "search", "checkout")
REQUESTS_PER_STEP = 2_000  # per worker-second: 6,000 requests/s per worker
REPEATS = 5


def _wire_snapshot(seed: int) -> dict[str, object]:
    """One worker's second as it crosses the pipe (or Ray's object store): a plain dict."""
    rng = random.Random(seed)
    recorder = Recorder()
    for step in STEPS:
        slot = recorder.slot("shop", step)
        for _ in range(REQUESTS_PER_STEP):
            slot.request(rng.lognormvariate(-3.5, 0.6))
    return recorder.snapshot(0).to_dict()


def merge_cost_us(workers: int) -> float:
    """Best-of µs per worker snapshot to decode and merge one second from `workers`."""
    wire = [_wire_snapshot(w) for w in range(workers)]
    best = float("inf")
    for _ in range(REPEATS):
        began = time.perf_counter()
        merged = merge(Snapshot.from_dict(d) for d in wire)
        best = min(best, time.perf_counter() - began)
        assert len(merged) == 1
    return best / workers * 1e6


def ship_cost_ms(flows: int, rows: int, directory: str) -> tuple[float, int]:
    """ms to pickle and unpickle one job for a suite of `flows` flows and a `rows`-row feeder."""
    from pathlib import Path

    root = Path(directory)
    (root / "rows.csv").write_text("id\n" + "".join(f"{i}\n" for i in range(rows)))
    body = "".join(
        f"  f{i}:\n    target: app\n    steps:\n      - name: get\n"
        f"        request: GET /x?u={{{{ data.rows.id }}}}\n        check: {{status: 200}}\n"
        for i in range(flows)
    )
    mix = ", ".join(f"f{i}: 1" for i in range(flows))
    (root / "suite.yaml").write_text(
        "version: 1\nname: bench\ntargets:\n  app: http://127.0.0.1:9\n"
        "data:\n  rows: {csv: rows.csv}\nflows:\n" + body + "workloads:\n  load:\n"
        "    executor: constant-arrival-rate\n    rate: 1/s\n    duration: 1s\n"
        f"    max_vus: 10\n    mix: {{{mix}}}\nscenarios:\n  main:\n    workload: load\n"
    )
    job = msg.jobs_for(load_suite(root / "suite.yaml"), "main", 1)[0]
    began = time.perf_counter()
    blob = pickle.dumps(job)
    pickle.loads(blob)
    return (time.perf_counter() - began) * 1000, len(blob)


def main() -> None:
    import tempfile

    print(f"merge: {len(STEPS)} steps x {REQUESTS_PER_STEP} requests per worker-second")
    base = merge_cost_us(2)  # one worker is not merged at all
    for workers in (1, 2, 8, 64):
        us = merge_cost_us(workers)
        share = us * workers / 1e6 * 100
        print(
            f"  {workers:>3} workers: {us:8.0f} µs per snapshot "
            f"({us / base:4.2f}x of 2 workers; {share:5.1f} % of one controller core per second)"
        )
    with tempfile.TemporaryDirectory() as directory:
        for flows, rows in ((10, 1_000), (500, 20_000)):
            ms, size = ship_cost_ms(flows, rows, directory)
            print(f"ship: {flows} flows, {rows} rows: {ms:.1f} ms, {size / 1000:.0f} kB per job")


if __name__ == "__main__":
    main()
