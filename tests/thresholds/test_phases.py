"""Phase-qualified thresholds, recovery_time and the steady-state gate on synthetic series."""

from __future__ import annotations

import pytest

from contval.metrics import Series
from contval.thresholds import (
    ThresholdResult,
    ThresholdSyntaxError,
    Verdict,
    check_abort,
    evaluate,
    evaluate_all,
    parse_threshold,
    steady_state,
)
from tests.synthetic import Second
from tests.synthetic import build_series as build

BROWSE: Second = {"browse/list": (100, 0, 20.0)}
HEALTHY = (50, 0, 100.0)
FAULTS = {"payments-down": (10, 20)}


def chaos_run(after: list[tuple[int, int, float]], length: int = 40) -> Series:
    """Fault [10, 20): checkout fails half its requests; `after` gives checkout's seconds 20,
    21, ... and then it is healthy until `length`. Browse is healthy throughout."""
    seconds: list[Second] = []
    for t in range(length):
        pay = HEALTHY if t < 10 else (25, 25, 100.0) if t < 20 else HEALTHY
        if t >= 20 and t - 20 < len(after):
            pay = after[t - 20]
        seconds.append({**BROWSE, "checkout/pay": pay})
    return build(seconds)


RUN = chaos_run([(40, 10, 100.0)] * 3)  # errors until 23, then healthy: recovery 3 s


def judge(
    text: str, series: Series = RUN, faults: dict[str, tuple[int, int]] = FAULTS
) -> ThresholdResult:
    return evaluate(parse_threshold(text), series, faults)


@pytest.mark.parametrize(
    ("text", "observed"),
    [
        ("checkout: count(requests) == 500 before payments-down", 500),
        ("checkout: count(errors) == 250 during payments-down", 250),
        ("checkout: count(errors) == 30 after payments-down", 30),
        ("count(requests) == 3000 after payments-down", 3000),
        ("checkout: error_rate < 60% during payments-down", 50.0),
        ("browse: error_rate == 0% during payments-down", 0.0),
        ("rps == 150/s during payments-down", 150.0),
    ],
)
def test_phase_splitting_is_exact(text: str, observed: float) -> None:
    result = judge(text)
    assert result.verdict is Verdict.PASS
    assert result.observed == pytest.approx(observed)


def test_phase_changes_the_verdict() -> None:
    assert judge("checkout: error_rate < 1% before payments-down").verdict is Verdict.PASS
    assert judge("checkout: error_rate < 1% during payments-down").verdict is Verdict.FAIL
    assert judge("checkout: error_rate < 1%").verdict is Verdict.FAIL


def test_rps_counts_quiet_seconds_of_the_phase() -> None:
    series = build([BROWSE] * 10 + [{}] * 5 + [BROWSE] * 5 + [BROWSE] * 10)
    assert judge("rps == 50/s during payments-down", series).verdict is Verdict.PASS


def test_over_windows_stay_inside_the_phase() -> None:
    rows: list[Second] = [BROWSE] * 40
    rows[12] = {"browse/list": (10, 0, 900.0)}  # a stall during the fault
    series = build(rows)
    before = judge("p99(latency) < 500ms over 5s before payments-down", series)
    assert before.verdict is Verdict.PASS
    during = judge("p99(latency) < 500ms over 5s during payments-down", series)
    assert during.verdict is Verdict.FAIL
    assert during.window is not None
    t0, t1 = during.window
    assert 10 <= t0 <= 12 < t1 <= 20 and t1 - t0 == 5
    short = judge("p99(latency) < 500ms over 15s during payments-down", series)
    assert short.verdict is Verdict.NO_DATA


def test_a_fault_that_was_not_injected_has_no_data() -> None:
    for text in ("error_rate < 1% during netem-loss", "recovery_time < 15s after netem-loss"):
        result = judge(text)
        assert result.verdict is Verdict.NO_DATA
        assert "not injected" in result.detail


def test_existing_signatures_still_work() -> None:
    threshold = parse_threshold("checkout: error_rate < 5% during payments-down")
    assert evaluate(threshold, RUN).verdict is Verdict.NO_DATA
    assert [r.verdict for r in evaluate_all([threshold], RUN)] == [Verdict.NO_DATA]
    assert check_abort(threshold, RUN) is None


def test_recovery_time_flow_scoped_and_global() -> None:
    checkout = judge("checkout: recovery_time < 5s")
    assert (checkout.verdict, checkout.observed, checkout.unit) == (Verdict.PASS, 3000.0, "ms")
    assert checkout.window == (20, 23)
    assert "payments-down" in checkout.detail and "band" in checkout.detail
    assert judge("checkout: recovery_time < 3s").verdict is Verdict.FAIL
    assert judge("browse: recovery_time == 0s").verdict is Verdict.PASS
    assert judge("recovery_time == 3s after payments-down").verdict is Verdict.PASS
    assert judge("checkout/pay: recovery_time <= 3s").verdict is Verdict.PASS


def test_recovery_time_driven_by_latency() -> None:
    series = chaos_run([(50, 0, 400.0)] * 7)
    result = judge("checkout: recovery_time < 15s", series)
    assert (result.verdict, result.observed) == (Verdict.PASS, 7000.0)


def test_never_recovering_fails_even_under_the_limit() -> None:
    series = chaos_run([(40, 10, 100.0)] * 20)
    result = judge("checkout: recovery_time < 1m", series)
    assert result.verdict is Verdict.FAIL
    assert result.observed == 20_000.0  # the whole after phase: a lower bound
    assert "not recovered within the run" in result.detail
    assert result.window == (20, 40)


def test_recovery_time_without_data() -> None:
    assert judge("recovery_time < 15s", faults={}).verdict is Verdict.NO_DATA
    result = judge("nope: recovery_time < 15s")
    assert result.verdict is Verdict.NO_DATA
    assert "no requests before payments-down" in result.detail


def test_recovery_time_takes_the_worst_fault() -> None:
    rows: list[Second] = []
    for t in range(40):
        sick = 5 <= t < 12 or 20 <= t < 29  # a: [5, 10) + 2 s; b: [20, 25) + 4 s
        rows.append({"checkout/pay": (25, 25, 100.0) if sick else HEALTHY})
    faults = {"a": (5, 10), "b": (20, 25)}
    series = build(rows)
    worst = judge("checkout: recovery_time < 10s", series, faults)
    assert (worst.observed, worst.window) == (4000.0, (25, 29))
    assert worst.detail.startswith("b:")
    assert judge("checkout: recovery_time == 2s after a", series, faults).verdict is Verdict.PASS


def test_recovery_time_only_after_a_fault() -> None:
    with pytest.raises(ThresholdSyntaxError, match="after FAULT"):
        parse_threshold("recovery_time < 15s during payments-down")
    assert check_abort(parse_threshold("recovery_time < 1s, abort"), RUN, faults=FAULTS) is None


def test_check_abort_within_a_phase() -> None:
    threshold = parse_threshold("checkout: error_rate < 10% during payments-down, abort")
    assert check_abort(threshold, RUN, now=10, faults=FAULTS) is None  # not started yet
    assert check_abort(threshold, RUN, now=8, faults={}) is None  # not injected yet
    failed = check_abort(threshold, RUN, now=15, faults=FAULTS)
    assert failed is not None and failed.observed == pytest.approx(50.0)
    windowed = parse_threshold("checkout: error_rate < 10% over 5s after payments-down, abort")
    assert check_abort(windowed, RUN, now=24, faults=FAULTS) is None  # no full window yet
    late = check_abort(windowed, RUN, now=25, faults=FAULTS)
    assert late is not None and late.window == (20, 25)
    assert check_abort(windowed, RUN, now=30, faults=FAULTS) is None  # [25, 30) is healthy


GATES = [
    parse_threshold("error_rate < 1% before payments-down"),
    parse_threshold("checkout: p95(latency) < 200ms before payments-down"),
    parse_threshold("checkout: error_rate < 1% during payments-down"),  # not a gate
    parse_threshold("error_rate < 1% before other-fault"),  # another fault's gate
]


def test_steady_state_holds() -> None:
    so_far = build([{**BROWSE, "checkout/pay": HEALTHY}] * 10)
    assert steady_state(GATES, so_far, "payments-down", FAULTS) == []


def test_steady_state_does_not_hold() -> None:
    so_far = build([{**BROWSE, "checkout/pay": (45, 5, 300.0)}] * 10)
    failing = steady_state(GATES, so_far, "payments-down", FAULTS)
    assert [r.expression for r in failing] == [GATES[0].expression, GATES[1].expression]
    assert all(r.verdict is Verdict.FAIL for r in failing)


def test_unproven_steady_state_does_not_hold() -> None:
    so_far = build([BROWSE] * 10)  # checkout sent nothing: its gate has no data
    failing = steady_state(GATES, so_far, "payments-down", FAULTS)
    assert [(r.expression, r.verdict) for r in failing] == [(GATES[1].expression, Verdict.NO_DATA)]
    with pytest.raises(ValueError, match="planned window"):
        steady_state(GATES, so_far, "unplanned", FAULTS)
