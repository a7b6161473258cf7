"""The real shop's queue during payments-down, read from its /metrics: how long the queue took
to drain back to its pre-fault band (`recovery_time(signal(...))`), and checkout's health
degraded by the server's queue while it held."""

from __future__ import annotations

from tests.pipeline.test_chaos_run import Stage, stage  # noqa: F401
from tests.signals.test_run import _by_expression, _run


def test_queue_recovery_and_checkout_health_during_payments_down(stage: Stage) -> None:  # noqa: F811
    code, output, result = _run(
        stage,
        "  down: {type: reset, target: payments-link}",
        """  payments-down:
    workload: load
    chaos: [{fault: down, at: 4s, for: 4s}]
    thresholds:
      - recovery_time(signal(queue_depth)) < 12s after down
      - recovery_time(signal(queue_depth)) < 1ms after down
      - "checkout: signal(queue_depth) max < 100000 warn 3\"""",
        duration="22s",
    )
    scenario = result["scenarios"][0]
    judged = _by_expression(scenario)
    assert code == 1, output  # the 1 ms one fails
    queue = scenario["signals"]["queue_depth"]["series"]
    assert max(v for v in queue[4:9] if v is not None) >= 10, queue  # it grew while down
    drained = judged["recovery_time(signal(queue_depth)) < 12s after down"]
    assert drained["verdict"] == "pass", (drained, queue)
    assert 1000 <= drained["observed"] <= 12000 and drained["unit"] == "ms"
    assert drained["detail"].startswith("down: recovered ") and "(band: " in drained["detail"]
    assert drained["window"][0] == 8  # counted from the fault's end
    # the same recovery is in the fault's phases, beside the flows' (and for every signal)
    recovery = scenario["phases"]["down"]["recovery"]
    assert set(recovery["signals"]) == {"queue_depth", "worker_lag", "orders", "p95_server"}
    queue_recovery = recovery["signals"]["queue_depth"]
    assert queue_recovery["status"] == "recovered"
    assert queue_recovery["seconds"] * 1000 == drained["observed"]
    assert queue_recovery["window"] == drained["window"]
    assert queue_recovery["band"]["high"] < 10 <= max(v for v in queue[4:9] if v is not None)
    assert "checkout" in recovery["flows"] and "total" in recovery
    strict = judged["recovery_time(signal(queue_depth)) < 1ms after down"]
    assert strict["verdict"] == "fail" and strict["observed"] == drained["observed"]
    # checkout's orders are accepted (202) while payments are down: the client sees no error,
    # the server's queue says checkout is degraded
    assert scenario["flows"]["checkout"]["errors"] == 0, scenario["flows"]["checkout"]
    checkout = scenario["health"]["flows"]["checkout"]
    first = checkout["windows"][0]
    assert first["state"] == "degraded", checkout
    assert first["reason"].startswith("checkout: signal(queue_depth) max "), first
    assert first["reason"].endswith(" breaches warn 3"), first
    assert scenario["health"]["flows"]["browse"]["worst"] == "healthy"
    assert judged["checkout: signal(queue_depth) max < 100000 warn 3"]["state"] == "degraded"
