"""Distribution-free shift estimates between a run's windows and its baseline runs' windows (pure).

The unit of comparison is a *window* (10-15 s), not a request: requests within a run are
autocorrelated, windows much less so. Two sources of noise are accounted for separately:

* window-to-window noise within a run: the Mann-Whitney confidence interval of the
  Hodges-Lehmann shift between the current windows and the pooled baseline windows (treats
  windows as exchangeable, which they are not across runs);
* run-to-run noise (a fresh deploy, a different host, a warmer cache): the spread of the
  leave-one-run-out shifts, i.e. how far an unchanged build's run moves from the other runs.

The interval reported is the wider of the two on each side. Everything here works on whatever
scale it is given; `contval.baseline.compare` takes logs of latency and throughput first so
that shifts are relative. See docs/baselines.md for the reasoning and the measured error rates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

FloatArray = npt.NDArray[np.float64]

# Beyond this many pairs the exact null distribution of U is replaced by the normal approximation
# (at m*n = 20 000 the two give the same order statistic to within one rank).
EXACT_LIMIT: Final = 20_000


def as_values(values: Iterable[float]) -> FloatArray:
    """Finite values as a float array: a window without data (None, NaN) carries no information."""
    arr = np.asarray([v for v in values if v is not None], dtype=np.float64)
    return arr[np.isfinite(arr)]


def pairwise_differences(x: FloatArray, y: FloatArray) -> FloatArray:
    """All m*n differences x_i - y_j, sorted: the Walsh-like set both HL and its interval read."""
    return np.sort(np.subtract.outer(x, y), axis=None)


def hodges_lehmann(x: FloatArray, y: FloatArray) -> float:
    """Hodges-Lehmann shift of x relative to y: the median of all pairwise differences.

    Robust to the odd outlying window (a GC pause, a noisy neighbour) where a difference of
    means is not, and the natural estimate that goes with the Mann-Whitney test.
    """
    if x.size == 0 or y.size == 0:
        raise ValueError("hodges_lehmann needs two non-empty samples")
    return float(np.median(np.subtract.outer(x, y)))


@cache
def _u_cdf(m: int, n: int) -> FloatArray:
    """Exact null CDF of the Mann-Whitney U for sample sizes m, n (no ties), P(U <= u).

    The counts are the coefficients of the Gaussian binomial [m+n choose m]_q, built as the
    product over i = 1..m of (1 - q^(n+i)) / (1 - q^i); division by (1 - q^i) is a running sum
    with stride i. O(m * m * n), fine for m * n <= EXACT_LIMIT.
    """
    size = m * n + 1
    counts = np.zeros(size, dtype=np.float64)
    counts[0] = 1.0
    for i in range(1, m + 1):
        for start in range(i):
            counts[start::i] = np.cumsum(counts[start::i])
        s = n + i
        if s < size:
            counts[s:] -= counts[: size - s].copy()
    cdf = np.cumsum(counts)
    return np.asarray(cdf / cdf[-1], dtype=np.float64)


def mw_rank(m: int, n: int, confidence: float, tie_term: float = 0.0) -> int:
    """The order statistic k such that [D_(k), D_(mn+1-k)] covers the shift with >= confidence.

    k is the largest integer with P(U <= k - 1) <= alpha / 2 under the null; 0 means the samples
    are too small for that confidence (the interval is unbounded). `tie_term` is sum(t^3 - t)
    over the groups of tied values within each sample: with ties the exact distribution does
    not hold, and the normal one with the tie-corrected variance is used (as R's wilcox.test).
    """
    half_alpha = (1.0 - confidence) / 2.0
    if m * n <= EXACT_LIMIT and tie_term == 0.0:
        cdf = _u_cdf(m, n)
        # number of u with P(U <= u) <= alpha/2 is the largest admissible k - 1, plus one
        return int(np.searchsorted(cdf, half_alpha * (1.0 + 1e-9), side="right"))
    z = float(sps.norm.ppf(1.0 - half_alpha))
    total = m + n
    variance = m * n / 12.0 * ((total + 1) - tie_term / (total * (total - 1)))
    sigma = math.sqrt(max(variance, 0.0))
    # the continuity-corrected test accepts U with |U - mn/2| - 1/2 <= z * sigma
    return max(0, math.ceil(m * n / 2.0 - 0.5 - z * sigma - 1e-9))


def tie_term(x: FloatArray, y: FloatArray) -> float:
    """sum(t^3 - t) over groups of equal values within x and within y.

    Only ties *within* a sample matter for the interval: at a candidate shift d that is not one
    of the pairwise differences, no x_i - d equals any y_j, so the ties the test sees are the
    samples' own (bucketed percentiles, error rates of 0)."""
    total = 0.0
    for sample in (x, y):
        _, counts = np.unique(sample, return_counts=True)
        total += float(np.sum(counts.astype(np.float64) ** 3 - counts))
    return total


def mw_interval(x: FloatArray, y: FloatArray, confidence: float) -> tuple[float, float]:
    """Distribution-free confidence interval of the shift of x relative to y (Mann-Whitney).

    The inversion of the two-sided Mann-Whitney test (Hollander & Wolfe): the shifts it would
    not reject are those between the k-th smallest and k-th largest pairwise differences. Tied
    data (bucketed percentiles, all-zero error rates) use the tie-corrected normal test, whose
    variance is smaller: the no-ties interval would be too wide for them, so tied runs would be
    `inconclusive` for no reason. Samples that are each constant give the one difference.
    """
    diffs = pairwise_differences(x, y)
    ties = tie_term(x, y)
    k = mw_rank(x.size, y.size, confidence, ties)
    if k == 0:
        return -math.inf, math.inf
    return float(diffs[k - 1]), float(diffs[diffs.size - k])


def leave_one_out_shifts(runs: Sequence[FloatArray]) -> FloatArray:
    """For each baseline run, its HL shift against the pooled windows of the other runs.

    These are what an unchanged build does: each is one draw of "a run versus its baseline",
    including both its run effect and its own window noise.
    """
    shifts = [
        hodges_lehmann(run, np.concatenate([r for j, r in enumerate(runs) if j != i]))
        for i, run in enumerate(runs)
    ]
    return np.asarray(shifts, dtype=np.float64)


def run_noise_sd(runs: Sequence[FloatArray]) -> float:
    """The standard deviation of one run's value around the truth, from leave-one-out shifts.

    For means, s_i = x_i - mean(x_-i) = R/(R-1) * (x_i - mean(x)), so sd(s) overstates the
    run-to-run sd by R/(R-1); undo that. Needs at least two runs.
    """
    r = len(runs)
    if r < 2:
        raise ValueError("run-to-run noise needs at least two baseline runs")
    return float(np.std(leave_one_out_shifts(runs), ddof=1)) * (r - 1) / r


def run_noise_halfwidth(runs: Sequence[FloatArray], confidence: float) -> float:
    """Half-width of a prediction interval for a new, unchanged run against all R runs.

    A new run deviates by sd * sqrt(1 + 1/R) (its own deviation plus the baseline's), and the
    sd is estimated from R runs, hence Student's t with R - 1 degrees of freedom: with three
    runs the interval is wide, which is honest.
    """
    r = len(runs)
    t = float(sps.t.ppf((1.0 + confidence) / 2.0, r - 1))
    return t * run_noise_sd(runs) * math.sqrt(1.0 + 1.0 / r)


@dataclass(frozen=True)
class ShiftInterval:
    """A shift estimate with its interval and the two noise components it was built from."""

    estimate: float  # HL shift of current vs pooled baseline windows
    low: float
    high: float
    window_low: float  # Mann-Whitney interval (window-to-window noise only)
    window_high: float
    run_halfwidth: float  # run-to-run prediction half-width (leave-one-run-out)


def shift_interval(
    current: FloatArray, runs: Sequence[FloatArray], confidence: float
) -> ShiftInterval:
    """HL shift of `current` against the pooled `runs`, widened for run-to-run noise.

    Each side of the interval is the wider of the Mann-Whitney side and the run-noise
    half-width. Not their sum: the leave-one-out spread already contains a run's window noise,
    so adding the two would count window noise twice.
    """
    if len(runs) < 2:
        raise ValueError("shift_interval needs at least two baseline runs")
    pooled = np.concatenate(list(runs))
    estimate = hodges_lehmann(current, pooled)
    w_low, w_high = mw_interval(current, pooled, confidence)
    h = run_noise_halfwidth(runs, confidence)
    low = estimate - max(estimate - w_low, h)
    high = estimate + max(w_high - estimate, h)
    return ShiftInterval(estimate, low, high, w_low, w_high, h)
