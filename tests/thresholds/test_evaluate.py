"""Evaluation against synthetic series: pass, fail, no data, worst window, abort detection."""

from __future__ import annotations

import pytest

from contval.metrics import ErrorClass, Recorder, Series
from contval.thresholds import Verdict, check_abort, evaluate, parse_threshold

Second = dict[str, tuple[int, int, float]]  # "flow/step" -> (ok, errors, latency ms)


def _series(seconds: list[Second], poll: float | None = None) -> Series:
    rec = Recorder()
    series = Series()
    for t, rows in enumerate(seconds):
        for name, (ok, errors, ms) in rows.items():
            flow, step = name.split("/")
            slot = rec.slot(flow, step)
            for _ in range(ok):
                slot.request(ms / 1000)
                slot.check(True)
            for _ in range(errors):
                slot.error(ErrorClass.HTTP_STATUS, ms / 1000)
                slot.check(False)
            rec.slot(flow).iteration(ms / 1000 * 3)
            if poll is not None:
                slot.duration(poll)
        series.add(rec.snapshot(t))
    return series


STEADY = _series([{"browse/list": (99, 1, 20.0), "checkout/pay": (50, 0, 300.0)}] * 10)


@pytest.mark.parametrize(
    ("text", "verdict", "observed", "unit"),
    [
        ("error_rate < 1%", Verdict.PASS, 10 / 1500 * 100, "%"),
        ("browse: error_rate < 1%", Verdict.FAIL, 1.0, "%"),
        ("browse/list: p95(latency) < 25ms", Verdict.PASS, 20.0, "ms"),
        ("checkout/pay: p99(latency) < 200ms", Verdict.FAIL, 300.0, "ms"),
        ("p99(latency) < 400ms", Verdict.PASS, 300.0, "ms"),
        ("browse: p95(duration) < 100ms", Verdict.PASS, 60.0, "ms"),
        ("checkout/pay: max(duration) < 301ms", Verdict.PASS, 300.0, "ms"),
        ("avg(latency) > 100ms", Verdict.PASS, (1000 * 20 + 500 * 300) / 1500, "ms"),
        ("checks > 99%", Verdict.PASS, 1490 / 1500 * 100, "%"),
        ("rps >= 150/s", Verdict.PASS, 150.0, "/s"),
        ("count(requests) == 1500", Verdict.PASS, 1500.0, "count"),
        ("browse: count(errors) == 0", Verdict.FAIL, 10.0, "count"),
        ("count(iterations) == 20", Verdict.PASS, 20.0, "count"),
        ("dropped_iterations == 0", Verdict.PASS, 0.0, "count"),
    ],
)
def test_whole_run(text: str, verdict: Verdict, observed: float, unit: str) -> None:
    result = evaluate(parse_threshold(text), STEADY)
    assert result.verdict is verdict
    assert result.observed == pytest.approx(observed, rel=2e-3)
    assert result.unit == unit
    assert result.expression == text


def test_limit_is_reported_in_display_units() -> None:
    result = evaluate(parse_threshold("p95(latency) < 1s"), STEADY)
    assert (result.limit, result.unit) == (1000.0, "ms")
    assert evaluate(parse_threshold("error_rate < 1%"), STEADY).limit == pytest.approx(1.0)


def test_a_step_duration_is_its_own_when_recorded() -> None:
    series = _series([{"order/fulfilled": (2, 0, 10.0)}] * 3, poll=4.0)
    result = evaluate(parse_threshold("order/fulfilled: p95(duration) < 10s"), series)
    assert result.observed == pytest.approx(4000, rel=1e-3)


@pytest.mark.parametrize(
    "text",
    [
        "nope: error_rate < 1%",
        "nope/x: p95(latency) < 1s",
        "browse/list: p95(duration) > 5s over 1m",
        "nope: dropped_iterations == 0",
        "checkout: error_rate < 5% during payments-slow",
        "recovery_time < 15s",
    ],
)
def test_no_data_is_not_a_pass(text: str) -> None:
    result = evaluate(parse_threshold(text), STEADY)
    assert result.verdict is Verdict.NO_DATA
    assert result.observed is None
    assert result.detail


def test_an_empty_run_has_no_data() -> None:
    for text in ("error_rate < 1%", "dropped_iterations == 0", "rps > 0", "checks > 99%"):
        assert evaluate(parse_threshold(text), Series()).verdict is Verdict.NO_DATA


STALL = _series(
    [{"browse/list": (100, 0, 10.0)}] * 10
    + [{"browse/list": (10, 0, 900.0)}]
    + [{"browse/list": (100, 0, 10.0)}] * 10
)


def test_windowed_threshold_reports_the_worst_window() -> None:
    whole = evaluate(parse_threshold("p99(latency) < 500ms"), STALL)
    assert whole.verdict is Verdict.PASS  # 1% of the run stalled: p99 hides it
    windowed = evaluate(parse_threshold("p99(latency) < 500ms over 5s"), STALL)
    assert windowed.verdict is Verdict.FAIL
    assert windowed.observed == pytest.approx(900, rel=1e-3)
    assert windowed.window is not None
    t0, t1 = windowed.window
    assert t1 - t0 == 5 and t0 <= 10 < t1


def test_windowed_lower_bound_takes_the_minimum() -> None:
    series = _series([{"a/b": (n, 0, 1.0)} for n in (50, 50, 5, 50, 50, 50)])
    result = evaluate(parse_threshold("rps >= 30/s over 2s"), series)
    assert result.verdict is Verdict.FAIL
    assert result.observed == pytest.approx(27.5)
    assert result.window in ((1, 3), (2, 4))


def test_windowed_pass_and_run_shorter_than_the_window() -> None:
    assert evaluate(parse_threshold("p99(latency) < 2s over 10s"), STALL).verdict is Verdict.PASS
    short = evaluate(parse_threshold("error_rate < 1% over 1m"), STALL)
    assert short.verdict is Verdict.NO_DATA


def test_abort_fires_on_the_latest_window_only() -> None:
    quiet = {"a/b": (100, 0, 5.0)}
    burst = {"a/b": (50, 50, 5.0)}
    seconds = [quiet] * 6 + [burst] * 3 + [quiet] * 6
    threshold = parse_threshold("error_rate < 20% over 5s, abort")
    series = Series()
    rec_series = _series(seconds).snapshots()
    fired = []
    for t, snap in enumerate(rec_series):
        series.add(snap)
        result = check_abort(threshold, series)
        if result is not None:
            fired.append(t)
            assert result.verdict is Verdict.FAIL and result.abort
    # The window ending with second 7 holds 100 errors of 500 (20%: not below 20%); the one
    # ending with second 12 holds only the last burst second (10%).
    assert fired == [7, 8, 9, 10, 11]


def test_abort_without_window_uses_the_run_so_far_and_no_data_never_aborts() -> None:
    threshold = parse_threshold("error_rate < 20%, abort")
    assert check_abort(threshold, Series()) is None
    assert check_abort(parse_threshold("error_rate < 20% over 5s, abort"), Series()) is None
    bad = _series([{"a/b": (1, 1, 5.0)}])
    result = check_abort(threshold, bad)
    assert result is not None
    assert result.observed == pytest.approx(50.0)
    good = _series([{"a/b": (10, 1, 5.0)}])
    assert check_abort(threshold, good) is None
