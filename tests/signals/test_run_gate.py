"""The baseline gate on a server-side signal, end to end: real `contval run`s against the real
shop fill a history store, then a run in which the shop's order queue grows (its order worker
is paused by the test, so the client still sees every order accepted) is a regression on
`signal(queue_depth)` alone (exit 5), while an unchanged run passes."""

from __future__ import annotations

import json
import os
import signal
import urllib.request
from typing import Any

from contval.exitcodes import ExitCode
from tests.contoso_shoes.conftest import wait_for
from tests.pipeline.test_chaos_run import Stage, stage  # noqa: F401

SIGNALS = """metrics_sources:
  shop: {scrape: {target: shop, every: 500ms}}
signals:
  queue_depth: {source: shop, gauge: shop_queue_depth, tolerance: 10}
"""

# the client's own metrics must not decide here: latency never counts (a shared CI machine),
# so the only comparison that can regress is the signal's
BACKLOG = 30

SCENARIO = """  steady:
    workload: load
    baseline: {min_runs: 2, latency_floor: 60s}"""


def _signal_row(result: dict[str, Any]) -> dict[str, Any]:
    rows = result["scenarios"][0]["baseline"]["comparisons"]
    (row,) = [r for r in rows if r["metric"] == "signal(queue_depth)"]
    assert row["flow"] == "*" and row["phase"] is None, row
    return dict(row)


def test_a_growing_queue_fails_the_gate_and_an_unchanged_run_passes(
    stage: Stage,  # noqa: F811
) -> None:
    suite = stage.suite(
        "  unused: {type: latency, target: payments-link, delay: 1ms}",
        SCENARIO,
        duration="5s",
        targets=SIGNALS,
    )
    store = stage.dir / "history.db"

    def run(*args: str) -> tuple[int, str, dict[str, Any]]:
        proc = stage.run(suite, "--store", str(store), "--env", "gate-test", *args)
        output, _ = proc.communicate(timeout=120)
        return proc.returncode, output, stage.result()

    first: list[str] = []
    for _ in range(2):  # how a baseline starts: ungated runs, recorded
        code, output, result = run("--allow-ungated")
        assert code == 0, output
        assert _signal_row(result)["verdict"] == "no_baseline"
        first.append(result["scenarios"][0]["baseline"]["run_id"])

    worker = stage.system.pid("worker")
    os.kill(worker, signal.SIGSTOP)  # the shop still accepts orders; nobody takes them
    try:
        for _ in range(BACKLOG):  # a backlog from before the run: every window is above it
            _order(stage)
        assert _queue(stage) >= BACKLOG
        code, output, result = run()
    finally:
        os.kill(worker, signal.SIGCONT)
    assert code == ExitCode.REGRESSION, output
    scenario = result["scenarios"][0]
    assert scenario["flows"]["checkout"]["errors"] == 0  # the client sees nothing wrong
    depth = [v for v in scenario["signals"]["queue_depth"]["series"] if v is not None]
    assert min(depth) >= BACKLOG and depth[-1] >= BACKLOG + 20, depth
    grown = _signal_row(result)
    assert grown["verdict"] == "regression", grown
    assert grown["tolerance"] == 10 and grown["low"] > 10 and grown["shift"] > 20, grown
    assert grown["current"] > grown["baseline"] + 20, grown
    assert scenario["baseline"]["verdict"] == "regression"
    assert sorted(scenario["baseline"]["baseline_runs"]) == sorted(first)
    assert scenario["baseline"]["accepted"] is False
    assert result["exit_code"] == 5
    # one verdict: the scenario, the suite and the exit code all say the gate failed it
    assert (scenario["verdict"], result["verdict"]) == ("fail", "fail")
    assert "FAIL (a regression against its baseline)" in output
    assert "signal(queue_depth)" in output

    def drained() -> bool:
        with open(f"/proc/{worker}/stat") as stat:
            running = stat.read().rpartition(")")[2].split()[0] != "T"
        return running and _queue(stage) == 0

    wait_for(drained, 30, "the order worker to drain the queue")
    code, output, result = run()
    assert code == 0, output
    same = _signal_row(result)
    assert same["verdict"] == "pass", same
    assert abs(same["shift"]) <= 10, same
    # the regressed run did not join the baseline: the same two runs are compared
    gate = result["scenarios"][0]["baseline"]
    assert sorted(gate["baseline_runs"]) == sorted(first)
    assert gate["verdict"] in ("pass", "inconclusive", "improvement"), gate


def _post(on: Stage, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{on.system.url}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read() or b"{}")
        return answer


def _order(on: Stage) -> None:
    """One order through the shop, as the suite's checkout flow places it."""
    cart = _post(on, "/api/carts", {})["id"]
    _post(on, f"/api/carts/{cart}/items", {"product_id": 3, "quantity": 1})
    _post(on, "/api/orders", {"cart_id": cart, "email": "backlog@contoso.test"})


def _queue(on: Stage) -> float:
    from contval.signals.scrape import fetch, parse

    samples = parse(fetch(f"{on.system.url}/metrics", 5), keep={"shop_queue_depth"})
    return sum(samples.values())
