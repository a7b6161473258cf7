"""Phases around a fault, the pre-fault band, recovery and phase_summary on synthetic series."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contval.metrics import Counters, Histogram, Series
from contval.metrics.phases import (
    Band,
    RecoveryStatus,
    Slots,
    phase_range,
    phase_series,
    phase_summary,
    recovery,
)
from tests.synthetic import Second
from tests.synthetic import build_series as build

BROWSE: Second = {"browse/list": (100, 0, 20.0)}


def chaos_run(after: list[tuple[int, int, float]], length: int = 40) -> Series:
    """Fault [10, 20): checkout fails half its requests; `after` gives seconds 20, 21, ... of
    checkout, then it is healthy (50 ok at 100 ms) until `length`; browse is healthy always."""
    seconds: list[Second] = []
    for t in range(length):
        if t < 10:
            pay = (50, 0, 100.0)
        elif t < 20:
            pay = (25, 25, 100.0)
        else:
            pay = after[t - 20] if t - 20 < len(after) else (50, 0, 100.0)
        seconds.append({**BROWSE, "checkout/pay": pay})
    return build(seconds)


FAULTS = {"payments-down": (10, 20)}
CHECKOUT = Slots("checkout")


def test_phase_ranges_tile_the_run() -> None:
    assert phase_range("before", (10, 20), 0, 40) == (0, 10)
    assert phase_range("during", (10, 20), 0, 40) == (10, 20)
    assert phase_range("after", (10, 20), 0, 40) == (20, 40)
    # a fault running past the end of the run: no after phase, a clipped during phase
    assert phase_range("during", (30, 60), 0, 40) == (30, 40)
    assert phase_range("after", (30, 60), 0, 40) == (40, 40)
    # the run so far has not reached the fault yet
    assert phase_range("before", (10, 20), 0, 6) == (0, 6)
    assert phase_range("during", (10, 20), 0, 6) == (6, 6)


def test_phase_series_keeps_the_phase_length() -> None:
    series = build([{}] * 3 + [BROWSE] * 4 + [{}] * 3)
    cut = phase_series(series, 2, 9)
    assert (cut.start, cut.end) == (2, 9)
    assert cut.totals().counters().requests == 400
    assert phase_series(series, 5, 5).totals().counters().requests == 0


def test_band_has_relative_and_absolute_slack() -> None:
    quiet = Band.of(Counters(requests=100), Histogram.of_values([10_000] * 100))
    assert quiet is not None
    assert quiet.max_error_rate == pytest.approx(0.01)  # 0% baseline: + 1 point
    assert quiet.max_p95_us == pytest.approx(30_000, rel=1e-3)  # 10 ms: + 20 ms
    noisy = Band.of(
        Counters(requests=100, errors=(0, 0, 0, 0, 5, 0)), Histogram.of_values([100_000] * 100)
    )
    assert noisy is not None
    assert noisy.max_error_rate == pytest.approx(0.10)  # 5%: doubled
    assert noisy.max_p95_us == pytest.approx(150_000, rel=1e-3)  # 100 ms: × 1.5
    assert Band.of(Counters(), Histogram()) is None
    assert quiet.holds(Counters(), Histogram()) is None


def test_recovery_is_counted_from_the_fault_end_to_the_streak() -> None:
    series = chaos_run([(40, 10, 100.0)] * 3)  # 20% errors at 20, 21, 22; healthy from 23
    found = recovery(series, "payments-down", FAULTS, CHECKOUT)
    assert found.status is RecoveryStatus.RECOVERED
    assert (found.seconds, found.window) == (3, (20, 23))
    assert recovery(series, "payments-down", FAULTS).seconds == 3  # everything: same spike
    assert recovery(series, "payments-down", FAULTS, Slots("browse")).seconds == 0


def test_recovery_needs_five_consecutive_in_band_seconds() -> None:
    healthy, sick = (50, 0, 100.0), (40, 10, 100.0)
    series = chaos_run([sick, healthy, healthy, healthy, healthy, sick])
    assert recovery(series, "payments-down", FAULTS, CHECKOUT).seconds == 6


def test_quiet_seconds_neither_break_nor_extend_a_streak() -> None:
    healthy, quiet = (50, 0, 100.0), (0, 0, 0.0)
    series = chaos_run([quiet, quiet, healthy, healthy, quiet, healthy, healthy, healthy])
    found = recovery(series, "payments-down", FAULTS, CHECKOUT)
    assert (found.seconds, found.window) == (2, (20, 22))


def test_latency_alone_can_delay_recovery() -> None:
    series = chaos_run([(50, 0, 400.0)] * 6)  # band: p95 <= 150 ms
    found = recovery(series, "payments-down", FAULTS, CHECKOUT)
    assert found.seconds == 6
    assert found.band is not None and found.band.max_error_rate == pytest.approx(0.01)


def test_never_recovered() -> None:
    series = chaos_run([(40, 10, 100.0)] * 17 + [(50, 0, 100.0)] * 3)
    found = recovery(series, "payments-down", FAULTS, CHECKOUT)
    assert found.status is RecoveryStatus.NOT_RECOVERED
    assert (found.seconds, found.window) == (20, (20, 40))
    assert "not recovered within the run" in found.detail
    assert "3 of 5" in found.detail


def test_no_pre_fault_data_and_no_after_phase() -> None:
    series = chaos_run([])
    assert recovery(series, "early", {"early": (0, 5)}, CHECKOUT).status is RecoveryStatus.NO_DATA
    late = recovery(series, "late", {"late": (30, 45)}, CHECKOUT)
    assert late.status is RecoveryStatus.NO_DATA
    assert "ended before" in late.detail


def test_other_faults_do_not_widen_the_band() -> None:
    """Fault a at [5, 10) makes checkout slow (1 s); fault b at [20, 25) leaves it at 500 ms
    until 30. Without leaving a's seconds out, b's baseline p95 would be 1 s and 500 ms in band."""
    seconds: list[Second] = []
    for t in range(40):
        ms = 1000.0 if 5 <= t < 10 else 500.0 if 20 <= t < 30 else 100.0
        seconds.append({"checkout/pay": (50, 0, ms)})
    faults = {"a": (5, 10), "b": (20, 25)}
    found = recovery(build(seconds), "b", faults, CHECKOUT)
    assert found.seconds == 5
    assert found.band is not None and found.band.max_p95_us == pytest.approx(150_000, rel=1e-3)


def test_phase_summary_numbers() -> None:
    series = chaos_run([(40, 10, 100.0)] * 3, length=30)
    summary = phase_summary(series, FAULTS, ["browse", "checkout", "idle"])
    entry = summary["payments-down"]
    assert entry["window"] == [10, 20]
    assert [entry[p]["window"] for p in ("before", "during", "after")] == [
        [0, 10],
        [10, 20],
        [20, 30],
    ]
    before, during, after = (entry[p]["flows"]["checkout"] for p in ("before", "during", "after"))
    assert (before["requests"], before["errors"], before["availability"]) == (500, 0, 1.0)
    assert (during["requests"], during["errors"], during["error_rate"]) == (500, 250, 0.5)
    assert during["availability"] == 0.5
    assert (after["requests"], after["errors"]) == (500, 30)
    assert after["availability"] == pytest.approx(0.94)
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        assert during[key] == pytest.approx(100, rel=1e-3)
    assert entry["during"]["total"]["requests"] == 1500
    assert entry["during"]["total"]["error_rate"] == pytest.approx(250 / 1500)
    idle = entry["during"]["flows"]["idle"]
    assert (idle["requests"], idle["error_rate"], idle["availability"], idle["p95_ms"]) == (
        0,
        None,
        None,
        None,
    )
    recoveries = entry["recovery"]
    assert recoveries["flows"]["checkout"]["status"] == "recovered"
    assert recoveries["flows"]["checkout"]["seconds"] == 3
    assert recoveries["flows"]["browse"]["seconds"] == 0
    assert recoveries["flows"]["idle"]["status"] == "no_data"
    assert recoveries["total"]["seconds"] == 3
    assert recoveries["flows"]["checkout"]["band"]["max_p95_ms"] == pytest.approx(150, rel=1e-3)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3)), min_size=0, max_size=25),
    st.integers(-5, 30),
    st.integers(0, 30),
)
def test_phases_add_up_to_the_whole_run(rows: list[tuple[int, int]], at: int, length: int) -> None:
    series = build([{"a/x": (ok, err, 5.0), "b/y": (err, ok, 7.0)} for ok, err in rows])
    faults = {"f": (at, at + length)}
    entry = phase_summary(series, faults, ["a", "b"])["f"]
    whole = series.totals().counters()
    assert (
        sum(entry[p]["total"]["requests"] for p in ("before", "during", "after")) == whole.requests
    )
    assert (
        sum(entry[p]["total"]["errors"] for p in ("before", "during", "after")) == whole.error_count
    )
    for flow in ("a", "b"):
        parts = sum(entry[p]["flows"][flow]["requests"] for p in ("before", "during", "after"))
        assert parts == series.totals().counters(flow).requests
