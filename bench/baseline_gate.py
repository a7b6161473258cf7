"""The baseline gate's false alarms and detection power, measured on the reference shop.

1. Unchanged build: `--runs` + 3 runs, each compared with the rolling baseline of the runs
   before it (gating once 3 exist, so `--runs` are gated): how many are flagged as a regression
   (target: at most 1 in 20), and how many pass outright rather than come out inconclusive.
2. A +20 % regression: the shop's delay knob adds 20 % to checkout's `place order` latency;
   `--runs` runs compared with a baseline pinned to the unchanged runs: how often checkout is
   flagged (target: at least 19 in 20) and how often any other flow is (target: never).
3. A +3 % change the same way: how often it is flagged at the default 10 % tolerance (target:
   not flagged).

    .venv/bin/python bench/baseline_gate.py [--runs 20] [--seconds 40] [--rate 100]

Each run is a real `contval run` (one worker) against a freshly started shop (its own empty
database); results go to a temporary history database. The delay is 20 % (3 %) of the
`place order` median the unchanged runs measured.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

CLI = [sys.executable, "-m", "contval"]
SHOP = [sys.executable, "-m", "contoso_shoes"]
SUITE = """version: 1
name: gate-bench
targets: {{shop: "{url}"}}
flows:
  browse:
    target: shop
    steps:
      - name: list products
        request: GET /api/products?limit=20
        check: {{status: 200}}
  checkout:
    target: shop
    steps:
      - name: create cart
        request: POST /api/carts
        check: {{status: 201}}
        extract: {{cart_id: {{json: "$.id"}}}}
      - name: add item
        request: POST /api/carts/{{{{ cart_id }}}}/items
        json: {{product_id: 5, quantity: 1}}
        check: {{status: 201}}
      - name: place order
        request: POST /api/orders
        json: {{cart_id: "{{{{ cart_id }}}}", email: "bench@contoso.test"}}
        check: {{status: 202}}
workloads:
  steady:
    executor: constant-arrival-rate
    rate: {rate}/s
    duration: {seconds}s
    max_vus: 200
    mix: {{browse: 60, checkout: 40}}
scenarios:
  gate:
    workload: steady
    thresholds:                        # as a real suite would: these steps are also compared
      - error_rate < 1%
      - browse/list products: p95(latency) < 200ms
      - checkout/place order: p95(latency) < 1s
"""


def start_shop(run_dir: Path, delay_ms: float) -> str:
    args = [*SHOP, "up", "--dir", str(run_dir), "--port", "0", "--payments-port", "0", "--detach"]
    if delay_ms:
        args += ["--delay", f"POST /api/orders={delay_ms}ms"]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return str(json.loads((run_dir / "state.json").read_text())["shop"]["url"])


def one_run(suite: Path, store: Path, out: Path) -> dict[str, Any]:
    """One real `contval run`; the scenario's entry of result.json."""
    subprocess.run(
        [
            *CLI,
            "run",
            str(suite),
            "--store",
            str(store),
            "--env",
            "bench",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        check=False,
    )
    scenario: dict[str, Any] = json.loads((out / "result.json").read_text())["scenarios"][0]
    return scenario


def flagged_flows(baseline: dict[str, Any]) -> set[str]:
    return {c["flow"] for c in baseline["comparisons"] if c["verdict"] == "regression"}


def place_order_p50(scenario: dict[str, Any]) -> float:
    return float(scenario["flows"]["checkout"]["steps"]["place order"]["latency"]["p50"])


def phase(
    name: str, delay_ms: float, args: argparse.Namespace, tmp: Path, store: Path, runs: int
) -> list[dict[str, Any]]:
    """`runs` runs, each against a freshly started shop (a fresh deploy, an empty database:
    one shop kept for a whole phase slows down as its orders table grows, which would read as
    a drift between phases)."""
    results = []
    for i in range(runs):
        run_dir = tmp / f"{name}-shop-{i}"
        url = start_shop(run_dir, delay_ms)
        try:
            suite = tmp / f"{name}-{i}.yaml"
            suite.write_text(SUITE.format(url=url, rate=args.rate, seconds=args.seconds))
            scenario = one_run(suite, store, tmp / f"{name}-{i}")
        finally:
            subprocess.run(
                [*SHOP, "down", "--dir", str(run_dir)], stdout=subprocess.DEVNULL, check=False
            )
        result = scenario["baseline"]
        result["place_order_p50"] = place_order_p50(scenario)
        results.append(result)
        print(
            f"  {name} run {i + 1:>2}: {result['verdict']:<13} flagged: "
            f"{sorted(flagged_flows(result)) or '-'}  place order p50 "
            f"{result['place_order_p50']:.1f} ms",
            flush=True,
        )
    return results


def pin_unchanged(store: Path, results: list[dict[str, Any]]) -> None:
    ids = [r["run_id"] for r in results[-10:]]
    subprocess.run(
        [*CLI, "baseline", "promote", *ids, "--store", str(store)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--rate", type=int, default=100)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="contval-gate-bench-"))
    store = tmp / "history.db"
    try:
        print(f"{args.runs} runs per phase, {args.seconds}s each at {args.rate}/s")
        # 3 more unchanged runs than asked: the first 3 build the baseline (no_baseline).
        unchanged = phase("unchanged", 0.0, args, tmp, store, args.runs + 3)
        pin_unchanged(store, unchanged)
        # The route's latency, measured: the delay knob adds 20 % (3 %) of it.
        base_ms = statistics.median(r["place_order_p50"] for r in unchanged)
        print(f"place order p50 of the unchanged shop: {base_ms:.1f} ms", flush=True)
        plus20 = phase("plus20", base_ms * 0.20, args, tmp, store, args.runs)
        plus3 = phase("plus3", base_ms * 0.03, args, tmp, store, args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    gated = [r for r in unchanged if r["verdict"] != "no_baseline"]
    false_alarms = sum(1 for r in gated if r["verdict"] == "regression")
    detected = sum(1 for r in plus20 if "checkout" in flagged_flows(r))
    others = sum(1 for r in plus20 + plus3 if flagged_flows(r) - {"checkout", "*"})
    small = sum(1 for r in plus3 if r["verdict"] == "regression")
    print()
    print(
        f"false alarms (unchanged):      {false_alarms} of {len(gated)} gated runs "
        f"(target <= 1 in 20)"
    )
    verdicts = Counter(r["verdict"] for r in gated)
    print(f"unchanged runs' verdicts:      {dict(sorted(verdicts.items()))}")
    for name, runs in (("+20 %", plus20), ("+3 %", plus3)):
        achieved = statistics.median(r["place_order_p50"] for r in runs) / base_ms - 1
        print(f"{name} run: place order p50 measured {achieved:+.1%} against the unchanged shop")
    print(f"+20 % on checkout detected:    {detected} of {len(plus20)} (target >= 19 in 20)")
    print(f"other flows flagged:           {others} of {len(plus20) + len(plus3)} (target 0)")
    print(f"+3 % flagged:                  {small} of {len(plus3)} (target: not flagged)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
