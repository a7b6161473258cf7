"""Benchmark: what one second of collection costs the controller, early in a run and an hour in.

Not a test. `contval run` runs a real suite in-process, with the local controller's workers
replaced by synthetic ones: each second, every worker's report arrives as it would over the
pipe (a snapshot dict with encoded HDR histograms of realistic shape, its stats), and the
controller does what it does in a real run: decodes it, merges the workers, adds the second to
the series, and calls the scenario's per-second callback (series row, per-flow series, the
append-only seconds log, progress line, every `abort` threshold: whole-run, windowed). Nothing
else runs, so the time measured is the controller's own.

It runs `--seconds` (default 3600) of collection as fast as it can and prints the median cost
of one second in the first minute and in the last minute, and their ratio. A controller whose
cost does not grow with the run prints a ratio near 1.0 (issue 16: a 1-hour run's last second
costs what its first did).

    .venv/bin/python bench/controller_cost.py [--seconds 3600] [--workers 2] [--flows 2]

The machine is shared: the script prints the load average first.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from contval.engine import messages as msg
from contval.engine.local import LocalController, OnSecond, OnTick, RunOutcome, _Peer
from contval.metrics import Histogram

SUITE = """\
version: 1
name: bench-controller
targets:
  app: http://127.0.0.1:{port}
flows:
{flows}
workloads:
  load:
    executor: constant-arrival-rate
    rate: 1000/s
    duration: {seconds}s
    max_vus: 100
    mix: {{{mix}}}
scenarios:
  main:
    workload: load
    thresholds:
      - 'error_rate < 50%, abort'
      - 'p95(latency) < 10s, abort'
      - 'error_rate < 90% over 10s, abort'
      - 'p99(latency) < 10s over 10s, abort'
      - 'rps > 1/s over 30s, abort'
"""
FLOW = """\
  f{n}:
    target: app
    steps:
      - name: list
        request: GET /
        check: {{status: 200}}
      - name: item
        request: GET /
        check: {{status: 200}}
"""
VARIANTS = 40  # distinct histograms per slot, cycled (a real run's seconds all differ)


class _Quiet(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


def _blob(rng: random.Random, requests: int, median_us: float) -> str:
    values = [int(rng.lognormvariate(0, 0.6) * median_us) for _ in range(requests)]
    encoded = Histogram.of_values(values).encode()
    assert encoded is not None
    return encoded


def _reports(flows: int, rng: random.Random) -> list[dict[str, Any]]:
    """VARIANTS snapshot dicts of one worker: per flow, its iteration slot and two steps."""
    out = []
    for variant in range(VARIANTS):
        slots = []
        for n in range(flows):
            flow = f"f{n}"
            requests = 500 + variant
            for step in ("list", "item"):
                slots.append(
                    {
                        "flow": flow,
                        "step": step,
                        "requests": requests,
                        "errors": [0] * 13,
                        "checks_passed": requests,
                        "iterations": 0,
                        "latency": _blob(rng, requests, 800 + 50 * variant),
                    }
                )
            slots.append(
                {
                    "flow": flow,
                    "step": "",
                    "iterations": requests,
                    "errors": [0] * 13,
                    "duration": _blob(rng, requests, 1700 + 90 * variant),
                }
            )
        out.append({"second": 0, "slots": slots})
    return out


class SyntheticController(LocalController):
    """The local controller with synthetic workers: every second, each reports at once."""

    def __init__(self, jobs: list[msg.WorkerJob], reports: list[dict[str, Any]]) -> None:
        super().__init__(jobs)
        self.reports = reports
        self.seconds = 0  # set by main
        self.costs: list[float] = []

    def start(self) -> None:
        self.peers = [_Peer(job.worker, None, None) for job in self.jobs]  # type: ignore[arg-type]

    def run(self, on_second: OnSecond, on_tick: OnTick | None = None) -> RunOutcome:
        self._start_at = time.monotonic()
        self.outcome.started_at = time.time()
        if on_tick is not None:
            on_tick(0.0)
        seconds = self.seconds
        stats = msg.WorkerStats(50, 1.5, 60.0, 0.4).to_dict()
        for second in range(seconds):
            reports = [self.reports[(second + p.index) % VARIANTS] for p in self.peers]
            messages = [(msg.SECOND, {**r, "second": second}, stats) for r in reports]
            began = time.perf_counter()
            for peer, message in zip(self.peers, messages, strict=True):
                self._handle(peer, message)
            self._release(on_second)
            self.costs.append(time.perf_counter() - began)
        for peer in self.peers:
            peer.done = True
        self._release(on_second, final=True)
        return self.outcome

    def close(self) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=3600)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--flows", type=int, default=2)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    import contval.pipeline.scenario as scenario_module
    from contval.cli import app

    rng = random.Random(16)
    reports = _reports(args.flows, rng)
    made: list[SyntheticController] = []

    def controller(options: Any, jobs: list[msg.WorkerJob]) -> SyntheticController:
        made.append(SyntheticController(jobs, reports))
        made[-1].seconds = args.seconds
        return made[-1]

    scenario_module._controller = controller
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="contval-controller-cost-") as tmp:
        suite = Path(tmp) / "suite.yaml"
        flows = "".join(FLOW.format(n=n) for n in range(args.flows))
        mix = ", ".join(f"f{n}: 1" for n in range(args.flows))
        port = server.server_address[1]
        suite.write_text(SUITE.format(port=port, flows=flows, mix=mix, seconds=args.seconds))
        command = ["run", str(suite), "--out", f"{tmp}/out", "--workers", str(args.workers)]
        _quietly(lambda: app([*command, "--allow-ungated"], standalone_mode=False))
    server.shutdown()
    costs = made[0].costs
    first = statistics.median(costs[:60]) * 1e6
    last = statistics.median(costs[-60:]) * 1e6
    print(f"{args.workers} workers, {args.flows} flows x 3 slots, {len(costs)} seconds collected")
    print(f"µs per second of collection, minute 1:  {first:9.0f}")
    print(f"µs per second of collection, minute {len(costs) // 60}: {last:9.0f}")
    print(f"ratio last / first: {last / first:.2f}")


def _quietly(call: Callable[[], object]) -> None:
    """Run the CLI with its console output discarded (a progress line per second)."""
    saved = sys.stdout
    try:
        with open(os.devnull, "w") as sink:
            sys.stdout = sink
            with contextlib.suppress(SystemExit):
                call()
    finally:
        sys.stdout = saved


if __name__ == "__main__":
    main()
