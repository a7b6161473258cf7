"""Scale-out costs the controller pays, measured without a cluster (issue 13, first part).

Run: `.venv/bin/python bench/scale.py`. Prints, for 1-64 workers, the controller's cost to
decode and merge one second of worker snapshots (µs per snapshot merged: a worker-second), and
what shipping one worker its job costs (the loaded suite and data rows, pickled). Then, when
Ray is installed (`contval[ray]`) and nginx is there (`apt-get install -y nginx-light`), the
single-GET flow against nginx with 1 and 2 workers (`--widths 1,2,4,8` on a bigger machine),
local worker processes and Ray actors (a one-node Ray started here) side by side, in
interleaved pairs (`--pairs`): req/s, and CPU µs per request of the workers (from /proc, load
only: start-up excluded) and of the controller, then the medians. `--no-merge` runs only that
part. Not a test: read ratios.
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from contval.engine import messages as msg
from contval.engine.local import LocalController
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


THROUGHPUT_SUITE = """version: 1
name: scale-bench
targets:
  nginx: http://127.0.0.1:{port}
flows:
  get:
    target: nginx
    steps:
      - name: get
        request: GET /
        check: {{status: 200}}
workloads:
  load:
    executor: constant-vus
    vus: {vus}
    duration: {seconds}s
    mix: {{get: 1}}
scenarios:
  main:
    workload: load
"""


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Run:
    """One throughput run: req/s, and CPU µs per request of the workers and of the controller
    (this process, Ray's driver threads included on Ray)."""

    rps: float
    worker_us: float
    controller_us: float


def throughput(suite: Path, engine: str, workers: int) -> Run:
    """One run of the suite on local worker processes or on Ray actors."""
    jobs = msg.jobs_for(load_suite(suite), "main", workers)
    controller: Any
    if engine == "ray":
        from contval.engine.ray_controller import RayController

        controller = RayController(jobs, "auto")
    else:
        controller = LocalController(jobs)
    controller.start()
    try:
        if engine == "ray":
            pids = [a.node["pid"] for a in controller.actors]
        else:
            pids = [p.process.pid for p in controller.peers]
        cpu = sum(_cpu_s(pid) for pid in pids)
        own = time.process_time()
        outcome = controller.run(lambda series, snapshot, stats: None)
        own = time.process_time() - own
        cpu = sum(_cpu_s(pid) for pid in pids) - cpu
    finally:
        controller.close()
    requests = max(outcome.series.totals().counters().requests, 1)
    return Run(requests / max(outcome.elapsed, 1e-9), cpu / requests * 1e6, own / requests * 1e6)


def compare_engines(widths: list[int], seconds: int, vus: int, pairs: int) -> None:
    """Local processes vs Ray actors against nginx: `pairs` interleaved pairs per width (the
    order alternates, so a drift in the machine's load hits both engines alike), then the
    medians and the median of the per-pair ratios."""
    try:
        import ray
    except ImportError:
        print("throughput: skipped (Ray is not installed: pip install 'contval[ray]')")
        return
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        print("throughput: skipped (nginx not found: apt-get install -y nginx-light)")
        return
    sys.path.insert(0, str(Path(__file__).parent))
    import tempfile

    from http_client import free_port, nginx

    cores = len(os.sched_getaffinity(0))
    ray.init(address="local", num_cpus=max(widths), include_dashboard=False, log_to_driver=False)
    port = free_port()
    print(
        f"throughput: GET / against nginx (1 nginx worker), {vus} VUs per worker, {seconds}s, "
        f"{pairs} interleaved pair(s); {cores} cores here, nginx and the workers share them"
    )
    with tempfile.TemporaryDirectory() as directory, nginx(port, None):
        for width in widths:
            suite = Path(directory) / f"suite-{width}.yaml"
            suite.write_text(THROUGHPUT_SUITE.format(port=port, vus=vus * width, seconds=seconds))
            runs: dict[str, list[Run]] = {"local": [], "ray": []}
            for pair in range(pairs):
                for engine in ("local", "ray") if pair % 2 == 0 else ("ray", "local"):
                    run = throughput(suite, engine, width)
                    runs[engine].append(run)
                    print(
                        f"  {width} worker(s) {engine:>5}: {run.rps:9,.0f} req/s, "
                        f"{run.worker_us:5.1f} CPU µs per request in the workers, "
                        f"{run.controller_us:4.2f} in the controller"
                    )
            _summary(width, runs)
    ray.shutdown()


def _summary(width: int, runs: dict[str, list[Run]]) -> None:
    local, ray_ = runs["local"], runs["ray"]
    rps = [r.rps / loc.rps for r, loc in zip(ray_, local, strict=True)]
    cpu = [
        (r.worker_us + r.controller_us) / (loc.worker_us + loc.controller_us)
        for r, loc in zip(ray_, local, strict=True)
    ]
    for name, engine in (("local", local), ("Ray", ray_)):
        print(
            f"  {width} worker(s) {name:>5} median: {median(r.rps for r in engine):9,.0f} req/s, "
            f"{median(r.worker_us for r in engine):5.1f} + "
            f"{median(r.controller_us for r in engine):4.2f} CPU µs per request"
        )
    print(
        f"  {width} worker(s): Ray/local, median of the pairs: req/s {median(rps) * 100:.0f} %, "
        f"CPU per request (workers + controller) {median(cpu) * 100:.0f} %"
    )


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--widths", default="1,2", help="worker counts to compare (1,2)")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--vus", type=int, default=32, help="virtual users per worker")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved local/Ray pairs")
    parser.add_argument("--no-merge", action="store_true", help="only the throughput part")
    args = parser.parse_args()

    widths = [int(w) for w in args.widths.split(",")]
    if args.no_merge:
        compare_engines(widths, args.seconds, args.vus, args.pairs)
        return
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
    compare_engines(widths, args.seconds, args.vus, args.pairs)


if __name__ == "__main__":
    main()
