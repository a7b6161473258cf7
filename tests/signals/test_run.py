"""`contval run` with signals scraped from the real shop's /metrics while real faults hold:
queue depth during payments-down, worker lag after worker-crash, a source that goes away
mid-run, and sources or metrics that cannot be read at start (exit 3, named)."""

from __future__ import annotations

from typing import Any

from tests.contoso_shoes.conftest import wait_for
from tests.pipeline.test_chaos_run import Stage, free_port, stage  # noqa: F401

SIGNALS = """metrics_sources:
  shop: {scrape: {target: shop, path: /metrics, every: 500ms}}
signals:
  queue_depth: {source: shop, gauge: shop_queue_depth}
  worker_lag: {source: shop, gauge: shop_worker_lag_seconds, unit: s}
  orders: {source: shop, rate: shop_orders_total}
  p95_server:
    source: shop
    histogram_quantile: [0.95, shop_http_request_duration_seconds_bucket]
    unit: s
"""


def _run(on: Stage, faults: str, scenario: str, duration: str, extra: str = "") -> Any:
    suite = on.suite(faults, scenario, duration=duration, targets=extra + SIGNALS)
    proc = on.run(suite)
    output, _ = proc.communicate(timeout=180)
    return proc.returncode, output, on.result()


def _by_expression(scenario: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["expression"]: t for t in scenario["thresholds"]}


def test_queue_depth_rises_during_payments_down_and_a_threshold_catches_it(
    stage: Stage,  # noqa: F811
) -> None:
    code, output, result = _run(
        stage,
        "  down: {type: reset, target: payments-link}",
        """  payments-down:
    workload: load
    chaos: [{fault: down, at: 3s, for: 5s}]
    thresholds:
      - signal(queue_depth) max < 3 during down
      - signal(queue_depth) max < 100000 during down
      - signal(queue_depth) max < 3 before down
      - signal(orders) min > 0 during down
      - signal(p95_server) < 5s""",
        duration="11s",
    )
    scenario = result["scenarios"][0]
    judged = _by_expression(scenario)
    assert code == 1, output
    tight = judged["signal(queue_depth) max < 3 during down"]
    assert tight["verdict"] == "fail" and tight["observed"] >= 10, tight
    assert judged["signal(queue_depth) max < 100000 during down"]["verdict"] == "pass"
    assert judged["signal(queue_depth) max < 3 before down"]["verdict"] == "pass"
    assert judged["signal(orders) min > 0 during down"]["verdict"] == "pass"  # still accepted
    assert judged["signal(p95_server) < 5s"]["verdict"] == "pass"
    depth = scenario["signals"]["queue_depth"]
    assert depth["source"] == "shop" and depth["kind"] == "gauge" and depth["unit"] is None
    assert len(depth["series"]) == scenario["duration_s"] == 11
    assert depth["failed"] == depth["malformed"] == 0 and depth["scrapes"] >= 20
    during = [v for v in depth["series"][3:8] if v is not None]
    assert during == sorted(during) and during[-1] >= during[0] + 10  # grows while it holds
    orders = scenario["signals"]["orders"]
    assert orders["kind"] == "rate" and orders["expression"] == "shop_orders_total"
    accepted = sum(v for v in orders["series"] if v is not None)
    placed = scenario["flows"]["checkout"]["steps"]["order"]["requests"]
    assert abs(accepted - placed) <= 0.1 * placed + 2, (accepted, placed)
    assert "signal(queue_depth) max < 3 during down" in output


def test_worker_lag_after_worker_crash(stage: Stage) -> None:  # noqa: F811
    code, output, result = _run(
        stage,
        "  crash: {type: kill, target: order-worker, signal: SIGKILL}",
        """  worker-crash:
    workload: load
    chaos: [{fault: crash, at: 2s, for: 4s}]
    thresholds:
      - signal(worker_lag) max > 1s during crash
      - signal(worker_lag) last < 2s after crash
      - signal(worker_lag) < 1ms after crash""",
        duration="12s",
    )
    scenario = result["scenarios"][0]
    judged = _by_expression(scenario)
    assert code == 1, output
    assert judged["signal(worker_lag) max > 1s during crash"]["verdict"] == "pass"
    assert judged["signal(worker_lag) last < 2s after crash"]["verdict"] == "pass"
    strict = judged["signal(worker_lag) < 1ms after crash"]
    assert strict["verdict"] == "fail" and strict["unit"] == "s" and strict["limit"] == 0.001
    lag = scenario["signals"]["worker_lag"]
    assert lag["unit"] == "s" and lag["no_data"] == []


def test_a_source_that_goes_away_mid_run_is_no_data_and_its_counters_reset(
    stage: Stage,  # noqa: F811
) -> None:
    shop_process = (
        f"  shop-process: {{process: {{state_file: {stage.system.dir}/state.json, key: shop}}}}\n"
    )
    _, output, result = _run(
        stage,
        "  shop-crash: {type: kill, target: shop-process, signal: SIGKILL}",
        """  shop-restart:
    workload: load
    chaos: [{fault: shop-crash, at: 3s, for: 4s}]
    thresholds:
      - signal(orders) min >= 0
      - signal(queue_depth) < 100000 during shop-crash""",
        duration="10s",
        extra=shop_process,
    )
    scenario = result["scenarios"][0]
    orders = scenario["signals"]["orders"]
    assert orders["failed"] >= 1 and orders["malformed"] == 0, orders
    assert orders["no_data"] and all(3 <= s < 8 for s in orders["no_data"]), orders
    assert all(v is None or v >= 0 for v in orders["series"])  # reset counted from zero
    assert sum(v for v in orders["series"][8:] if v is not None) > 0  # counting again
    judged = _by_expression(scenario)
    assert judged["signal(orders) min >= 0"]["verdict"] == "pass", output
    during = judged["signal(queue_depth) < 100000 during shop-crash"]
    assert "without data" in during["detail"], during


def test_an_unreachable_source_at_start_is_exit_3_naming_it(stage: Stage) -> None:  # noqa: F811
    port = free_port()
    suite = stage.suite(
        "  f: {type: latency, target: payments-link, delay: 1ms}",
        """  s:
    workload: load
    thresholds:
      - signal(depth) < 10""",
        targets="""metrics_sources:
  gone: {scrape: {target: dead}}
signals:
  depth: {source: gone, gauge: shop_queue_depth}
""",
    )
    text = suite.read_text().replace(
        "targets:\n", f"targets:\n  dead: http://127.0.0.1:{port}\n", 1
    )
    suite.write_text(text)
    output, _ = stage.run(suite).communicate(timeout=60)
    assert f"metrics source 'gone' (http://127.0.0.1:{port}/metrics) did not answer" in output
    scenario = stage.result()["scenarios"][0]
    assert scenario["verdict"] == "error" and scenario["stop_reason"].startswith("a metrics")
    assert stage.result()["exit_code"] == 3


def test_an_unknown_metric_is_exit_3_with_did_you_mean(stage: Stage) -> None:  # noqa: F811
    suite = stage.suite(
        "  f: {type: latency, target: payments-link, delay: 1ms}",
        """  s:
    workload: load""",
        targets="""metrics_sources:
  shop: {scrape: {target: shop}}
signals:
  depth: {source: shop, gauge: shop_queue_dept}
  failed: {source: shop, rate: 'shop_orders_total{result="failed"}'}
""",
    )
    proc = stage.run(suite)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3, output
    assert "signal 'depth': metrics source 'shop' has no metric 'shop_queue_dept'" in output
    assert "did you mean shop_queue_depth" in output


def test_an_abort_threshold_on_a_signal_stops_the_load_and_reverts_the_fault(
    stage: Stage,  # noqa: F811
) -> None:
    worker = stage.system.pid("worker")
    code, output, result = _run(
        stage,
        "  freeze: {type: pause, target: order-worker}",
        """  frozen:
    workload: load
    chaos: [{fault: freeze, at: 2s, for: 20s}]
    thresholds:
      - signal(queue_depth) < 15 during freeze, abort""",
        duration="30s",
    )
    scenario = result["scenarios"][0]
    assert code == 1, output
    assert scenario["stop"] == "aborted", (scenario["stop_reason"], output)
    assert scenario["stop_reason"].startswith(
        "aborted: `signal(queue_depth) < 15 during freeze, abort` failed (observed "
    )
    assert scenario["duration_s"] < 25, output  # the 30 s load stopped once the queue passed 15
    assert scenario["faults"][0]["reverted"] is True

    def running() -> bool:
        with open(f"/proc/{worker}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "T"

    wait_for(running, 10, "the paused worker to run again")
