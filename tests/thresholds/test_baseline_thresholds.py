"""Thresholds that name the baseline: grammar, round trips and judging with synthetic figures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contval.metrics import Series
from contval.thresholds import (
    Aggregate,
    BaselineFigure,
    BaselineFigures,
    BaselineRef,
    Kind,
    Metric,
    Op,
    Phase,
    PhaseKind,
    Scope,
    Threshold,
    ThresholdResult,
    ThresholdSyntaxError,
    Verdict,
    baseline_key,
    check_abort,
    evaluate,
    evaluate_all,
    needs_baseline,
    parse_threshold,
)
from tests.synthetic import Second, build_series

P95 = Aggregate(Kind.PERCENTILE, Metric.LATENCY, 95.0)
ERR = Aggregate(Kind.ERROR_RATE)
RPS = Aggregate(Kind.RPS)


def _regression(subject: str) -> Aggregate:
    return Aggregate(Kind.REGRESSION, subject=subject)


VALID: list[tuple[str, Threshold]] = [
    (
        "p95(latency) < baseline + 10%",
        Threshold(Scope(), P95, Op.LT, 0.0, baseline=BaselineRef(0.10, relative=True)),
    ),
    (
        "error_rate <= baseline + 0.5%",
        Threshold(Scope(), ERR, Op.LE, 0.0, baseline=BaselineRef(0.005, relative=False)),
    ),
    (
        "checkout: regression(p99) < 15%",
        Threshold(Scope("checkout"), _regression("p99"), Op.LT, 0.15),
    ),
    (
        "rps >= baseline - 10%",
        Threshold(Scope(), RPS, Op.GE, 0.0, baseline=BaselineRef(-0.10, True)),
    ),
    ("rps >= baseline - 5/s", Threshold(Scope(), RPS, Op.GE, 0.0, baseline=BaselineRef(-5.0))),
    ("rps > baseline - 300/m", Threshold(Scope(), RPS, Op.GT, 0.0, baseline=BaselineRef(-5.0))),
    (
        "b/list: p99(latency) <= baseline+20ms",
        Threshold(
            Scope("b", "list"),
            Aggregate(Kind.PERCENTILE, Metric.LATENCY, 99.0),
            Op.LE,
            0.0,
            baseline=BaselineRef(0.02),
        ),
    ),
    (
        "p50(latency) < baseline",
        Threshold(
            Scope(),
            Aggregate(Kind.PERCENTILE, Metric.LATENCY, 50.0),
            Op.LT,
            0.0,
            baseline=BaselineRef(),
        ),
    ),
    (
        "checkout: error_rate < baseline + 1% during payments-slow",
        Threshold(
            Scope("checkout"),
            ERR,
            Op.LT,
            0.0,
            phase=Phase(PhaseKind.DURING, "payments-slow"),
            baseline=BaselineRef(0.01),
        ),
    ),
    (
        "regression(error_rate) < 0.5% after db-down",
        Threshold(
            Scope(),
            _regression("error_rate"),
            Op.LT,
            0.005,
            phase=Phase(PhaseKind.AFTER, "db-down"),
        ),
    ),
    ("regression(rps) <= 150%", Threshold(Scope(), _regression("rps"), Op.LE, 1.5)),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_valid_baseline_expressions_parse(text: str, expected: Threshold) -> None:
    parsed = parse_threshold(text)
    assert parsed == expected
    assert parsed.expression == text
    assert needs_baseline(parsed)
    assert parse_threshold(parsed.to_text()) == parsed


def test_canonical_text_of_baseline_forms() -> None:
    cases = {
        "p95(latency)<baseline+10%": "p95(latency) < baseline + 10%",
        "rps > baseline - 600/m": "rps > baseline - 10/s",
        "p99(latency) < baseline + 0.02s": "p99(latency) < baseline + 20ms",
        "p99(latency) < baseline + 0ms": "p99(latency) < baseline",
        "checkout : regression(p99)<15%": "checkout: regression(p99) < 15%",
    }
    for text, canonical in cases.items():
        assert parse_threshold(text).to_text() == canonical


def test_plain_thresholds_do_not_need_a_baseline() -> None:
    assert not needs_baseline(parse_threshold("p95(latency) < 200ms"))
    assert baseline_key(parse_threshold("error_rate < 1%")) is None


INVALID: list[tuple[str, str, int]] = [
    ("p95(latency) < baseline + 10% over 10s", "takes no `over`", 31),
    ("regression(p99) < 15% over 1m", "takes no `over`", 23),
    ("avg(latency) < baseline + 10%", "p50/p95/p99(latency), error_rate, rps and signal(", 1),
    ("p90(latency) < baseline", "not p90(latency)", 1),
    ("p99.9(latency) < baseline", "not p99.9(latency)", 1),
    ("p95(duration) < baseline", "not p95(duration)", 1),
    ("checks > baseline", "not checks", 1),
    ("count(requests) > baseline", "not count(requests)", 1),
    ("regression(p90) < 15%", "expected p50, p95, p99, error_rate or rps", 12),
    ("regression(latency) < 15%", "expected p50, p95, p99, error_rate or rps", 12),
    ("regression < 15%", "expected '(' after regression", 12),
    ("baseline > p95(latency)", "the baseline goes on the right", 1),
    ("p95(latency) < baseline +", "expected a value after '+'", 26),
    ("error_rate < baseline - ", "expected a value after '-': percentage points", 25),
    ("p95(latency) < baseline + 10/s", "is a time, not '10/s'", 27),
    ("error_rate < baseline + 1", "is a percentage, not '1'", 25),
    ("error_rate < baseline + 101%", "cannot exceed 100%", 25),
    ("p95(latency) < baseline + 10 ms", "write the unit right after the number", 30),
    ("regression(p99) < 15ms", "is a percentage, not '15ms'", 19),
    ("regression(p99) < baseline", "already measured against the baseline", 19),
    ("p95(latency) < baseline + 10%, abort", "cannot abort the run", 32),
    ("p95(latency) < baseline-10ms", "write spaces around the sign", 16),
    ("p95(latency) < baseline 10%", "unexpected '10%'", 25),
    ("p95(latency) < 10ms + 5ms", "unexpected '+'", 21),
    ("regresion(p99) < 15%", "did you mean `regression`?", 1),
]


@pytest.mark.parametrize(("text", "message", "column"), INVALID, ids=[t for t, _, _ in INVALID])
def test_invalid_baseline_expressions_point_at_the_bad_token(
    text: str, message: str, column: int
) -> None:
    with pytest.raises(ThresholdSyntaxError) as info:
        parse_threshold(text)
    assert message in info.value.message
    assert info.value.column == column


# --- round trips -------------------------------------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9 -]{0,8}[a-z0-9]", fullmatch=True)
fault_names = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
numbers = st.one_of(
    st.integers(0, 10_000).map(str),
    st.decimals(0, 1000, places=3, allow_nan=False, allow_infinity=False).map(str),
)
percents = st.builds(lambda n: f"{n}%", st.decimals(0, 100, places=2).map(str))
durations = st.builds(lambda n, u: f"{n}{u}", numbers, st.sampled_from(["us", "ms", "s", "m"]))
rates = st.one_of(
    numbers, st.builds(lambda n, u: f"{n}{u}", numbers, st.sampled_from(["/s", "/m", "/h"]))
)
offsets = {
    "p50(latency)": st.one_of(percents, durations),
    "p95(latency)": st.one_of(percents, durations),
    "p99(latency)": st.one_of(percents, durations),
    "error_rate": percents,
    "rps": st.one_of(percents, rates),
}


@st.composite
def baseline_expressions(draw: st.DrawFn) -> str:
    scope = draw(st.sampled_from(["", "flow", "step"]))
    prefix = {"": "", "flow": f"{draw(names)}: ", "step": f"{draw(names)}/{draw(names)}: "}[scope]
    op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
    if draw(st.booleans()):
        subject = draw(st.sampled_from(["p50", "p95", "p99", "error_rate", "rps"]))
        text = f"{prefix}regression({subject}) {op} {draw(percents)}"
    else:
        agg = draw(st.sampled_from(sorted(offsets)))
        text = f"{prefix}{agg} {op} baseline"
        if draw(st.booleans()):
            text += f" {draw(st.sampled_from('+-'))} {draw(offsets[agg])}"
    if draw(st.booleans()):
        text += f" {draw(st.sampled_from(['during', 'before', 'after']))} {draw(fault_names)}"
    return text


@settings(max_examples=300, deadline=None)
@given(baseline_expressions())
def test_generated_baseline_expressions_round_trip(text: str) -> None:
    parsed = parse_threshold(text)
    assert needs_baseline(parsed)
    canonical = parsed.to_text()
    again = parse_threshold(canonical)
    assert again == parsed
    assert again.to_text() == canonical


@settings(max_examples=200, deadline=None)
@given(baseline_expressions(), st.integers(1, 3600))
def test_over_is_always_refused_with_a_baseline(text: str, seconds: int) -> None:
    with pytest.raises(ThresholdSyntaxError, match="takes no `over`"):
        parse_threshold(f"{text} over {seconds}s")


# --- evaluation ----------------------------------------------------------------------------------


def series_of(seconds: list[Second]) -> Series:
    return build_series(seconds, iterations=True)


# browse: 99 ok + 1 error per second at 20 ms; checkout: 50 ok at 300 ms. 10 seconds.
STEADY = series_of([{"browse/list": (99, 1, 20.0), "checkout/pay": (50, 0, 300.0)}] * 10)
RUNS = ("r1", "r2", "r3")


def _fig(
    baseline: float | None = None,
    shift: float | None = None,
    interval: tuple[float, float] | None = None,
    outcome: str = "pass",
    runs: tuple[str, ...] = RUNS,
) -> BaselineFigure:
    low, high = interval if interval is not None else (None, None)
    return BaselineFigure(baseline, shift, low, high, runs, outcome)


def _judge(text: str, figures: BaselineFigures | None) -> ThresholdResult:
    return evaluate(parse_threshold(text), STEADY, baseline=figures)


@pytest.mark.parametrize(
    ("text", "figure", "verdict", "limit"),
    [
        # browse p95 is 20 ms; + 10% of the baseline.
        ("browse: p95(latency) < baseline + 10%", _fig(0.019), Verdict.PASS, 20.9),
        ("browse: p95(latency) < baseline + 10%", _fig(0.017), Verdict.FAIL, 18.7),
        ("browse: p95(latency) < baseline + 5ms", _fig(0.017), Verdict.PASS, 22.0),
        # browse error rate is 1 %; percent offsets are absolute points for error_rate.
        ("browse: error_rate <= baseline + 0.5%", _fig(0.006), Verdict.PASS, 1.1),
        ("browse: error_rate <= baseline + 0.5%", _fig(0.004), Verdict.FAIL, 0.9),
        # browse throughput is 100/s.
        ("browse: rps >= baseline - 10%", _fig(110.0), Verdict.PASS, 99.0),
        ("browse: rps >= baseline - 10%", _fig(112.0), Verdict.FAIL, 100.8),
        ("browse: rps >= baseline - 5/s", _fig(104.0), Verdict.PASS, 99.0),
    ],
)
def test_against_the_baseline(
    text: str, figure: BaselineFigure, verdict: Verdict, limit: float
) -> None:
    threshold = parse_threshold(text)
    key = baseline_key(threshold)
    assert key is not None
    result = evaluate(threshold, STEADY, baseline={key: figure})
    assert result.verdict is verdict
    assert result.limit == pytest.approx(limit)
    assert result.baseline_runs == RUNS
    assert result.to_dict()["baseline_runs"] == list(RUNS)
    assert "3 baseline runs" in result.detail


def test_observed_is_the_runs_own_value() -> None:
    result = _judge(
        "browse: error_rate <= baseline + 0.5%",
        {("browse", "", "error_rate", None, None): _fig(0.01)},
    )
    assert result.observed == pytest.approx(1.0)
    assert result.unit == "%"


@pytest.mark.parametrize(
    "figures",
    [
        None,
        {},
        {("browse", "", "p95", None, None): _fig(None, outcome="no_baseline", runs=("r1",))},
        {("browse", "", "p95", None, None): _fig(0.02, outcome="no_baseline")},
        {("checkout", "", "p95", None, None): _fig(0.02)},  # another flow's figure
        {("*", "", "p95", None, None): _fig(0.02)},  # the whole scenario's, not browse's
        {("browse", "", "p99", None, None): _fig(0.02)},  # another metric
    ],
)
def test_no_baseline_is_no_data_never_a_pass(figures: BaselineFigures | None) -> None:
    for text in ("browse: p95(latency) < baseline + 10%", "browse: regression(p95) < 10%"):
        result = _judge(text, figures)
        assert result.verdict is Verdict.NO_DATA
        assert result.detail == "no baseline yet"
        assert result.observed is None


def test_no_baseline_keeps_the_runs_it_found_and_has_no_limit() -> None:
    figure = _fig(None, outcome="no_baseline", runs=("r1", "r2"))
    result = _judge(
        "browse: p95(latency) < baseline + 10%", {("browse", "", "p95", None, None): figure}
    )
    assert result.baseline_runs == ("r1", "r2")
    assert result.limit is None
    assert result.to_dict()["limit"] is None


@pytest.mark.parametrize(
    ("text", "key", "figure", "verdict", "observed", "unit"),
    [
        (
            "checkout: regression(p99) < 15%",
            ("checkout", "", "p99", None, None),
            _fig(0.3, 0.12),
            Verdict.PASS,
            12.0,
            "%",
        ),
        (
            "checkout: regression(p99) < 15%",
            ("checkout", "", "p99", None, None),
            _fig(0.3, 0.25, (0.2, 0.3), "regression"),
            Verdict.FAIL,
            25.0,
            "%",
        ),
        (
            "regression(error_rate) < 0.5%",
            ("*", "", "error_rate", None, None),
            _fig(0.01, 0.002),
            Verdict.PASS,
            0.2,
            "pp",
        ),
        (
            "regression(error_rate) < 0.5%",
            ("*", "", "error_rate", None, None),
            _fig(0.01, 0.009),
            Verdict.FAIL,
            0.9,
            "pp",
        ),
        # A fall in throughput is a positive regression.
        (
            "regression(rps) < 10%",
            ("*", "", "rps", None, None),
            _fig(100.0, -0.2, (-0.25, -0.15)),
            Verdict.FAIL,
            20.0,
            "%",
        ),
        (
            "regression(rps) < 10%",
            ("*", "", "rps", None, None),
            _fig(100.0, 0.3),
            Verdict.PASS,
            -30.0,
            "%",
        ),
        (
            "browse/list: regression(p50) <= 5%",
            ("browse", "list", "p50", None, None),
            _fig(0.02, 0.05),
            Verdict.PASS,
            5.0,
            "%",
        ),
    ],
)
def test_regression(
    text: str,
    key: tuple[str, str, str, None, None],
    figure: BaselineFigure,
    verdict: Verdict,
    observed: float,
    unit: str,
) -> None:
    threshold = parse_threshold(text)
    assert baseline_key(threshold) == key
    result = evaluate(threshold, STEADY, baseline={key: figure})
    assert result.verdict is verdict
    assert result.observed == pytest.approx(observed)
    assert result.unit == unit
    assert result.baseline_runs == RUNS


def test_regression_detail_shows_the_interval_and_outcome() -> None:
    figures: BaselineFigures = {
        ("*", "", "rps", None, None): _fig(100.0, -0.2, (-0.25, -0.15), "regression")
    }
    result = _judge("regression(rps) < 10%", figures)
    assert result.detail == "interval +15 .. +25 %; 3 baseline runs, comparison: regression"


def test_global_scope_reads_the_star_key() -> None:
    threshold = parse_threshold("p99(latency) < baseline + 10%")
    assert baseline_key(threshold) == ("*", "", "p99", None, None)
    result = evaluate(threshold, STEADY, baseline={("*", "", "p99", None, None): _fig(0.29)})
    assert result.verdict is Verdict.PASS  # whole-scenario p99 is checkout's 300 ms < 319 ms
    assert result.observed == pytest.approx(300.0, rel=2e-3)


CHAOS = series_of(
    [{"browse/list": (100, 0, 20.0)}] * 4
    + [{"browse/list": (50, 50, 80.0)}] * 3
    + [{"browse/list": (100, 0, 20.0)}] * 3
)
FAULTS = {"db-down": (4, 7)}


def test_phase_qualified_keys_read_the_phase_and_its_figure() -> None:
    during = parse_threshold("browse: error_rate <= baseline + 5% during db-down")
    before = parse_threshold("browse: error_rate <= baseline + 5% before db-down")
    regression = parse_threshold("browse: regression(p95) < 20% after db-down")
    figures = {
        ("browse", "", "error_rate", "db-down", "during"): _fig(0.40, runs=("d1",)),
        ("browse", "", "error_rate", "db-down", "before"): _fig(0.0, runs=("b1",)),
        ("browse", "", "p95", "db-down", "after"): _fig(0.02, 0.01, runs=("a1",)),
        ("browse", "", "error_rate", None, None): _fig(0.0),  # must not be read by phased ones
    }
    results = evaluate_all([during, before, regression], CHAOS, faults=FAULTS, baseline=figures)
    assert [r.verdict for r in results] == [Verdict.FAIL, Verdict.PASS, Verdict.PASS]
    assert results[0].observed == pytest.approx(50.0)  # the during phase alone
    assert results[0].limit == pytest.approx(45.0)
    assert [r.baseline_runs for r in results] == [("d1",), ("b1",), ("a1",)]


def test_a_fault_not_injected_is_no_data() -> None:
    for text in ("error_rate < baseline during ghost", "regression(p95) < 10% during ghost"):
        threshold = parse_threshold(text)
        key = baseline_key(threshold)
        assert key is not None
        result = evaluate(threshold, CHAOS, faults=FAULTS, baseline={key: _fig(0.0, 0.0)})
        assert result.verdict is Verdict.NO_DATA
        assert "not injected" in result.detail


def test_a_scope_without_data_is_no_data_with_its_baseline() -> None:
    figures: BaselineFigures = {("nope", "", "p95", None, None): _fig(0.02)}
    result = _judge("nope: p95(latency) < baseline + 10%", figures)
    assert result.verdict is Verdict.NO_DATA
    assert result.baseline_runs == RUNS
    assert result.detail.startswith("no data")


def test_plain_thresholds_ignore_baseline_figures_and_record_no_runs() -> None:
    result = _judge("browse: p95(latency) < 25ms", {("browse", "", "p95", None, None): _fig(0.001)})
    assert result.verdict is Verdict.PASS
    assert result.baseline_runs == ()
    assert result.to_dict()["baseline_runs"] == []


def test_check_abort_ignores_baseline_thresholds() -> None:
    for text in ("browse: p95(latency) < baseline + 10%", "regression(p99) < 1%"):
        assert check_abort(parse_threshold(text), STEADY) is None
    # Even one built by hand with abort set (the parser refuses `, abort` on these).
    built = Threshold(Scope(), P95, Op.LT, 0.0, abort=True, baseline=BaselineRef(-0.99, True))
    assert check_abort(built, STEADY) is None
