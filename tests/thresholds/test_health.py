"""Warning levels and the per-flow health model on series with known answers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contval.thresholds import ThresholdSyntaxError, evaluate, parse_threshold
from contval.thresholds.health import applicable, flow_health, windows_of
from contval.thresholds.result import State, worst_state
from tests.synthetic import Second, build_series


def seconds(n: int, browse_ms: float, checkout_errors: int = 0) -> list[Second]:
    return [
        {
            "browse/list": (10, 0, browse_ms),
            "checkout/pay": (10 - checkout_errors, checkout_errors, 5),
        }
    ] * n


def test_warn_parses_round_trips_and_is_reported() -> None:
    t = parse_threshold("browse: p95(latency) < 200ms warn 150ms over 10s")
    assert t.warn == pytest.approx(0.150)
    assert t.to_text() == "browse: p95(latency) < 200ms warn 150ms over 10s"
    assert parse_threshold(t.to_text()) == t
    series = build_series(seconds(20, 180))
    result = evaluate(parse_threshold("browse: p95(latency) < 200ms warn 150ms"), series)
    assert (result.verdict, result.state, result.warn) == ("pass", State.DEGRADED, 150.0)
    assert result.to_dict()["state"] == "degraded" and result.to_dict()["warn"] == 150.0
    assert result.to_dict()["op"] == "<"
    healthy = evaluate(parse_threshold("browse: p95(latency) < 200ms warn 190ms"), series)
    assert healthy.state is State.HEALTHY
    failing = evaluate(parse_threshold("browse: p95(latency) < 100ms warn 50ms"), series)
    assert (failing.verdict, failing.state) == ("fail", State.UNHEALTHY)
    lower = evaluate(parse_threshold("checks > 90% warn 99%"), build_series(seconds(3, 1)))
    assert lower.state is State.NO_DATA  # no checks recorded: no data, never healthy


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p95(latency) < 200ms warn 250ms", "stricter than the limit: below 200ms"),
        ("p95(latency) <= 200ms warn 200ms", "stricter than the limit: below 200ms"),
        ("error_rate > 1% warn 0.5%", "stricter than the limit: above 1%"),
        ("rps == 5 warn 3", "`warn` needs <, <=, > or >=, not =="),
        ("p95(latency) < baseline + 10% warn 5%", "takes no `warn` level"),
        ("p95(latency) < 200ms warn", "expected a value"),
        ("p95(latency) < 200ms warn 150", "unit"),
    ],
)
def test_bad_warning_levels_are_clear_errors(text: str, message: str) -> None:
    with pytest.raises(ThresholdSyntaxError) as info:
        parse_threshold(text)
    assert message in str(info.value)


@given(st.integers(1, 999), st.integers(1, 999))
def test_any_stricter_warning_round_trips(limit: int, warn: int) -> None:
    text = f"p99(latency) < {limit}ms warn {warn}ms"
    if warn >= limit:
        with pytest.raises(ThresholdSyntaxError):
            parse_threshold(text)
        return
    parsed = parse_threshold(text)
    assert parsed.to_text() == text and parse_threshold(parsed.to_text()) == parsed


def test_states_rank_and_worst() -> None:
    assert worst_state([State.HEALTHY, State.DEGRADED, State.NO_DATA]) is State.DEGRADED
    assert worst_state([State.UNHEALTHY, State.DEGRADED]) is State.UNHEALTHY
    assert worst_state([]) is State.NO_DATA


def test_which_thresholds_apply_to_a_flow() -> None:
    ts = [
        parse_threshold(text)
        for text in (
            "error_rate < 1%",
            "browse/list: p95(latency) < 200ms",
            "checkout: p99(latency) < 1s",
            "rps > 10",
            "count(requests) > 5",
            "p95(latency) < baseline + 10%",
        )
    ]
    browse = applicable(ts, "browse")
    assert [t.to_text() for t in browse] == [
        "browse: error_rate < 1%",
        "browse/list: p95(latency) < 200ms",
    ]


def test_flow_health_per_window() -> None:
    # browse: 20 s at 100 ms, 10 s at 180 ms (degraded), 10 s at 300 ms (unhealthy), 5 s idle.
    rows = seconds(20, 100) + seconds(10, 180) + seconds(10, 300, checkout_errors=5)
    rows += [{"checkout/pay": (10, 0, 5)}] * 5
    series = build_series(rows)
    thresholds = [
        parse_threshold("browse: p95(latency) < 200ms warn 150ms"),
        parse_threshold("error_rate < 10%"),
    ]
    health = flow_health(thresholds, series, ["browse", "checkout"])
    assert health["window_s"] == 10 and health["worst"] == "unhealthy"
    browse = health["flows"]["browse"]
    assert [w["t"] for w in browse["windows"]] == [[0, 10], [10, 20], [20, 30], [30, 40], [40, 45]]
    assert [w["state"] for w in browse["windows"]] == [
        "healthy",
        "healthy",
        "degraded",
        "unhealthy",
        "no_data",
    ]
    assert browse["windows"][2]["reason"] == "browse: p95(latency) 180 ms breaches warn 150ms"
    assert browse["windows"][3]["reason"].startswith("browse: p95(latency) 300 ms fails < 200ms")
    assert browse["worst"] == "unhealthy"
    checkout = health["flows"]["checkout"]
    # 50 % errors in the fourth window fails `error_rate < 10%`, judged on checkout alone.
    assert [w["state"] for w in checkout["windows"]] == [
        "healthy",
        "healthy",
        "healthy",
        "unhealthy",
        "healthy",
    ]
    assert "checkout: error_rate 50 % fails < 10%" in checkout["windows"][3]["reason"]


def test_a_flow_without_thresholds_is_degraded_by_errors() -> None:
    series = build_series(seconds(10, 1) + seconds(10, 1, checkout_errors=1))
    health = flow_health([], series, ["checkout"])
    states = [w["state"] for w in health["flows"]["checkout"]["windows"]]
    assert states == ["healthy", "degraded"]
    assert health["flows"]["checkout"]["windows"][1]["reason"] == "10 errors of 100 requests"


def test_phase_thresholds_judge_only_their_phase() -> None:
    rows = seconds(10, 100) + seconds(10, 400) + seconds(10, 100)
    series = build_series(rows)
    during = parse_threshold("browse: p95(latency) < 200ms during slow")
    before = parse_threshold("browse: p95(latency) < 200ms before slow")
    health = flow_health([during, before], series, ["browse"], {"slow": (10, 20)})
    assert [w["state"] for w in health["flows"]["browse"]["windows"]] == [
        "healthy",
        "unhealthy",
        "healthy",
    ]
    # The fault was not injected: its phase thresholds judge nothing.
    skipped = flow_health([during], series, ["browse"], {})
    assert [w["state"] for w in skipped["flows"]["browse"]["windows"]] == ["healthy"] * 3


def test_windows_cover_the_run() -> None:
    assert windows_of(build_series(seconds(25, 1))) == [(0, 10), (10, 20), (20, 25)]
    assert windows_of(build_series([])) == []
    assert windows_of(build_series(seconds(25, 1)), end=20) == [(0, 10), (10, 20)]
    assert windows_of(build_series(seconds(5, 1)), end=20) == [(0, 5)]
