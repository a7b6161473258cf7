"""The issue's targets, by seeded simulation of realistic per-window values.

Model: a run's window p95 is lognormal: log(p95) = log(base) + run effect + window noise, with
the run effect ~ N(0, run_sd) (a fresh deploy, another host) and window noise ~ N(0, window_sd).
Ten baseline runs of six 10 s windows each, as the rolling baseline would hold.

`python tests/baseline/test_stats_sim.py` prints the table quoted in docs/baselines.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest

from contval.baseline.compare import (
    DEFAULT_CONFIDENCE,
    Comparison,
    classify,
    compare,
    summarize,
)
from contval.baseline.stats import shift_interval

Gen = Callable[[np.random.Generator, float], list[float]]


def lognormal_run(window_sd: float, run_sd: float, windows: int = 6, base: float = 200.0) -> Gen:
    def gen(rng: np.random.Generator, shift: float) -> list[float]:
        logs = math.log(base) + rng.normal(0, run_sd) + rng.normal(0, window_sd, windows)
        return list(np.exp(logs) * (1 + shift))

    return gen


def error_rate_run(rate: float, requests: int = 1000, windows: int = 6) -> Gen:
    """Errors per window ~ binomial around a run's own rate (which varies run to run by ~20 %)."""

    def gen(rng: np.random.Generator, shift: float) -> list[float]:
        p = min(1.0, rate * math.exp(rng.normal(0, 0.2)) + shift)
        return list(rng.binomial(requests, p, windows) / requests)

    return gen


def simulate(
    metric: str,
    gen: Gen,
    shift: float,
    *,
    trials: int = 200,
    seed: int = 0,
    runs: int = 10,
    tolerance: float | None = None,
    floor: float | None = None,
) -> Counter[str]:
    rng = np.random.default_rng(seed)
    outcomes: Counter[str] = Counter()
    for _ in range(trials):
        baseline = [gen(rng, 0.0) for _ in range(runs)]
        current = gen(rng, shift)
        c = compare(metric, current, baseline, tolerance=tolerance, floor=floor)
        outcomes[c.outcome] += 1
    return outcomes


NOISE = [(0.04, 0.03), (0.03, 0.03)]  # (window sd, run sd), log scale ~ relative


@pytest.mark.parametrize(("window_sd", "run_sd"), NOISE)
def test_unchanged_build_rarely_flagged_and_mostly_passes(window_sd, run_sd):
    out = simulate("p95", lognormal_run(window_sd, run_sd), 0.0, seed=11)
    assert out["regression"] <= 0.05 * 200
    assert out["pass"] >= 0.90 * 200


@pytest.mark.parametrize(("window_sd", "run_sd"), NOISE)
def test_twenty_percent_slower_is_flagged(window_sd, run_sd):
    out = simulate("p95", lognormal_run(window_sd, run_sd), 0.20, seed=12)
    assert out["regression"] >= 0.95 * 200


@pytest.mark.parametrize(("window_sd", "run_sd"), NOISE)
def test_three_percent_is_not_flagged_at_ten_percent(window_sd, run_sd):
    out = simulate("p95", lognormal_run(window_sd, run_sd), 0.03, seed=13)
    assert out["regression"] <= 0.05 * 200


def test_a_latency_floor_lets_a_noisy_sub_millisecond_route_pass():
    # 0.8 ms route, 30 % run-to-run noise: at ±10 % it can never be resolved.
    noisy_fast = lognormal_run(0.15, 0.30, base=0.8)
    assert simulate("p95", noisy_fast, 0.0, seed=21)["pass"] == 0
    floored = simulate("p95", noisy_fast, 0.0, seed=21, floor=1.0)
    assert floored["pass"] >= 0.90 * 200 and floored["regression"] == 0
    # +0.4 ms (+50 %) on that route is under the floor: flagged only by the route's own noise.
    assert simulate("p95", noisy_fast, 0.5, seed=22, floor=1.0)["regression"] <= 0.05 * 200
    # Four times slower (+2.4 ms) is well beyond it: flagged despite 30 % run-to-run noise.
    assert simulate("p95", noisy_fast, 3.0, seed=23, floor=1.0)["regression"] >= 0.85 * 200


def test_a_latency_floor_leaves_slower_routes_and_other_metrics_alone():
    base = [[200.0 * (1 + 0.01 * i) for i in range(6)] for _ in range(5)]
    slower = [240.0 + i for i in range(6)]
    plain = compare("p95", slower, base)
    floored = compare("p95", slower, base, floor=1.0)  # 1 ms of 200 ms is 0.5 %: no effect
    assert floored == plain and plain.outcome == "regression" and plain.tolerance == 0.10
    fast = [[0.5] * 6] * 5
    c = compare("p50", [0.6] * 6, fast, floor=1.0)
    assert c.tolerance == pytest.approx(2.0) and c.outcome == "pass"  # 1 ms / 0.5 ms
    rates = [[0.01] * 6] * 5
    assert compare("error_rate", [0.02] * 6, rates, floor=1.0).tolerance == 0.005


def test_twenty_percent_faster_is_an_improvement():
    out = simulate("p95", lognormal_run(0.04, 0.03), -0.20, seed=14)
    assert out["improvement"] >= 0.95 * 200
    assert out["regression"] == 0


def test_throughput_down_is_a_regression_and_up_an_improvement():
    gen = lognormal_run(0.04, 0.03, base=500.0)
    down = simulate("rps", gen, -0.20, seed=15, trials=100)
    up = simulate("rps", gen, +0.20, seed=16, trials=100)
    same = simulate("rps", gen, 0.0, seed=17, trials=100)
    assert down["regression"] >= 95 and down["improvement"] == 0
    assert up["improvement"] >= 95 and up["regression"] == 0
    assert same["regression"] <= 5


def test_error_rate_in_percentage_points():
    gen = error_rate_run(0.002)
    worse = simulate("error_rate", gen, 0.02, seed=18, trials=100)
    same = simulate("error_rate", gen, 0.0, seed=19, trials=100)
    small = simulate("error_rate", gen, 0.002, seed=20, trials=100)  # +0.2 pp < 0.5 pp
    assert worse["regression"] >= 95
    assert same["regression"] <= 5 and same["pass"] >= 90
    assert small["regression"] <= 5


def test_error_rate_improvement():
    rng = np.random.default_rng(21)
    baseline = [error_rate_run(0.03)(rng, 0.0) for _ in range(10)]
    c = compare("error_rate", error_rate_run(0.003)(rng, 0.0), baseline)
    assert c.outcome == "improvement"
    assert c.shift is not None and c.shift == pytest.approx(-0.027, abs=0.004)
    assert c.tolerance == 0.005


def test_all_zero_error_rates_pass():
    c = compare("error_rate", [0.0] * 6, [[0.0] * 6] * 5)
    assert (c.outcome, c.shift, c.low, c.high) == ("pass", 0.0, 0.0, 0.0)


def test_two_runs_is_no_baseline_never_pass():
    rng = np.random.default_rng(22)
    gen = lognormal_run(0.04, 0.03)
    c = compare("p95", gen(rng, 0.0), [gen(rng, 0.0), gen(rng, 0.0)], baseline_runs=("a", "b"))
    assert c.outcome == "no_baseline"
    assert c.shift is None and c.low is None and c.high is None
    assert c.baseline_runs == ("a", "b")
    assert c.current is not None and c.baseline is not None
    assert "2 baseline runs" in c.detail


def test_too_few_windows_or_empty_runs_is_no_baseline():
    rng = np.random.default_rng(23)
    gen = lognormal_run(0.04, 0.03)
    baseline = [gen(rng, 0.0) for _ in range(5)]
    assert compare("p95", [200.0, 210.0], baseline).outcome == "no_baseline"
    empty: list[list[float]] = [[math.nan] * 6] * 3
    assert compare("p95", gen(rng, 0.0), [*baseline[:2], *empty]).outcome == "no_baseline"


def test_a_clear_regression_reports_its_numbers():
    rng = np.random.default_rng(24)
    gen = lognormal_run(0.03, 0.02)
    c = compare("p95", gen(rng, 0.5), [gen(rng, 0.0) for _ in range(10)], baseline_runs=("r1",))
    assert c.outcome == "regression"
    assert c.low is not None and c.high is not None and c.shift is not None
    assert 0 < c.low < c.shift < c.high
    assert c.shift == pytest.approx(0.5, abs=0.1)
    assert c.current is not None and c.baseline is not None
    assert c.current / c.baseline == pytest.approx(1.5, abs=0.1)
    assert "worse" in c.detail and c.tolerance == 0.10


def test_tolerance_sign_follows_the_metric_and_unknown_metric_rejected():
    rng = np.random.default_rng(25)
    gen = lognormal_run(0.04, 0.03)
    base = [gen(rng, 0.0) for _ in range(5)]
    assert compare("rps", gen(rng, 0.0), base, tolerance=0.2).tolerance == -0.2
    assert compare("p99", gen(rng, 0.0), base, tolerance=-0.2).tolerance == 0.2
    with pytest.raises(ValueError):
        compare("p90", gen(rng, 0.0), base)


def test_noisy_or_thin_baseline_is_inconclusive_not_pass():
    rng = np.random.default_rng(26)
    noisy = lognormal_run(0.04, 0.15)
    assert compare("p95", noisy(rng, 0.0), [noisy(rng, 0.0) for _ in range(3)]).outcome == (
        "inconclusive"
    )


@pytest.mark.parametrize(
    ("shift", "low", "high", "expected"),
    [
        (0.25, 0.05, 0.45, "regression"),  # beyond tolerance, interval excludes 0
        (0.25, -0.02, 0.50, "inconclusive"),  # beyond tolerance, but could be noise
        (0.04, 0.01, 0.07, "pass"),  # a real but small change
        (0.02, -0.09, 0.13, "pass"),  # within tolerance, resolvable
        (0.02, -0.30, 0.35, "inconclusive"),  # within tolerance, but noise ±3 tolerances
        (-0.25, -0.45, -0.05, "improvement"),
    ],
)
def test_classify_latency(shift, low, high, expected):
    assert classify("p95", shift, low, high, 0.10) == expected


def test_classify_throughput_is_mirrored():
    assert classify("rps", -0.25, -0.45, -0.05, -0.10) == "regression"
    assert classify("rps", 0.25, 0.05, 0.45, -0.10) == "improvement"


def _c(outcome: str) -> Comparison:
    return Comparison("p95", 1.0, 1.0, 0.0, 0.0, 0.0, 0.1, outcome, (), "")  # type: ignore[arg-type]


def test_summarize():
    assert summarize([]) == "no_baseline"
    assert summarize([_c("pass"), _c("improvement")]) == "pass"
    assert summarize([_c("pass"), _c("inconclusive")]) == "inconclusive"
    assert summarize([_c("inconclusive"), _c("no_baseline")]) == "no_baseline"
    assert summarize([_c("no_baseline"), _c("regression"), _c("pass")]) == "regression"


# ---- the table in docs/baselines.md ----------------------------------------------------------


def _rates(window_sd: float, run_sd: float, shift: float, trials: int, seed: int) -> str:
    out = simulate("p95", lognormal_run(window_sd, run_sd), shift, trials=trials, seed=seed)
    return f"{100 * out['regression'] / trials:5.1f} %"


def _window_only_false_alarms(window_sd: float, run_sd: float, tol: float, trials: int) -> float:
    """The same rule on the Mann-Whitney interval alone: what ignoring run noise would cost."""
    rng = np.random.default_rng(99)
    gen = lognormal_run(window_sd, run_sd)
    flagged = 0
    for _ in range(trials):
        runs = [np.log(gen(rng, 0.0)) for _ in range(10)]
        si = shift_interval(np.log(gen(rng, 0.0)), runs, DEFAULT_CONFIDENCE)
        d, lo, hi = (math.expm1(v) for v in (si.estimate, si.window_low, si.window_high))
        flagged += classify("p95", d, lo, hi, tol) == "regression"
    return 100 * flagged / trials


def main() -> None:  # pragma: no cover - prints the docs table
    trials = 1000
    print("| window sd | run sd | unchanged | +3 % | +20 % | pass (unchanged) |")
    for w, r in [
        (0.03, 0.03),
        (0.04, 0.03),
        (0.05, 0.03),
        (0.03, 0.04),
        (0.04, 0.04),
        (0.05, 0.05),
    ]:
        passes = simulate("p95", lognormal_run(w, r), 0.0, trials=trials, seed=1)["pass"]
        cells = [_rates(w, r, s, trials, seed) for s, seed in ((0.0, 1), (0.03, 2), (0.20, 3))]
        print(f"| {w:.0%} | {r:.0%} | {' | '.join(cells)} | {100 * passes / trials:.1f} % |")
    for tol in (0.10, 0.05):
        widened = simulate(
            "p95", lognormal_run(0.04, 0.04), 0.0, trials=trials, seed=99, tolerance=tol
        )
        print(
            f"tolerance {tol:.0%}, noise 4 %/4 %: false alarms window-only "
            f"{_window_only_false_alarms(0.04, 0.04, tol, trials):.1f} %, "
            f"widened {100 * widened['regression'] / trials:.1f} %"
        )


if __name__ == "__main__":  # pragma: no cover
    main()
