"""Series: whole-run totals, window totals and sliding windows over a synthetic run."""

from __future__ import annotations

import pytest

from contval.metrics import ErrorClass, Recorder, Series, summarize


def _run(per_second: list[tuple[int, int, int]]) -> Series:
    """Second i: `ok` requests at `ms` latency and `errors` timeouts, on browse/list."""
    rec = Recorder()
    slot = rec.slot("browse", "list")
    flow = rec.slot("browse")
    series = Series()
    for second, (ok, errors, ms) in enumerate(per_second):
        for _ in range(ok):
            slot.request(ms / 1000)
        for _ in range(errors):
            slot.error(ErrorClass.TIMEOUT)
        flow.iteration(ms / 1000 * 2)
        series.add(rec.snapshot(second))
    return series


def test_whole_run_totals() -> None:
    series = _run([(10, 0, 5), (10, 5, 5), (20, 0, 50)])
    totals = series.totals()
    assert (totals.start, totals.end, totals.seconds) == (0, 3, 3)
    c = totals.counters("browse")
    assert (c.requests, c.error_count, c.iterations) == (45, 5, 3)
    assert totals.counters("browse", "list").iterations == 0
    assert totals.counters("nope").requests == 0


def test_window_totals() -> None:
    series = _run([(10, 0, 5), (10, 5, 5), (20, 0, 50), (1, 0, 5)])
    window = series.window(1, 3)
    c = window.counters()
    assert (c.requests, c.error_count) == (35, 5)
    lat = window.slots[("browse", "list")].latency
    assert lat.count == 30
    assert lat.percentile(50) == pytest.approx(50_000, rel=1e-3)
    assert series.window(1, 3, keys=lambda k: k[1] == "").counters().requests == 0


def test_sliding_windows_match_direct_windows() -> None:
    rows = [(i % 4 * 5, i % 3, 1 + i) for i in range(12)]
    series = _run(rows)
    seen = []
    for totals in series.sliding(5):
        direct = series.window(totals.start, totals.end)
        assert totals.counters() == direct.counters()
        key = ("browse", "list")
        assert totals.slots[key].latency == direct.slots[key].latency
        seen.append((totals.start, totals.end))
    assert seen == [(t, t + 5) for t in range(8)]
    assert list(series.sliding(13)) == []


def test_summary_per_flow_and_step() -> None:
    series = _run([(100, 0, 5), (100, 100, 5)])
    summary = summarize(series.totals())["browse"]
    assert summary.requests == 300
    assert summary.errors == 100
    assert summary.error_rate == pytest.approx(1 / 3)
    assert summary.rps == pytest.approx(150)
    assert summary.iterations == 2
    assert summary.latency.p50 == pytest.approx(5, rel=1e-3)
    assert summary.duration.max == pytest.approx(10, rel=1e-3)
    step = summary.steps["list"]
    assert step.latency.p99 == pytest.approx(5, rel=1e-3)
    assert step.duration.count == 0
    assert summarize(Series().totals()) == {}
