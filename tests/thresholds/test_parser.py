"""Table tests of the threshold parser: valid expressions to AST, invalid ones to message+column."""

from __future__ import annotations

import pytest

from contval.thresholds import (
    Aggregate,
    Countable,
    Kind,
    Metric,
    Op,
    Phase,
    PhaseKind,
    Scope,
    Threshold,
    ThresholdSyntaxError,
    parse_threshold,
)

P95_LAT = Aggregate(Kind.PERCENTILE, Metric.LATENCY, 95.0)
ERR = Aggregate(Kind.ERROR_RATE)

VALID: list[tuple[str, Threshold]] = [
    ("error_rate < 1%", Threshold(Scope(), ERR, Op.LT, 0.01)),
    (
        "browse/list products: p95(latency) < 200ms",
        Threshold(Scope("browse", "list products"), P95_LAT, Op.LT, 0.2),
    ),
    (
        "checkout/place order: p99(latency) < 1s",
        Threshold(
            Scope("checkout", "place order"),
            Aggregate(Kind.PERCENTILE, Metric.LATENCY, 99.0),
            Op.LT,
            1.0,
        ),
    ),
    (
        "order-fulfilment/fulfilled: p95(duration) < 10s",
        Threshold(
            Scope("order-fulfilment", "fulfilled"),
            Aggregate(Kind.PERCENTILE, Metric.DURATION, 95.0),
            Op.LT,
            10.0,
        ),
    ),
    (
        "browse: p95(duration) < 4s",
        Threshold(Scope("browse"), Aggregate(Kind.PERCENTILE, Metric.DURATION, 95.0), Op.LT, 4.0),
    ),
    ("checks > 99%", Threshold(Scope(), Aggregate(Kind.CHECKS), Op.GT, 0.99)),
    (
        "dropped_iterations == 0",
        Threshold(Scope(), Aggregate(Kind.DROPPED_ITERATIONS), Op.EQ, 0.0),
    ),
    (
        "p99(latency) < 2s over 10s",
        Threshold(Scope(), Aggregate(Kind.PERCENTILE, Metric.LATENCY, 99.0), Op.LT, 2.0, window=10),
    ),
    (
        "error_rate < 20% over 5s, abort",
        Threshold(Scope(), ERR, Op.LT, 0.2, window=5, abort=True),
    ),
    (
        "checkout: error_rate < 5% during payments-slow",
        Threshold(
            Scope("checkout"), ERR, Op.LT, 0.05, phase=Phase(PhaseKind.DURING, "payments-slow")
        ),
    ),
    (
        "p99.9(latency) <= 1m30s",
        Threshold(Scope(), Aggregate(Kind.PERCENTILE, Metric.LATENCY, 99.9), Op.LE, 90.0),
    ),
    (
        "avg(latency)>=250us",
        Threshold(Scope(), Aggregate(Kind.AVG, Metric.LATENCY), Op.GE, 0.00025),
    ),
    ("rps >= 50/s", Threshold(Scope(), Aggregate(Kind.RPS), Op.GE, 50.0)),
    ("rps > 600/m", Threshold(Scope(), Aggregate(Kind.RPS), Op.GT, 10.0)),
    ("rps > 100", Threshold(Scope(), Aggregate(Kind.RPS), Op.GT, 100.0)),
    (
        "browse: count(iterations) != 0",
        Threshold(
            Scope("browse"), Aggregate(Kind.COUNT, countable=Countable.ITERATIONS), Op.NE, 0.0
        ),
    ),
    (
        "  a flow / a step :  max(duration)  >  1ms  ",
        Threshold(Scope("a flow", "a step"), Aggregate(Kind.MAX, Metric.DURATION), Op.GT, 0.001),
    ),
    (
        "recovery_time < 15s after payments-slow",
        Threshold(
            Scope(),
            Aggregate(Kind.RECOVERY_TIME),
            Op.LT,
            15.0,
            phase=Phase(PhaseKind.AFTER, "payments-slow"),
        ),
    ),
    (
        "p95(latency) < 1s before db-down over 1m, abort",
        Threshold(
            Scope(),
            P95_LAT,
            Op.LT,
            1.0,
            window=60,
            phase=Phase(PhaseKind.BEFORE, "db-down"),
            abort=True,
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_valid_expressions_parse(text: str, expected: Threshold) -> None:
    parsed = parse_threshold(text)
    assert parsed == expected
    assert parsed.expression == text
    assert parse_threshold(parsed.to_text()) == parsed


INVALID: list[tuple[str, str, int]] = [
    ("", "empty threshold", 1),
    ("browse: p95(latncy) < 200ms", "expected latency or duration", 13),
    ("latency < 1s", "latency needs an aggregate", 1),
    ("erorr_rate < 1%", "did you mean `error_rate`?", 1),
    ("foo < 1", "expected an aggregate such as p95(latency), error_rate or rps", 1),
    ("p(95) < 1s", "write the percentile into the name", 1),
    ("p0(latency) < 1s", "a percentile must be above 0", 1),
    ("p101(latency) < 1s", "a percentile must be above 0", 1),
    ("p95 < 1s", "expected '(' after p95", 5),
    ("p95(latency < 1s", "expected ')'", 13),
    ("error_rate(latency) < 1%", "error_rate takes no argument", 11),
    ("count(latency) > 1", "expected requests, errors or iterations", 7),
    ("p95(latency) 200ms", "expected a comparison", 14),
    ("p95(latency) = 1s", "use == to compare", 14),
    ("p95(latency) <", "expected a value: a duration", 15),
    ("p95(latency) < 5%", "is a time, not '5%'", 16),
    ("p95(latency) < 200", "has no unit", 16),
    ("p95(latency) < 200 ms", "write the unit right after the number", 20),
    ("error_rate < 200ms", "is a percentage, not '200ms'", 14),
    ("error_rate < 1", "is a percentage, not '1'", 14),
    ("error_rate < 101%", "cannot exceed 100%", 14),
    ("rps > 5ms", "invalid rate", 7),
    ("count(requests) > 1.5", "is a count: use a whole number", 19),
    ("dropped_iterations == 1s", "is a count", 23),
    ("error_rate < 1% over 2.5s", "whole number of seconds", 22),
    ("error_rate < 1% over", "expected a window length", 21),
    ("error_rate < 1% over 5s over 5s", "`over` given twice", 25),
    ("error_rate < 1% during", "expected a fault name after `during`", 23),
    ("error_rate < 1% during a after b", "only one of during, before or after", 26),
    ("error_rate < 1%, stop", "expected `abort` after ','", 18),
    ("error_rate < 1% abort", "unexpected 'abort'", 17),
    ("error_rate < 1% ovr 5s", "unexpected 'ovr'", 17),
    ("error_rate < 1% @", "unexpected character '@'", 17),
    ("b/s: dropped_iterations == 0", "belongs to a flow, not to a step", 6),
    ("b/s: count(iterations) > 0", "belongs to a flow, not to a step", 6),
    ("recovery_time < 1s over 10s", "takes no `over`", 20),
    (": error_rate < 1%", "expected a flow name", 1),
    ("browse/ : error_rate < 1%", "expected a step name", 9),
    ("p95(latency) < 1s: x", "a scope goes first", 18),
]


@pytest.mark.parametrize(("text", "message", "column"), INVALID, ids=[t for t, _, _ in INVALID])
def test_invalid_expressions_point_at_the_bad_token(text: str, message: str, column: int) -> None:
    with pytest.raises(ThresholdSyntaxError) as info:
        parse_threshold(text)
    err = info.value
    assert message in err.message
    assert err.column == column
    assert err.expression == text


def test_error_text_quotes_the_expression_with_a_caret() -> None:
    with pytest.raises(ThresholdSyntaxError) as info:
        parse_threshold("browse: p95(latncy) < 200ms")
    assert str(info.value).splitlines() == [
        "expected latency or duration (column 13)",
        "  browse: p95(latncy) < 200ms",
        "              ^^^^^^",
    ]


def test_canonical_text_is_readable() -> None:
    cases = {
        "error_rate<1%": "error_rate < 1%",
        "p99.9(latency) < 250us": "p99.9(latency) < 0.25ms",
        "browse/list products : p95(latency)<200ms": "browse/list products: p95(latency) < 200ms",
        "p99(latency) < 2s over 1m, abort": "p99(latency) < 2s over 1m, abort",
        "rps > 600/m": "rps > 10/s",
    }
    for text, canonical in cases.items():
        assert parse_threshold(text).to_text() == canonical
