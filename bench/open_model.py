"""Benchmark: how fast an open-model (arrival-rate) generator keeps its schedule on one core,
contval against k6's `constant-arrival-rate`, against nginx.

Not a test. For each rate in `--rates` (arrivals per second), each generator runs the single-GET
flow with a status-200 check for `--seconds`, pinned to core 0, against nginx on core 1:

- contval: `contval run` on a generated suite (`constant-arrival-rate`, `--workers 1`); from
  result.json: iterations, `late_starts` (started more than 10 ms behind schedule), dropped
  iterations (no free virtual user) and the worst per-second lag (`series[].lag_ms`);
- k6 1.1.0: `constant-arrival-rate` with `preAllocatedVUs` = `--vus`; from `--summary-export`:
  iterations and `dropped_iterations`. k6 does not report how late an iteration started (an
  arrival it cannot start on time waits for a VU or is dropped), so its knee is judged on
  dropped iterations and on the achieved rate.

The knee is the highest rate kept: contval with < 1 % late starts and < 1 % dropped; k6 with
< 1 % dropped and an achieved rate within 1 % of the target. Issue 16's target: 50,000
arrivals/s per core for contval with < 1 % late and a worst lag < 5 ms.

It installs what is missing, as `bench/generators.py` does (nginx-light from Debian; k6 into
`bench/.venv-peers`). All traffic stays on loopback.

    .venv/bin/python bench/open_model.py [--rates 10000,20000,30000,40000,50000] [--seconds 10]

The machine is shared: the script prints the load average first; a busy machine skews the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from generators import CONTVAL, K6, NGINX_CPU, ensure_nginx, ensure_peers, env_for_peers
from generators import run_pinned as run_generator
from http_client import children, free_port, nginx

LATE_BOUND = 0.01  # share of iterations
SUITE = """\
version: 1
name: bench-open-model
targets:
  nginx: http://127.0.0.1:{port}
flows:
{flow}workloads:
  open:
    executor: constant-arrival-rate
    rate: {rate}/s
    duration: {seconds}s
    max_vus: {vus}
    mix: {{{name}: 1}}
scenarios:
  bench:
    workload: open
"""

FLOWS = {
    "get": """\
  get:
    target: nginx
    steps:
      - name: get
        request: GET /
        check: {status: 200}
""",
    # the reference shop's browse flow (examples/contoso-shoes) without its think time: two
    # steps, a JSON check, a value extracted from the first answer and sent in the second
    "browse": """\
  browse:
    target: nginx
    steps:
      - name: list products
        request: GET /api/products?limit=20
        check: {status: 200, json: {"$.items": {min_length: 1}}}
        extract: {product_id: {json: "$.items[*].id", pick: random}}
      - name: product details
        request: GET /api/products/{{ product_id }}
        check: {status: 200}
""",
}

K6_FLOWS = {
    "get": """\
  const res = http.get('http://127.0.0.1:{port}/');
  check(res, {{ 'status is 200': (r) => r.status === 200 }});
""",
    "browse": """\
  const list = http.get('http://127.0.0.1:{port}/api/products?limit=20');
  const items = list.status === 200 ? list.json('items') : null;
  if (!check(list, {{ 'listed': () => list.status === 200 && items && items.length >= 1 }})) {{
    return;
  }}
  const id = items[Math.floor(Math.random() * items.length)].id;
  const details = http.get(`http://127.0.0.1:{port}/api/products/${{id}}`);
  check(details, {{ 'status is 200': (r) => r.status === 200 }});
""",
}

K6_SCRIPT = """\
import http from 'k6/http';
import {{ check }} from 'k6';

export const options = {{
  scenarios: {{
    open: {{
      executor: 'constant-arrival-rate',
      rate: {rate}, timeUnit: '1s', duration: '{seconds}s',
      preAllocatedVUs: {vus}, maxVUs: {vus},
    }},
  }},
}};

export default function () {{
{body}}}
"""


@dataclass(frozen=True)
class Point:
    """One generator at one rate."""

    rate: int
    iterations: int
    late: int | None  # None: the tool does not say
    dropped: int
    worst_lag_ms: float | None
    cpu_s: float
    seconds: float
    failed: int = 0  # requests with an error or a failed check (the figures are then suspect)
    lags_ms: tuple[float, ...] = ()  # the worst lag of each second (contval), in order
    worker_cpu_s: float | None = None
    """contval: the worker's own CPU over the load's seconds (`series[].worker_cpu`), start-up
    and the controller left out; None for k6."""
    latency_ms: tuple[float, float] | None = None
    """contval: the median over the run's whole seconds (the first and the last left out) of
    each second's p50 and p99 request latency (`series[].p50_ms`, `p99_ms`); None for k6."""

    @property
    def achieved(self) -> float:
        return self.iterations / self.seconds

    def kept(self) -> bool:
        scheduled = self.rate * self.seconds
        if self.dropped > LATE_BOUND * scheduled:
            return False
        if self.late is not None:
            return self.late < LATE_BOUND * max(self.iterations, 1)
        return self.achieved >= (1 - LATE_BOUND) * self.rate

    def row(self, name: str) -> str:
        late = "n/a" if self.late is None else f"{self.late / max(self.iterations, 1):6.2%}"
        lag = "n/a" if self.worst_lag_ms is None else f"{self.worst_lag_ms:7.1f}"
        cpu_us = self.cpu_s / max(self.iterations, 1) * 1e6
        worker = ""
        if self.worker_cpu_s is not None:
            worker = f" ({self.worker_cpu_s / max(self.iterations, 1) * 1e6:.1f} in the worker)"
        return (
            f"{name:<8} {self.rate:>8,}/s  achieved {self.achieved:>9,.0f}/s  late {late:>7}  "
            f"dropped {self.dropped / max(self.rate * self.seconds, 1):6.2%}  worst lag {lag} ms"
            f"  {cpu_us:5.1f} µs CPU/iter{worker}  {'kept' if self.kept() else 'BEHIND'}"
            + (f"  ({self.failed:,} failed)" if self.failed else "")
            + (
                ""
                if self.latency_ms is None
                else f"  p50 {self.latency_ms[0]:.3f} ms p99 {self.latency_ms[1]:.3f} ms"
            )
        )


def run_contval(work: Path, port: int, rate: int, args: argparse.Namespace) -> Point:
    suite = work / f"contval-{rate}.yaml"
    flow = FLOWS[args.flow]
    suite.write_text(
        SUITE.format(
            port=port, rate=rate, seconds=args.seconds, vus=args.vus, flow=flow, name=args.flow
        )
    )
    out = work / f"contval-{rate}"
    command = [str(CONTVAL), "run", str(suite), "--out", str(out), "--workers", "1"]
    command += ["--allow-ungated"]
    log = work / f"contval-{rate}.log"
    # exit 3: the generator saturated (arrivals far behind schedule): a figure, not a failure
    move = None if args.controller_cpu is None else controller_to(args.controller_cpu)
    tree = run_generator(command, work, log, args.seconds + 120, dict(os.environ), (0, 3), move)
    scenario = json.loads((out / "result.json").read_text())["scenarios"][0]
    totals = scenario["totals"]
    return Point(
        rate=rate,
        iterations=totals["iterations"],
        late=totals["late_starts"],
        dropped=totals["dropped_iterations"],
        worst_lag_ms=max((row.get("lag_ms", 0.0) for row in scenario["series"]), default=0.0),
        cpu_s=tree.cpu_s,
        seconds=float(args.seconds),
        failed=totals["errors"] - totals["dropped_iterations"],
        lags_ms=tuple(float(row.get("lag_ms", 0.0)) for row in scenario["series"]),
        worker_cpu_s=sum(float(row.get("worker_cpu", 0.0)) for row in scenario["series"]),
        latency_ms=median_latency(scenario["series"]),
    )


def median_latency(series: list[dict[str, float]]) -> tuple[float, float] | None:
    """The median of the per-second p50 and p99 over the whole seconds of the load (the first,
    with start-up in it, and the last, partial, left out)."""
    whole = [row for row in series[1:-1] if "p50_ms" in row and "p99_ms" in row]
    if not whole:
        return None
    return (
        statistics.median(row["p50_ms"] for row in whole),
        statistics.median(row["p99_ms"] for row in whole),
    )


def controller_to(cpu: int) -> Callable[[int], None]:
    """`--controller-cpu`: once contval's worker process exists (multiprocessing's resource
    tracker starts before it; both stay on the generator core), move every thread of the
    controller process to `cpu`, so the worker has its core alone."""

    def move(pid: int) -> None:
        deadline = time.monotonic() + 30
        while not any(b"spawn_main" in _cmdline(child) for child in children(pid)):
            if time.monotonic() > deadline:
                sys.exit("contval started no worker process in 30 s")
            time.sleep(0.002)
        for task in Path(f"/proc/{pid}/task").iterdir():
            os.sched_setaffinity(int(task.name), {cpu})

    return move


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def run_k6(work: Path, port: int, rate: int, args: argparse.Namespace) -> Point:
    script = work / f"k6-{rate}.js"
    body = K6_FLOWS[args.flow].format(port=port)
    script.write_text(K6_SCRIPT.format(rate=rate, seconds=args.seconds, vus=args.vus, body=body))
    summary = work / f"k6-{rate}.json"
    command = [str(K6), "run", "--quiet", "--no-color", "--no-usage-report"]
    command += ["--summary-export", str(summary), str(script)]
    tree = run_generator(
        command, work, work / f"k6-{rate}.log", args.seconds + 120, env_for_peers()
    )
    metrics = json.loads(summary.read_text())["metrics"]
    return Point(
        rate=rate,
        iterations=int(metrics["iterations"]["count"]),
        late=None,
        dropped=int(metrics.get("dropped_iterations", {}).get("count", 0)),
        worst_lag_ms=None,
        cpu_s=tree.cpu_s,
        seconds=float(args.seconds),
        failed=int(metrics["checks"]["fails"]),
    )


def lags_row(lags_ms: tuple[float, ...]) -> str:
    """`--lags`: each second's worst lag, the worst one marked, so a start-up effect (second
    0) is told from a pause in the middle of the run."""
    worst = max(range(len(lags_ms)), key=lags_ms.__getitem__)
    return " ".join(
        f"[{lag:.1f}]" if second == worst else f"{lag:.1f}" for second, lag in enumerate(lags_ms)
    )


def knee(points: list[Point]) -> int | None:
    """The highest rate kept, every lower rate kept too."""
    best = None
    for point in sorted(points, key=lambda p: p.rate):
        if not point.kept():
            break
        best = point.rate
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="10000,20000,30000,40000,50000")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--vus", type=int, default=200, help="max virtual users (k6: VUs)")
    parser.add_argument("--no-k6", action="store_true", help="contval only")
    parser.add_argument("--flow", choices=sorted(FLOWS), default="get", help="the flow to run")
    parser.add_argument(
        "--controller-cpu",
        type=int,
        help="move contval's controller process to this core (default: it shares the worker's)",
    )
    parser.add_argument(
        "--lags", action="store_true", help="print contval's worst lag of every second"
    )
    args = parser.parse_args()
    rates = [int(r) for r in args.rates.split(",")]
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    ensure_nginx()
    if not args.no_k6:
        ensure_peers()
    points: dict[str, list[Point]] = {"contval": [], "k6": []}
    port = free_port()
    keep = os.environ.get("BENCH_KEEP")
    with tempfile.TemporaryDirectory(prefix="contval-open-bench-") as tmp, nginx(port, NGINX_CPU):
        work = Path(keep or tmp)
        for rate in rates:
            runs = [("contval", run_contval)] + ([] if args.no_k6 else [("k6", run_k6)])
            for name, run in runs:
                point = run(work, port, rate, args)
                points[name].append(point)
                print(point.row(name), flush=True)
                if args.lags and point.lags_ms:
                    print("         lag per second (ms): " + lags_row(point.lags_ms), flush=True)
    print()
    for name, found in points.items():
        if found:
            best = knee(found)
            print(f"{name:<8} knee: {f'{best:,}/s' if best else 'below the lowest rate'}")
    contval_knee, k6_knee = knee(points["contval"]), knee(points["k6"])
    if contval_knee and k6_knee:
        print(f"contval / k6: {contval_knee / k6_knee:.1f}x")
    target = next((p for p in points["contval"] if p.rate == 50_000), None)
    if target is not None:
        met = target.kept() and (target.worst_lag_ms or 0) < 5
        print(
            f"target 50,000/s per core, < 1 % late, worst lag < 5 ms: {'met' if met else 'NOT met'}"
        )


if __name__ == "__main__":
    main()
