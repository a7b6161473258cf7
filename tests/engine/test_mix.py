"""The flow mix: deterministic, exact over every period, even inside it."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contval.engine.schedules import Mix
from contval.engine.schedules.mix import MAX_PERIOD


def picks(mix: Mix, start: int, n: int) -> Counter[str]:
    return Counter(mix.pick(k) for k in range(start, start + n))


def test_70_25_5_is_exact_over_every_window_of_100() -> None:
    mix = Mix({"browse": 70, "checkout": 25, "order-fulfilment": 5})
    assert mix.period == 20
    assert mix.weights() == {"browse": 14, "checkout": 5, "order-fulfilment": 1}
    for start in range(0, 250, 7):
        assert picks(mix, start, 100) == {"browse": 70, "checkout": 25, "order-fulfilment": 5}
    assert mix.counts(3000) == {"browse": 2100, "checkout": 750, "order-fulfilment": 150}


def test_deterministic_and_spread_out() -> None:
    first = Mix({"a": 3, "b": 1})
    again = Mix({"a": 3, "b": 1})
    assert [first.pick(k) for k in range(1000)] == [again.pick(k) for k in range(1000)]
    b_at = [k for k in range(40) if first.pick(k) == "b"]
    assert [later - earlier for earlier, later in pairwise(b_at)] == [4] * 9  # evenly apart
    assert first.shares() == {"a": 0.75, "b": 0.25}


def test_single_flow_and_bad_weights() -> None:
    assert {Mix({"only": 0.5}).pick(k) for k in range(10)} == {"only"}
    with pytest.raises(ValueError, match="at least one flow"):
        Mix({})
    with pytest.raises(ValueError, match="positive"):
        Mix({"a": 1, "b": 0})


def test_decimal_weights_keep_their_exact_ratio() -> None:
    mix = Mix({"a": 33.3, "b": 66.7})
    assert mix.weights() == {"a": 333, "b": 667}
    assert picks(mix, 12_345, 1000) == {"a": 333, "b": 667}


def test_weights_too_fine_for_an_exact_period_are_apportioned() -> None:
    mix = Mix({"a": 1 / 3, "b": 2 / 3, "c": 1e-9})
    weights = mix.weights()
    assert sum(weights.values()) == mix.period == MAX_PERIOD
    assert weights["c"] == 1
    assert abs(weights["a"] - MAX_PERIOD / 3) <= 1


def test_apportioning_many_tiny_weights_keeps_every_flow() -> None:
    weights = {f"tiny{i}": 1e-12 * (i + 1) for i in range(50)} | {"big": 1 / 3}
    mix = Mix(weights)
    assert mix.period == MAX_PERIOD
    assert min(mix.weights().values()) == 1
    assert mix.weights()["big"] == MAX_PERIOD - 50


def test_counts_match_picks() -> None:
    mix = Mix({"x": 5, "y": 3, "z": 2})
    for start, n in [(0, 0), (0, 7), (3, 10), (11, 123)]:
        assert mix.counts(n, start) == {f: picks(mix, start, n)[f] for f in mix.flows}


integer_weights = st.dictionaries(
    st.sampled_from("abcdefg"), st.integers(1, 50), min_size=1, max_size=7
)
float_weights = st.dictionaries(
    st.sampled_from("abcdefg"),
    st.floats(0.01, 100).map(lambda w: round(w, 2)).filter(lambda w: w > 0),
    min_size=1,
    max_size=7,
)


@settings(max_examples=100, deadline=None)
@given(weights=integer_weights, start=st.integers(0, 10_000))
def test_exact_over_any_window_of_the_weight_sum(weights: dict[str, int], start: int) -> None:
    mix = Mix(weights)
    assert picks(mix, start, sum(weights.values())) == {f: w for f, w in weights.items()}


@settings(max_examples=100, deadline=None)
@given(weights=float_weights | integer_weights, start=st.integers(0, 1000))
def test_close_to_proportions_everywhere(weights: dict[str, float], start: int) -> None:
    """Within 1 pick of the ideal count from the start of the run, within 2 over any window.

    Strictly within 1 over *every* window is impossible for most mixes (it would make the
    sequence a balanced word, which e.g. 14:5:1 has none of), so 2 is the honest bound here.
    """
    mix = Mix(weights)
    total = sum(Fraction(repr(w)) for w in weights.values())
    share = {f: Fraction(repr(w)) / total for f, w in weights.items()}
    window = min(mix.period, 400)
    prefix: Counter[str] = Counter()
    for n in range(1, window + 1):
        prefix[mix.pick(n - 1)] += 1
        assert all(abs(prefix[f] - n * share[f]) <= 1 for f in weights)
    seen: Counter[str] = Counter()
    for n in range(1, window + 1):
        seen[mix.pick(start + n - 1)] += 1
        assert all(abs(seen[f] - n * share[f]) < 2 for f in weights)
