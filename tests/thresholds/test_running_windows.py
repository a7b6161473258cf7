"""Abort checks keep each windowed or phase-scoped threshold's window across seconds
(`RunningWindow`); what they decide must be exactly what a window built afresh decides."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from contval.metrics import Recorder, Series
from contval.metrics.series import RunningWindow, Totals
from contval.thresholds import check_abort, parse_threshold
from contval.thresholds.evaluate import _RUNNING
from tests.synthetic import Second, build_series

THRESHOLDS = [
    parse_threshold(text)
    for text in (
        "checkout: error_rate < 10% over 5s, abort",
        "checkout/pay: p95(latency) < 150ms over 3s, abort",
        "p99(latency) < 120ms over 4s, abort",
        "rps > 60/s over 2s, abort",
        "browse: count(requests) > 40 over 3s, abort",
        "checkout: error_rate < 5% during payments-down, abort",
        "p90(latency) < 110ms after payments-down, abort",
        "checkout/pay: max(latency) < 180ms over 2s before payments-down, abort",
        "count(errors) < 30 during payments-down, abort",
    )
]
FAULTS = {"payments-down": (6, 14)}

rows = st.tuples(st.integers(0, 40), st.integers(0, 12), st.sampled_from([20.0, 90.0, 140.0]))
seconds = st.lists(
    st.fixed_dictionaries(
        {},
        optional={"browse/list": rows, "checkout/pay": rows, "checkout/confirm": rows},
    ),
    min_size=1,
    max_size=24,
)


def _fresh(series: Series) -> Series:
    """The same seconds in a series no abort check has seen (so no window is kept for it)."""
    copy = Series(series.snapshots())
    assert copy not in _RUNNING
    return copy


@settings(max_examples=60, deadline=None)
@given(seconds)
def test_abort_checks_on_kept_windows_equal_fresh_ones(run: list[Second]) -> None:
    whole = build_series(run)
    live = Series()
    for snapshot in whole.snapshots():
        live.add(snapshot)  # one complete second at a time, as the controller adds them
        for threshold in THRESHOLDS:
            kept = check_abort(threshold, live, faults=FAULTS)
            fresh = check_abort(threshold, _fresh(live), faults=FAULTS)
            assert kept == fresh, threshold.expression
    assert (live in _RUNNING) == (len(run) >= 2)  # the checks above kept windows


def _same(a: Totals, b: Totals) -> None:
    assert (a.start, a.end) == (b.start, b.end)
    assert a.slots.keys() == b.slots.keys()
    for key, slot in a.slots.items():
        other = b.slots[key]
        assert slot.counters == other.counters, key
        assert list(slot.latency.counts) == list(other.latency.counts), key
        assert list(slot.duration.counts) == list(other.duration.counts), key


@settings(max_examples=60, deadline=None)
@given(seconds, st.lists(st.tuples(st.integers(0, 24), st.integers(0, 24)), max_size=12))
def test_a_moved_window_equals_series_window(
    run: list[Second], moves: list[tuple[int, int]]
) -> None:
    """Slot for slot, whichever way it moves (back or past its end: rebuilt); a slot whose
    last second left the window leaves it too, as `Series.window` never had it."""
    series = build_series(run, iterations=True)
    window = RunningWindow()
    for a, b in moves:
        t0, t1 = min(a, b), max(a, b)
        _same(window.move(series, t0, t1), series.window(t0, t1))


def test_a_changed_second_rebuilds_the_window() -> None:
    """A second worker's part of a second already in the window is not missed."""
    rec = Recorder()
    series = Series()
    for t in range(4):
        rec.slot("browse", "list").request(0.02)
        series.add(rec.snapshot(t))
    window = RunningWindow()
    assert window.move(series, 0, 4).counters().requests == 4
    rec.slot("browse", "list").request(0.02)
    series.add(rec.snapshot(2))  # another worker's second 2
    assert window.move(series, 1, 4).counters().requests == 4
    _same(window.totals, series.window(1, 4))
