"""Does the gate decide? Verdicts of unchanged and slightly slower builds on a mixed-latency
target that is not the shop (issue 12).

The target: a small asyncio HTTP server with two routes, `/fast` (answers at once: well under a
millisecond on loopback) and `/slow` (20 ms), hit 50/50 by a constant-arrival-rate workload
(`--rate`, default 100/s). Two experiments, each with its own history database:

1. `--seconds` (default 40 s) scenarios: 3 runs to build the baseline, then `--runs` unchanged
   runs, each gated against the rolling baseline of the runs before it (verdicts counted:
   target >= 18 of 20 `pass`, 0 `regression`); then `--runs` runs with `/slow` `--slower`
   (default 10 %) slower, against the baseline pinned to the last 10 unchanged runs (target:
   the `slow` flow flagged in >= 18 of 20).
2. The same with `--short-seconds` (default 15 s) scenarios and `--short-slower` (default 20 %)
   (target: flagged in >= 19 of 20).

Every run is a real `contval run` (one worker) against a freshly started target (a fresh
deploy). Tolerances are the suite's defaults unless `--tolerance` is given.

    .venv/bin/python bench/verdict_quality.py [--runs 20] [--seconds 40] [--short-seconds 15]

About an hour on a 2-core machine at the defaults; `--runs 3 --seconds 15` checks the bench.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from baseline_gate import one_run as gate_run

CLI = [sys.executable, "-m", "contval"]
TARGET = r"""
import asyncio, sys
FACTOR = float(sys.argv[1])
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"

class Handler(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""
    def data_received(self, data):
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            if head.split(b" ", 2)[1].startswith(b"/slow"):
                asyncio.get_running_loop().call_later(0.020 * FACTOR, self.answer)
            else:
                self.answer()
    def answer(self):
        if not self.transport.is_closing():
            self.transport.write(OK)

async def main():
    server = await asyncio.get_running_loop().create_server(Handler, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"""
SUITE = """version: 1
name: verdict-quality
targets: {{app: "http://127.0.0.1:{port}"}}
flows:
  fast:
    target: app
    steps: [{{name: get, request: GET /fast, check: {{status: 200}}}}]
  slow:
    target: app
    steps: [{{name: get, request: GET /slow, check: {{status: 200}}}}]
workloads:
  mixed:
    executor: constant-arrival-rate
    rate: {rate}/s
    duration: {seconds}s
    max_vus: 100
    mix: {{fast: 1, slow: 1}}
scenarios:
  mixed:
    workload: mixed
    thresholds: [error_rate < 1%]
{policy}"""


class Target:
    """The mixed-latency server in a child process (started here, ended here by its PID)."""

    def __init__(self, factor: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", TARGET, str(factor)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def one_run(
    tmp: Path, store: Path, name: str, factor: float, args: argparse.Namespace, seconds: int
) -> dict[str, Any]:
    """One real `contval run` against a fresh target; the scenario's entry of result.json."""
    target = Target(factor)
    try:
        entries = []
        if args.tolerance:
            t = args.tolerance
            entries.append(f"p50: {t}%, p95: {t}%, p99: {t}%")
        if args.latency_floor is not None:
            entries.append(f"latency_floor: {args.latency_floor}ms")
        policy = f"    baseline: {{{', '.join(entries)}}}\n" if entries else ""
        suite = tmp / f"{name}.yaml"
        suite.write_text(
            SUITE.format(port=target.port, rate=args.rate, seconds=seconds, policy=policy)
        )
        return gate_run(suite, store, tmp / name)
    finally:
        target.close()


def flagged(scenario: dict[str, Any]) -> set[str]:
    baseline = scenario.get("baseline") or {}
    return {c["flow"] for c in baseline.get("comparisons", []) if c["verdict"] == "regression"}


def not_pass(scenario: dict[str, Any]) -> list[str]:
    """What kept a run from `pass`: the comparisons that were not a pass."""
    baseline = scenario.get("baseline") or {}
    return sorted(
        f"{c['flow']} {c['metric']} {c['verdict']}"
        for c in baseline.get("comparisons", [])
        if c["verdict"] not in ("pass", "improvement")
    )


def phase(
    tmp: Path,
    store: Path,
    name: str,
    runs: int,
    factor: float,
    args: argparse.Namespace,
    seconds: int,
) -> list[dict[str, Any]]:
    results = []
    for i in range(runs):
        scenario = one_run(tmp, store, f"{name}-{i}", factor, args, seconds)
        verdict = (scenario.get("baseline") or {}).get("verdict", scenario["verdict"])
        slow_p50 = scenario["flows"]["slow"]["latency"]["p50"]
        print(
            f"  {name} run {i + 1:>2}: {verdict:<13} slow p50 {slow_p50:6.2f} ms  "
            f"{', '.join(not_pass(scenario)) if verdict != 'no_baseline' else ''}",
            flush=True,
        )
        results.append(scenario)
    return results


def pin(store: Path, scenarios: list[dict[str, Any]]) -> None:
    ids = [s["baseline"]["run_id"] for s in scenarios[-10:]]
    subprocess.run(
        [*CLI, "baseline", "promote", *ids, "--store", str(store)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def experiment(tmp: Path, args: argparse.Namespace, seconds: int, slower: float) -> dict[str, Any]:
    store = tmp / f"history-{seconds}s-{slower:.2f}.db"
    print(
        f"{seconds}s scenarios: 3 + {args.runs} unchanged, {args.runs} with /slow +{slower:.0%}",
        flush=True,
    )
    unchanged = phase(tmp, store, f"unchanged-{seconds}", args.runs + 3, 1.0, args, seconds)
    pin(store, unchanged)
    worse = phase(tmp, store, f"slower-{seconds}", args.runs, 1.0 + slower, args, seconds)
    gated = unchanged[3:]
    verdicts = Counter((s.get("baseline") or {}).get("verdict", "?") for s in gated)
    return {
        "seconds": seconds,
        "slower": slower,
        "unchanged": dict(sorted(verdicts.items())),
        "passes": verdicts.get("pass", 0) + verdicts.get("improvement", 0),
        "gated": len(gated),
        "false_alarms": verdicts.get("regression", 0),
        "detected": sum(1 for s in worse if "slow" in flagged(s)),
        "other_flagged": sum(1 for s in worse if flagged(s) - {"slow", "*"}),
        "worse": len(worse),
    }


def report(r: dict[str, Any]) -> None:
    print(f"\n{r['seconds']}s scenarios")
    print(
        f"  unchanged: {r['passes']} of {r['gated']} pass (target >= 90 %), "
        f"{r['false_alarms']} regression (target 0); verdicts {r['unchanged']}"
    )
    print(
        f"  /slow +{r['slower']:.0%}: flagged in {r['detected']} of {r['worse']} "
        f"(target >= {'18' if r['slower'] < 0.15 else '19'} in 20); fast flagged "
        f"{r['other_flagged']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--short-seconds", type=int, default=15)
    parser.add_argument("--slower", type=float, default=0.10)
    parser.add_argument("--short-slower", type=float, default=0.20)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--tolerance", type=float, default=None, help="latency tolerance, %%")
    parser.add_argument(
        "--latency-floor",
        type=float,
        default=None,
        help="the smallest latency change that counts, ms (the suite's default: 2)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="contval-verdict-bench-"))
    try:
        results = [experiment(tmp, args, args.seconds, args.slower)]
        if args.short_seconds:  # 0: only the first experiment
            results.append(experiment(tmp, args, args.short_seconds, args.short_slower))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for r in results:
        report(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
