"""The shift statistics against references: brute force, scipy's Mann-Whitney, known shifts."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from contval.baseline.stats import (
    EXACT_LIMIT,
    _u_cdf,
    as_values,
    hodges_lehmann,
    leave_one_out_shifts,
    mw_interval,
    mw_rank,
    run_noise_halfwidth,
    run_noise_sd,
    shift_interval,
    tie_term,
)

samples = st.lists(
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False),
    min_size=3,
    max_size=12,
).map(lambda v: np.asarray(v, dtype=np.float64))


def brute_hl(x: list[float], y: list[float]) -> float:
    diffs = sorted(a - b for a, b in itertools.product(x, y))
    k = len(diffs)
    return diffs[k // 2] if k % 2 else (diffs[k // 2 - 1] + diffs[k // 2]) / 2


def test_hl_matches_brute_force():
    rng = np.random.default_rng(1)
    for _ in range(50):
        x = rng.normal(0, 1, int(rng.integers(1, 9)))
        y = rng.normal(0, 1, int(rng.integers(1, 9)))
        assert hodges_lehmann(x, y) == pytest.approx(brute_hl(list(x), list(y)))


def test_hl_needs_data():
    with pytest.raises(ValueError):
        hodges_lehmann(np.array([]), np.array([1.0]))


def test_as_values_drops_missing_windows():
    assert as_values([1.0, float("nan"), None, math.inf, 2.0]).tolist() == [1.0, 2.0]  # type: ignore[list-item]


@pytest.mark.parametrize(("m", "n"), [(1, 1), (2, 3), (4, 4), (6, 9), (3, 20)])
def test_exact_u_distribution_matches_enumeration(m, n):
    # U = number of (x_i > y_j) pairs over all placements of m x's among m + n ranks.
    counts = np.zeros(m * n + 1)
    for xs in itertools.combinations(range(m + n), m):
        counts[sum(r - i for i, r in enumerate(xs))] += 1
    assert np.allclose(_u_cdf(m, n), np.cumsum(counts) / counts.sum())


def test_mw_interval_is_the_inversion_of_scipys_exact_test():
    """Just inside either end scipy's exact test does not reject; just outside it does."""
    rng = np.random.default_rng(2)
    for _ in range(150):
        m, n = int(rng.integers(3, 9)), int(rng.integers(3, 25))
        confidence = float(rng.choice([0.8, 0.9, 0.95, 0.98]))
        x, y = rng.normal(0.3, 1, m), rng.normal(0, 1, n)
        low, high = mw_interval(x, y, confidence)
        if not math.isfinite(low):
            continue
        alpha, eps = 1 - confidence, 1e-9

        def p(delta: float, x=x, y=y) -> float:
            return float(sps.mannwhitneyu(x - delta, y, method="exact").pvalue)

        assert p(low + eps) > alpha and p(high - eps) > alpha
        assert p(low - eps) <= alpha + 1e-12 and p(high + eps) <= alpha + 1e-12


def test_interval_unbounded_when_samples_too_small_for_the_confidence():
    assert mw_rank(2, 2, 0.98) == 0
    assert mw_interval(np.array([1.0, 2.0]), np.array([1.0, 3.0]), 0.98) == (-math.inf, math.inf)


def test_normal_approximation_agrees_with_exact_at_the_switch():
    m, n = 20, EXACT_LIMIT // 20
    sigma = math.sqrt(m * n * (m + n + 1) / 12)
    normal = math.floor(m * n / 2 + 0.5 - float(sps.norm.ppf(0.99)) * sigma)
    assert mw_rank(m, n, 0.98) > 0
    assert 0 <= mw_rank(m, n, 0.98) - normal <= 0.02 * sigma  # normal: a hair wider
    sigma1 = math.sqrt(m * (n + 1) * (m + n + 2) / 12)
    normal1 = math.floor(m * (n + 1) / 2 + 0.5 - float(sps.norm.ppf(0.99)) * sigma1)
    assert mw_rank(m, n + 1, 0.98) == normal1  # past the switch: the normal branch


@pytest.mark.parametrize("shift", [-2.0, 0.0, 0.5, 3.0])
def test_known_shift_recovered(shift):
    rng = np.random.default_rng(3)
    y = rng.standard_t(3, 400)
    x = rng.standard_t(3, 300) + shift
    assert hodges_lehmann(x, y) == pytest.approx(shift, abs=0.15)
    low, high = mw_interval(x, y, 0.98)
    assert low < shift < high


@pytest.mark.parametrize("confidence", [0.9, 0.98])
def test_mw_coverage_is_nominal_on_iid_data(confidence):
    rng = np.random.default_rng(4)
    trials = 1000
    hits = 0
    for _ in range(trials):
        x, y = rng.lognormal(0.2, 0.5, 6), rng.lognormal(0.0, 0.5, 30)
        low, high = mw_interval(np.log(x), np.log(y), confidence)
        hits += low <= 0.2 <= high
    # exact test: coverage >= nominal, and not far above it
    assert confidence - 0.025 <= hits / trials <= confidence + 0.035


def test_full_interval_covers_under_run_effects_where_windows_alone_do_not():
    """With a random run effect, the window-only interval under-covers; the widened one does not."""
    rng = np.random.default_rng(5)
    trials, full, windows_only = 400, 0, 0
    for _ in range(trials):
        runs = [rng.normal(0, 0.04) + rng.normal(0, 0.04, 6) for _ in range(10)]
        current = rng.normal(0, 0.04) + rng.normal(0, 0.04, 6)
        si = shift_interval(current, runs, 0.90)
        full += si.low <= 0 <= si.high
        windows_only += si.window_low <= 0 <= si.window_high
    assert full / trials >= 0.85  # 0.87 here; 0.89 over 2000 trials
    assert windows_only / trials < 0.75


def test_run_noise_sd_is_the_run_sd_for_means():
    """Three one-window runs: HL against the other two is x_i - their mean, as for means."""
    runs = [np.array([v]) for v in (1.0, 2.0, 6.0)]
    assert leave_one_out_shifts(runs).tolist() == pytest.approx([-3.0, -1.5, 4.5])
    assert run_noise_sd(runs) == pytest.approx(float(np.std([1.0, 2.0, 6.0], ddof=1)))


def test_run_noise_needs_two_runs_and_widens_with_fewer():
    rng = np.random.default_rng(6)
    with pytest.raises(ValueError):
        run_noise_sd([np.array([1.0])])
    with pytest.raises(ValueError):
        shift_interval(np.array([1.0]), [np.array([1.0])], 0.98)
    runs = [rng.normal(0, 0.04) + rng.normal(0, 0.04, 6) for _ in range(10)]
    assert run_noise_halfwidth(runs[:3], 0.98) > run_noise_halfwidth(runs, 0.98)


@settings(max_examples=60, deadline=None)
@given(samples)
def test_shift_of_a_sample_against_itself_is_zero(x):
    assert hodges_lehmann(x, x) == 0
    low, high = mw_interval(x, x, 0.98)
    assert low <= 0 <= high


@settings(max_examples=60, deadline=None)
@given(samples, samples, st.floats(min_value=-50, max_value=50))
def test_adding_a_constant_moves_estimate_and_interval_by_it(x, y, c):
    assume(np.unique(x + c).size == np.unique(x).size)  # rounding may make two values tie
    base, moved = hodges_lehmann(x, y), hodges_lehmann(x + c, y)
    assert moved == pytest.approx(base + c, abs=1e-6)
    (lo, hi), (lo2, hi2) = mw_interval(x, y, 0.9), mw_interval(x + c, y, 0.9)
    if math.isfinite(lo):
        assert (lo2, hi2) == pytest.approx((lo + c, hi + c), abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(samples, samples, st.randoms(use_true_random=False))
def test_order_does_not_matter_and_swapping_negates(x, y, rnd):
    px, py = x.copy(), y.copy()
    rnd.shuffle(px)
    rnd.shuffle(py)
    assert hodges_lehmann(px, py) == hodges_lehmann(x, y)
    assert mw_interval(px, py, 0.9) == mw_interval(x, y, 0.9)
    assert hodges_lehmann(y, x) == pytest.approx(-hodges_lehmann(x, y))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(min_value=1.0, max_value=1e4), min_size=3, max_size=8),
    st.floats(min_value=0.5, max_value=2.0),
)
def test_scaling_latency_shifts_the_log_estimate_by_its_log(windows, factor):
    rng = np.random.default_rng(7)
    runs = [np.log(np.asarray(windows)) + rng.normal(0, 0.05) for _ in range(4)]
    current = np.log(np.asarray(windows))
    a = shift_interval(current, runs, 0.98)
    b = shift_interval(current + math.log(factor), runs, 0.98)
    assert b.estimate == pytest.approx(a.estimate + math.log(factor), abs=1e-9)
    assert b.low == pytest.approx(a.low + math.log(factor), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 6), min_size=3, max_size=25),
    st.lists(st.integers(0, 6), min_size=3, max_size=25),
    st.sampled_from([0.80, 0.90, 0.98]),
)
def test_tied_interval_is_the_inversion_of_the_tie_corrected_test(
    xs: list[int], ys: list[int], confidence: float
) -> None:
    """Bucketed data tie heavily: the interval is exactly the set of shifts the tie-corrected
    Mann-Whitney test (scipy's, continuity-corrected) does not reject, probed between the
    integer-valued pairwise differences."""
    x, y = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    assume(tie_term(x, y) > 0)  # without ties the exact distribution is used (tested above)
    if np.unique(x).size == 1 and np.unique(y).size == 1:
        return  # no variance at all: covered by the next test
    low, high = mw_interval(x, y, confidence)
    alpha = 1 - confidence

    def rejected(shift: float) -> bool:
        p = sps.mannwhitneyu(x - shift, y, method="asymptotic", use_continuity=True).pvalue
        return bool(p < alpha)

    for shift in np.arange(-7.5, 8.0, 1.0):  # never a pairwise difference: no cross ties
        inside = low <= shift <= high
        assert inside != rejected(shift), (shift, low, high)
    assert low <= hodges_lehmann(x, y) <= high


def test_tied_samples_are_judged_on_their_ties() -> None:
    zeros = np.zeros(12)
    assert mw_interval(zeros, np.zeros(30), 0.98) == (0.0, 0.0)  # all-zero error rates
    # two buckets, same mix: the no-ties interval would be [-1, 1]; ties resolve it to 0
    x = np.asarray([10.0] * 6 + [12.0] * 6)
    y = np.asarray([10.0] * 15 + [12.0] * 15)
    assert mw_interval(x, y, 0.98) == (0.0, 0.0)
    assert mw_rank(12, 30, 0.98) < mw_rank(12, 30, 0.98, tie_term(x, y))


def test_a_route_under_the_latency_floor_is_judged_in_milliseconds() -> None:
    """A 0.25 ms route on a busy machine: each run has its own stalls of a few tenths of a
    millisecond. On a log scale 44 of these 100 seeded unchanged histories came out
    `inconclusive` at a 2 ms floor; judged in milliseconds, 99 pass, and +5 ms is always
    flagged."""
    from contval.baseline.compare import compare

    def run(rng: np.random.Generator, extra_ms: float = 0.0) -> list[float]:
        stall = rng.exponential(0.4)
        return list(0.25 + extra_ms + stall * rng.exponential(1.0, 5))

    outcomes: Counter[str] = Counter()
    flagged = 0
    for seed in range(100):
        rng = np.random.default_rng(seed)
        base = [run(rng) for _ in range(4)]
        outcomes[compare("p95", run(rng), base, floor=2.0).outcome] += 1
        flagged += compare("p95", run(rng, 5.0), base, floor=2.0).outcome == "regression"
    assert outcomes["pass"] >= 95 and outcomes["regression"] == 0, outcomes
    assert flagged >= 98
