"""A flow's health may name a server-side signal: `checkout: signal(p95_server) < 1s warn 200ms`
makes checkout degraded in the windows where the server's p95 is, even with no client error."""

from __future__ import annotations

from contval.thresholds import SignalSeries, evaluate_all, parse_threshold
from contval.thresholds.health import applicable, flow_health
from tests.synthetic import Second, build_series

CLEAN: Second = {"browse/list": (10, 0, 5.0), "checkout/pay": (10, 0, 5.0)}
# the server's p95 (s): fine for 10 s, slow for 10 s, then fine; no data in second 25
P95: list[float | None] = [0.05] * 10 + [0.4] * 10 + [0.05] * 5 + [None] + [0.05] * 4
SIGNALS = {"p95_server": SignalSeries(P95, unit="s"), "depth": SignalSeries([0.0] * 30)}
THRESHOLDS = [
    parse_threshold("checkout: signal(p95_server) < 1s warn 200ms"),
    parse_threshold("signal(depth) max < 5"),  # the server's: no flow's health
]


def test_a_flow_is_degraded_where_its_signal_is_though_the_client_sees_no_error() -> None:
    series = build_series([CLEAN] * 30)
    health = flow_health(THRESHOLDS, series, ["browse", "checkout"], signals=SIGNALS)
    checkout = health["flows"]["checkout"]
    states = [w["state"] for w in checkout["windows"]]
    assert states == ["healthy", "degraded", "healthy"]
    assert checkout["windows"][1]["reason"] == (
        "checkout: signal(p95_server) 0.4 s breaches warn 0.2"
    )
    assert health["flows"]["browse"]["worst"] == "healthy"  # no threshold names a signal
    assert health["worst"] == "degraded"


def test_a_signal_failing_its_limit_makes_the_flow_unhealthy_and_the_verdict_is_the_same() -> None:
    failing = [parse_threshold("checkout: signal(p95_server) max < 300ms")]
    series = build_series([CLEAN] * 30)
    health = flow_health(failing, series, ["checkout"], signals=SIGNALS)
    assert [w["state"] for w in health["flows"]["checkout"]["windows"]] == [
        "healthy",
        "unhealthy",
        "healthy",
    ]
    (scoped,) = evaluate_all(failing, series, signals=SIGNALS)
    (plain,) = evaluate_all(
        [parse_threshold("signal(p95_server) max < 300ms")], series, signals=SIGNALS
    )
    assert (scoped.verdict, scoped.observed) == (plain.verdict, plain.observed) == ("fail", 0.4)


def test_which_signal_thresholds_apply() -> None:
    texts = [
        "checkout: signal(p95_server) < 1s warn 200ms",
        "signal(p95_server) < 1s warn 200ms",
        "browse: signal(depth) max < 5",
        "recovery_time(signal(depth)) < 5s",
    ]
    chosen = applicable([parse_threshold(t) for t in texts], "checkout")
    assert [t.to_text() for t in chosen] == ["checkout: signal(p95_server) < 1 warn 0.2"]


def test_a_window_without_signal_data_is_judged_on_the_rest_and_no_signals_is_healthy() -> None:
    series = build_series([CLEAN] * 30)
    blind = {"p95_server": SignalSeries([None] * 30, unit="s")}
    health = flow_health(THRESHOLDS, series, ["checkout"], signals=blind)
    assert health["flows"]["checkout"]["worst"] == "healthy"
    assert flow_health(THRESHOLDS, series, ["checkout"])["flows"]["checkout"]["worst"] == "healthy"
