"""Decoding a histogram blob once (issue 16 §2): `hdr.decoded` reads the wire format straight
into counts, equal to what hdrh's own decoder reads, and refuses what is not one of ours."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram
from hypothesis import given, settings
from hypothesis import strategies as st

from contval.metrics.hdr import HIGHEST_US, Histogram, counts_view, decoded

values = st.lists(st.integers(min_value=0, max_value=HIGHEST_US), min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(values)
def test_decoded_equals_hdrh_decoding(us: list[int]) -> None:
    blob = Histogram.of_values(us).encode()
    assert blob is not None
    reference = counts_view(HdrHistogram.decode(blob.encode("ascii")))
    first, counts = decoded(blob)
    dense = np.zeros_like(reference)
    dense[first : first + counts.size] = counts
    assert np.array_equal(dense, reference)
    assert int(counts.sum()) == len(us) and counts[0] > 0 and counts[-1] > 0
    assert Histogram.decode(blob) == Histogram.of_values(us)


@settings(max_examples=60, deadline=None)
@given(values, values)
def test_add_and_subtract_encoded_are_exact(a: list[int], b: list[int]) -> None:
    blob_a, blob_b = Histogram.of_values(a).encode(), Histogram.of_values(b).encode()
    total = Histogram()
    total.add_encoded(blob_a)
    total.add_encoded(blob_b)
    assert total == Histogram.of_values(a + b)
    total.subtract_encoded(blob_b)
    assert total == Histogram.of_values(a)


def test_decoded_counts_are_read_only() -> None:
    _, counts = decoded(Histogram.of_values([1000, 2000]).encode() or "")
    with pytest.raises(ValueError):
        counts[0] = 5


@given(st.binary(max_size=64))
def test_anything_else_is_a_value_error(junk: bytes) -> None:
    with pytest.raises(ValueError):
        decoded(base64.b64encode(junk).decode("ascii"))


def test_another_layout_is_refused() -> None:
    other = HdrHistogram(1, 60_000_000, 2)
    other.record_value(1234)
    with pytest.raises(ValueError, match="another layout"):
        decoded(other.encode().decode("ascii"))
