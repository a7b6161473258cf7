"""Benchmark tool: where an open-model worker's lag comes from, window by window.

Not a test. It runs one point of `bench/open_model.py` (contval pinned to core 0, nginx on
core 1, the single-GET flow by default) with a probe loaded into the worker process: a
`sitecustomize.py` in a temporary directory on PYTHONPATH, which wraps a few functions of the
worker. For each 20 ms window of the schedule the probe records:

- **lag**: the worst delay, behind schedule, with which an iteration started;
- **started**: the iterations started (the schedule wants rate × 20 ms);
- **opened**: the connections opened;
- **canary**: the shortest time, among those taken every 5 ms on the worker's event loop, that
  a fixed pure-Python loop (3,000 additions, about 90 µs) took;
- **gap**: the longest time between two of those ticks, and the share of it the worker's
  event-loop thread spent on a CPU (its thread CPU time).

The canary does the same work every time, so a window whose canary is well over the run's
median is one in which the core itself ran slower (the host: another guest, the hypervisor),
whatever the worker was doing. A long gap tells a stall apart: spent on the CPU, the worker's
own work held the loop; spent off it, the worker was not running (another process on its core,
or the host pausing the guest). The probe costs the worker about 1 µs per iteration (14.0-15.3
µs in traced 50,000/s runs against 13.1-13.6 in plain ones the same hour), the canary included.

It prints the windows whose lag is over `--over` ms and a summary: the episodes of lag over
`--over` ms (consecutive windows) and, for each, the first of these that holds in it or in the
three windows before it: the canary ran at least 20 % slow (the core was slow); a gap of over
8 ms mostly off the CPU (the worker was not running); it began in second 0; it began at a
second boundary (the worker's snapshot, the controller's second on the same core); other.

    .venv/bin/python bench/lag_trace.py [--rate 50000] [--seconds 8] [--over 4] [--runs 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from generators import NGINX_CPU, ensure_nginx
from http_client import free_port, nginx
from open_model import run_contval

WINDOW = 0.020
SLOW = 1.2  # a canary this many times the run's median: the core ran slow
OFF_CPU_GAP = 0.008  # seconds between canary ticks (due every 5 ms) worth a look
PROBE = """
import atexit, json, os, sys, time
WINDOW = %(window)r
OUT = %(out)r

def _install():
    import asyncio
    from contval.engine import open_loop
    from contval.http import now, pool as pool_module
    rec = {"lag": {}, "started": {}, "opened": {}, "canary": {}, "gap": {}}
    base = []

    def window():
        return int((now() - base[0]) / WINDOW) if base else None

    init = open_loop.OpenLoop.__init__

    def traced_init(self, *args, **kwargs):
        init(self, *args, **kwargs)
        run = self.run_iteration
        base.append(self.start)
        lag, started = rec["lag"], rec["started"]

        def traced(flow, due):
            k = int((due - base[0]) / WINDOW)
            late = now() - due
            if late > lag.get(k, -1.0):
                lag[k] = late
            started[k] = started.get(k, 0) + 1
            return run(flow, due)

        self.run_iteration = traced

    open_loop.OpenLoop.__init__ = traced_init
    connect = pool_module.Pool._connect

    async def traced_connect(self, deadline):
        k = window()
        if k is not None:
            rec["opened"][k] = rec["opened"].get(k, 0) + 1
        return await connect(self, deadline)

    pool_module.Pool._connect = traced_connect
    drive = open_loop.OpenLoop.run

    last = [0.0, 0.0]

    def canary():
        k = window()
        t0 = time.perf_counter()
        cpu = time.thread_time()
        x = 0
        for i in range(3000):
            x += i
        took = time.perf_counter() - t0
        if k is not None and 0 <= k:
            if took < rec["canary"].get(k, 1.0):
                rec["canary"][k] = took
            gap = t0 - last[0]
            if last[0] and gap > rec["gap"].get(k, (0.0, 0.0))[0]:
                rec["gap"][k] = (gap, cpu - last[1])
        last[0], last[1] = t0, cpu
        asyncio.get_running_loop().call_later(0.005, canary)

    async def traced_run(self):
        asyncio.get_running_loop().call_soon(canary)
        return await drive(self)

    open_loop.OpenLoop.run = traced_run

    def dump():
        if base:
            with open(OUT, "w") as f:
                json.dump(rec, f)

    atexit.register(dump)

if any("multiprocessing" in a for a in sys.argv):  # the spawned worker only
    _install()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=50_000)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--over", type=float, default=4.0, help="lag (ms) worth a look")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--flow", default="get", choices=("get", "browse"))
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    ensure_nginx()
    port = free_port()
    options = argparse.Namespace(
        flow=args.flow, seconds=args.seconds, vus=200, controller_cpu=None, rates=str(args.rate)
    )
    totals: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="contval-lag-trace-") as tmp, nginx(port, NGINX_CPU):
        work = Path(tmp)
        out = work / "trace.json"
        (work / "sitecustomize.py").write_text(PROBE % {"window": WINDOW, "out": str(out)})
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(work), os.environ.get("PYTHONPATH", "")) if p
        )
        for run in range(1, args.runs + 1):
            out.unlink(missing_ok=True)
            point = run_contval(work, port, args.rate, options)
            print(f"\nrun {run}: " + point.row("contval"), flush=True)
            if not out.exists():
                sys.exit("the probe wrote nothing: was the worker spawned?")
            for kind, n in report(json.loads(out.read_text()), args).items():
                totals[kind] = totals.get(kind, 0) + n
    if args.runs > 1:
        print("\nall runs: " + ", ".join(f"{kind} {n}" for kind, n in totals.items()))


def report(rec: dict[str, dict[str, Any]], args: argparse.Namespace) -> dict[str, int]:
    """Print the windows over the line and the episodes' causes; return the episode counts."""

    def get(kind: str, k: int) -> float:
        return float(rec[kind].get(str(k), 0.0))

    windows = sorted(int(k) for k in rec["lag"])
    canaries = [v for v in rec["canary"].values() if v > 0]
    median = statistics.median(canaries) if canaries else 0.0
    per_window = args.rate * WINDOW
    print(
        f"canary median {median * 1e6:.0f} µs; windows with the core {SLOW:.1f}x slow or worse:"
        f" {sum(1 for v in canaries if v >= SLOW * median)} of {len(canaries)}"
    )

    def gap(k: int) -> tuple[float, float]:
        found = rec["gap"].get(str(k))
        return (0.0, 0.0) if not found else (float(found[0]), float(found[1]))

    def slow(k: int) -> bool:
        return bool(median) and get("canary", k) >= SLOW * median

    def off_cpu(k: int) -> bool:
        wall, cpu = gap(k)
        return wall > OFF_CPU_GAP and cpu < 0.5 * wall

    print(
        f"{'ms':>6} {'lag ms':>7} {'started':>10} {'opened':>7} {'canary µs':>10}"
        f" {'gap ms (on CPU)':>16}"
    )
    over = [k for k in windows if get("lag", k) * 1000 > args.over]
    for k in over:
        wall, cpu = gap(k)
        mark = "  slow core" if slow(k) else ("  off the CPU" if off_cpu(k) else "")
        print(
            f"{k * WINDOW * 1000:6.0f} {get('lag', k) * 1000:7.1f} "
            f"{get('started', k):5.0f}/{per_window:.0f} {get('opened', k):7.0f}"
            f" {get('canary', k) * 1e6:10.0f} {wall * 1000:8.1f} ({cpu / wall if wall else 0:4.0%})"
            f"{mark}"
        )
    counts = {
        "episodes": 0,
        "core slow": 0,
        "off the CPU": 0,
        "second 0": 0,
        "second boundary": 0,
        "other": 0,
    }
    per_second = round(1 / WINDOW)
    episodes: list[list[int]] = []
    for k in over:
        if episodes and k == episodes[-1][-1] + 1:
            episodes[-1].append(k)
        else:
            episodes.append([k])
    for episode in episodes:
        first = episode[0]
        counts["episodes"] += 1
        looked = range(max(0, first - 3), episode[-1] + 1)
        if any(slow(k) for k in looked):
            counts["core slow"] += 1
        elif any(off_cpu(k) for k in looked):
            counts["off the CPU"] += 1
        elif first < 3:
            counts["second 0"] += 1
        elif first % per_second in (per_second - 1, 0, 1):
            counts["second boundary"] += 1
        else:
            counts["other"] += 1
    print(
        f"episodes of lag over {args.over:g} ms: {counts['episodes']}: the core slow in or just"
        f" before {counts['core slow']}, the worker off the CPU {counts['off the CPU']}, second 0"
        f" {counts['second 0']}, a second boundary {counts['second boundary']}, other"
        f" {counts['other']}"
    )
    return counts


if __name__ == "__main__":
    main()
