"""The HDR layout and aggregate histogram agree with the hdrhistogram package itself."""

from __future__ import annotations

import random

import pytest
from hdrh.histogram import HdrHistogram

from contval.metrics.hdr import COUNTS_LEN, HIGHEST_US, Histogram, index_of, new_hdr


def test_layout_is_one_microsecond_to_one_hour_at_three_digits() -> None:
    hdr = new_hdr()
    assert (hdr.lowest_trackable_value, hdr.highest_trackable_value) == (1, HIGHEST_US)
    assert hdr.significant_figures == 3
    assert hdr.counts_len == COUNTS_LEN


def test_index_of_matches_hdrh() -> None:
    hdr = new_hdr()
    rng = random.Random(7)
    values = [0, 1, 2047, 2048, 2049, 4095, 4096, 999_999, HIGHEST_US]
    values += [rng.randrange(HIGHEST_US) for _ in range(2000)]
    values += [rng.randrange(100_000) for _ in range(2000)]
    for v in values:
        assert index_of(v) == hdr.get_counts_array_index(v), v


def test_percentiles_mean_min_max_match_hdrh() -> None:
    rng = random.Random(3)
    values = [int(rng.lognormvariate(9, 1.5)) + 1 for _ in range(5000)]
    ours = Histogram.of_values(values)
    ref = HdrHistogram(1, HIGHEST_US, 3)
    for v in values:
        ref.record_value(v)
    for pct in (0.0, 1.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0):
        assert ours.percentile(pct) == ref.get_value_at_percentile(pct), pct
    assert ours.max() == ref.get_max_value()
    assert ours.min() == ref.get_min_value()
    assert ours.mean() == pytest.approx(ref.get_mean_value(), rel=1e-12)
    assert ours.count == len(values)


def test_uniform_1_to_10000_us_has_p50_near_5000_within_hdr_precision() -> None:
    hist = Histogram.of_values(list(range(1, 10_001)))
    assert hist.percentile(50) == pytest.approx(5000, rel=1e-3)
    assert hist.percentile(90) == pytest.approx(9000, rel=1e-3)
    assert hist.percentile(99) == pytest.approx(9900, rel=1e-3)
    assert hist.max() == pytest.approx(10_000, rel=1e-3)
    assert hist.mean() == pytest.approx(5000.5, rel=1e-3)


def test_empty_histogram_has_no_data_not_zero() -> None:
    hist = Histogram()
    assert hist.count == 0
    assert hist.percentile(99) is None
    assert hist.max() is None
    assert hist.min() is None
    assert hist.mean() is None
    assert hist.encode() is None


def test_encode_decode_round_trip_and_hdrh_can_read_it() -> None:
    hist = Histogram.of_values([1, 10, 100, 1000, 10_000, 100_000, 3_000_000])
    blob = hist.encode()
    assert blob is not None
    assert Histogram.decode(blob) == hist
    assert HdrHistogram.decode(blob.encode()).get_total_count() == 7


def test_add_and_subtract_are_exact() -> None:
    a = Histogram.of_values([5, 50, 500])
    b = Histogram.of_values([5, 7000])
    total = a.copy()
    total.add(b)
    assert total == Histogram.of_values([5, 50, 500, 5, 7000])
    total.subtract_encoded(b.encode())
    assert total == a


def test_values_outside_the_range_are_clamped_not_dropped() -> None:
    hist = Histogram.of_values([-5, HIGHEST_US * 2])
    assert hist.count == 2
    assert hist.min() == 0
    assert hist.max() == pytest.approx(HIGHEST_US, rel=1e-3)
