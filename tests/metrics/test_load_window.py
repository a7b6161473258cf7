"""The load window and the one rate (issue 10 §4): the seconds after the schedule only drain
iterations in flight; what they recorded folds into the load's last second, so totals keep
every request while no rate or window is diluted by a drain second."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from contval.metrics import ErrorClass, Recorder, Series, summarize
from contval.metrics.rates import per_second
from contval.report.result import flows_dict, totals_dict
from contval.thresholds import evaluate, parse_threshold
from tests.synthetic import build_series


def _drained() -> Series:
    """3 seconds of 200 requests, then a drain second of 10."""
    ok = {"f/get": (200, 0, 50.0)}
    return build_series([ok, ok, ok, {"f/get": (10, 0, 900.0)}])


def test_per_second_is_count_over_seconds_and_none_without_seconds() -> None:
    assert per_second(600, 3) == 200.0
    assert per_second(5, 0) is None


def test_fold_keeps_every_request_and_ends_the_series_at_the_load() -> None:
    series = _drained()
    before = series.totals().counters()
    series.fold_after(3)
    assert series.end == 3
    assert series.totals().counters() == before
    last = series.window(2, 3).counters()
    assert last.requests == 210  # the drain's requests, in the last second of load


def test_every_rate_of_a_run_is_the_same_number_after_the_fold() -> None:
    series = _drained()
    series.fold_after(3)
    totals = totals_dict(series, series.end - series.start, 0)
    flows = flows_dict(series, {"f": "user"})
    rps = parse_threshold("rps > 150/s over 1s")
    result = evaluate(rps, series)
    assert totals["rps"] == flows["f"]["rps"] == flows["f"]["steps"]["get"]["rps"] == 203.333
    assert summarize(series.totals())["f"].rps == 610 / 3  # 200/s, and the drained 10
    assert result.verdict.value == "pass"  # the drain second is no window of its own
    assert result.observed == 200.0


def test_without_the_fold_the_drain_second_fails_a_windowed_rps() -> None:
    """What the fold fixes: judged alone, a drain second reads as a collapse."""
    result = evaluate(parse_threshold("rps > 150/s over 1s"), _drained())
    assert result.verdict.value == "fail" and result.observed == 10.0


def test_a_stall_finishing_in_the_drain_still_counts_in_the_percentiles() -> None:
    series = _drained()
    series.fold_after(3)
    p99 = evaluate(parse_threshold("p99(latency) < 500ms"), series)
    assert p99.verdict.value == "fail"


def test_dropped_arrivals_are_failed_requests_of_their_flow() -> None:
    rec = Recorder()
    step = rec.slot("f", "get")
    for _ in range(90):
        step.request(0.01)
    for _ in range(10):
        rec.slot("f").dropped()
    series = Series([rec.snapshot(0)])
    flow = summarize(series.totals())["f"]
    assert flow.dropped_iterations == 10
    assert flow.requests == 100 and flow.errors == 10
    assert flow.error_rate == 0.1
    assert series.totals().counters().errors[ErrorClass.DROPPED] == 10
    assert evaluate(parse_threshold("f: error_rate < 1%"), series).verdict.value == "fail"
    assert totals_dict(series, 1, 0)["errors_by_class"]["dropped"] == 10


@given(
    st.lists(st.integers(0, 50), min_size=1, max_size=12),
    st.integers(0, 14),
)
def test_fold_never_loses_or_invents_data(counts: list[int], end: int) -> None:
    series = build_series([{"f/get": (n, 1, 5.0)} for n in counts])
    before = series.totals().counters()
    series.fold_after(end)
    assert series.totals().counters() == before
    assert series.window(series.start, series.end).counters() == before
    assert series.end == min(len(counts), max(end, 1))
