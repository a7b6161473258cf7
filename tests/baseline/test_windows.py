"""windows_of on a synthetic run built with the real recorder: exact counts and histograms."""

from __future__ import annotations

import pytest

from contval.baseline.records import WindowRecord
from contval.baseline.windows import grid, windows_of
from contval.metrics import ErrorClass, Histogram, Recorder, Series

SECONDS = 25


def latency_us(second: int, i: int) -> int:
    return 1000 * (second + 1) + 37 * i


def synthetic() -> Series:
    """`browse/home`: 3 requests a second (one an error every 5th second); `browse` "":
    one iteration a second; `checkout/pay`: requests only in seconds 0-4 (then idle)."""
    recorder = Recorder()
    home, flow, pay = (
        recorder.slot("browse", "home"),
        recorder.slot("browse"),
        recorder.slot("checkout", "pay"),
    )
    series = Series()
    for second in range(SECONDS):
        for i in range(3):
            home.request(latency_us(second, i) / 1e6)
        if second % 5 == 0:
            home.error(ErrorClass.HTTP_STATUS, 0.002)
        flow.iteration(0.5 + second / 100)
        if second < 5:
            pay.request(0.010)
        series.add(recorder.snapshot(second))
    return series


def by_key(records: list[WindowRecord]) -> dict[tuple[str, str, int], WindowRecord]:
    return {(r.flow, r.step, r.t0): r for r in records}


def test_plain_run_tiles_in_ten_second_windows() -> None:
    records = windows_of(synthetic())
    assert sorted({(r.t0, r.t1) for r in records}) == [(0, 10), (10, 20), (20, 25)]
    assert len(records) == 3 * 3  # every slot in every window
    got = by_key(records)
    home = got["browse", "home", 10]
    assert (home.requests, home.errors, home.iterations) == (32, 2, 0)
    values = [latency_us(s, i) for s in range(10, 20) for i in range(3)] + [2000, 2000]
    assert home.latency is not None
    assert Histogram.decode(home.latency) == Histogram.of_values(values)
    assert home.duration is None and home.phases == {}
    last = got["browse", "home", 20]
    assert (last.requests, last.errors, last.seconds) == (16, 1, 5)


def test_flow_level_iterations_and_durations() -> None:
    flow = by_key(windows_of(synthetic()))["browse", "", 0]
    assert (flow.requests, flow.iterations, flow.latency) == (0, 10, None)
    assert flow.duration is not None
    expected = Histogram.of_values([500_000 + 10_000 * s for s in range(10)])
    assert Histogram.decode(flow.duration) == expected
    assert Histogram.decode(flow.duration).percentile(50) == expected.percentile(50)


def test_an_idle_slot_gets_zero_windows() -> None:
    got = by_key(windows_of(synthetic()))
    assert got["checkout", "pay", 0].requests == 5
    idle = got["checkout", "pay", 10]
    assert (idle.requests, idle.errors, idle.latency, idle.duration) == (0, 0, None, None)


def test_totals_add_up_to_the_whole_run() -> None:
    series = synthetic()
    records = windows_of(series, faults={"f": (7, 13)})
    whole = series.totals().slots["browse", "home"]
    home = [r for r in records if r.step == "home"]
    assert sum(r.requests for r in home) == whole.counters.requests
    merged = Histogram()
    for r in home:
        merged.add_encoded(r.latency)
    assert merged == whole.latency


def test_chaos_windows_restart_at_fault_edges_and_carry_phases() -> None:
    records = windows_of(synthetic(), faults={"slow": (12, 18), "down": (15, 40)})
    spans = sorted({(r.t0, r.t1) for r in records})
    assert spans == [(0, 10), (10, 12), (12, 15), (15, 18), (18, 25)]
    phases = {(r.t0, r.t1): r.phases for r in records}
    assert phases[0, 10] == {"down": "before", "slow": "before"}
    assert phases[12, 15] == {"down": "before", "slow": "during"}
    assert phases[15, 18] == {"down": "during", "slow": "during"}
    assert phases[18, 25] == {"down": "during", "slow": "after"}


def test_grid_edges() -> None:
    assert grid(0, 0, 10, {}) == []
    assert grid(3, 23, 10, {}) == [(3, 13), (13, 23)]
    assert grid(0, 20, 10, {"f": (-5, 100)}) == [(0, 10), (10, 20)]
    assert grid(0, 4, 1, {}) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    with pytest.raises(ValueError):
        windows_of(Series(), size=0)


def test_empty_series_has_no_windows() -> None:
    assert windows_of(Series()) == []


def test_record_dict_round_trip() -> None:
    for record in windows_of(synthetic(), faults={"f": (5, 10)}):
        assert WindowRecord.from_dict(record.to_dict()) == record


def test_per_window_values_for_the_comparison() -> None:
    got = by_key(windows_of(synthetic(), faults={"f": (12, 14)}))
    home = got["browse", "home", 12]
    assert (home.seconds, home.requests, home.rps) == (2, 6, 3.0)
    assert home.error_rate == 0.0
    assert got["browse", "home", 10].error_rate == pytest.approx(1 / 7)
    assert home.latency_percentile(100) == Histogram.of_values(
        [latency_us(s, i) for s in (12, 13) for i in range(3)]
    ).percentile(100)
    idle = got["checkout", "pay", 12]
    assert (idle.error_rate, idle.rps, idle.latency_percentile(95)) == (None, 0.0, None)
