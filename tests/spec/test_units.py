"""Units: table tests for the grammar, hypothesis properties for round trips and rejection."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contval.spec.units import (
    UnitError,
    format_duration,
    parse_duration,
    parse_duration_range,
    parse_percent,
    parse_rate,
    parse_size,
)

_SCALE = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("250ms", 0.25), ("2s", 2.0), ("1m", 60.0), ("1m30s", 90.0), ("1h1s", 3601.0), ("1.5s", 1.5)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10", "has no unit"),
        ("-1s", "is negative"),
        ("1s1m", "larger to smaller"),
        ("1 minute", "invalid duration"),
        ("", "empty duration"),
    ],
)
def test_bad_durations(text: str, message: str) -> None:
    with pytest.raises(UnitError, match=message):
        parse_duration(text)


def test_rates_percents_sizes() -> None:
    assert parse_rate("600/m") == 10.0
    assert parse_rate("0/s") == 0.0
    assert parse_percent("99.5%") == pytest.approx(0.995)
    assert parse_size("1GiB") == 1024**3
    with pytest.raises(UnitError, match="negative"):
        parse_rate("-5/s")
    with pytest.raises(UnitError, match="invalid rate"):
        parse_rate("50")


def test_duration_ranges() -> None:
    assert parse_duration_range("500ms..2s") == (0.5, 2.0)
    assert parse_duration_range("1s") == (1.0, 1.0)
    with pytest.raises(UnitError, match="above"):
        parse_duration_range("2s..1s")


@given(st.integers(min_value=0, max_value=10**9))
def test_format_duration_round_trips_milliseconds(ms: int) -> None:
    seconds = ms / 1000
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, abs=1e-6)


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False))
def test_format_duration_always_parses(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds, rel=1e-6, abs=1e-6)


@given(st.lists(st.integers(min_value=0, max_value=999), min_size=1, max_size=5))
def test_compound_durations_add_up(amounts: list[int]) -> None:
    names = ["h", "m", "s", "ms", "us"][: len(amounts)]
    text = "".join(f"{n}{u}" for n, u in zip(amounts, names, strict=True))
    expected = sum(n * _SCALE[u] for n, u in zip(amounts, names, strict=True))
    assert math.isclose(parse_duration(text), expected, rel_tol=1e-9, abs_tol=1e-12)


@given(
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from(["s", "m", "h"]),
    st.sampled_from(["", " "]),
)
def test_rates_scale_per_second(count: int, unit: str, space: str) -> None:
    assert parse_rate(f"{count}{space}/{space}{unit}") == pytest.approx(count / _SCALE[unit])


@given(st.floats(min_value=0, max_value=1000, allow_nan=False).map(lambda x: round(x, 3)))
def test_percent_is_a_fraction(value: float) -> None:
    assert parse_percent(f"{value}%") == pytest.approx(value / 100)


@given(st.text(alphabet="abcxyz!@#,;", min_size=1, max_size=10))
def test_garbage_is_always_a_unit_error(text: str) -> None:
    for parse in (parse_duration, parse_rate, parse_percent, parse_size):
        with pytest.raises(UnitError):
            parse(text)


@given(st.text(max_size=12))
def test_parsers_raise_only_unit_errors(text: str) -> None:
    for parse in (parse_duration, parse_rate, parse_percent, parse_size, parse_duration_range):
        with contextlib.suppress(UnitError):
            parse(text)


@given(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**6),
)
def test_ranges_are_ordered_or_refused(low_ms: int, high_ms: int) -> None:
    text = f"{low_ms}ms..{high_ms}ms"
    if low_ms <= high_ms:
        assert parse_duration_range(text) == pytest.approx((low_ms / 1000, high_ms / 1000))
    else:
        with pytest.raises(UnitError):
            parse_duration_range(text)
