"""Property tests: generated valid expressions parse and round-trip; garbage fails cleanly."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from contval.thresholds import ThresholdSyntaxError, parse_threshold

NAME_CHARS = string.ascii_letters + string.digits + " -_"
names = st.text(NAME_CHARS, min_size=1, max_size=12).filter(lambda s: s.strip() != "")
fault_names = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
numbers = st.one_of(
    st.integers(0, 100_000).map(str),
    st.decimals(0, 1000, places=3, allow_nan=False, allow_infinity=False).map(str),
)
durations = st.builds(lambda n, u: f"{n}{u}", numbers, st.sampled_from(["us", "ms", "s", "m", "h"]))
percents = st.builds(lambda n: f"{n}%", st.decimals(0, 100, places=2).map(str))
rates = st.builds(lambda n, u: f"{n}{u}", numbers, st.sampled_from(["/s", "/m", "/h"]))
counts = st.integers(0, 10**9).map(str)
ops = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
metric = st.sampled_from(["latency", "duration"])
pcts = st.sampled_from(["50", "90", "95", "99", "99.9", "100", "0.1"])

time_aggs = st.one_of(
    st.builds(lambda p, m: f"p{p}({m})", pcts, metric),
    st.builds(lambda f, m: f"{f}({m})", st.sampled_from(["avg", "min", "max"]), metric),
)
flow_aggs = st.sampled_from(["dropped_iterations", "count(iterations)"])
step_aggs = st.one_of(
    st.tuples(time_aggs, durations),
    st.tuples(st.sampled_from(["error_rate", "checks"]), percents),
    st.tuples(st.just("rps"), st.one_of(rates, numbers)),
    st.tuples(st.sampled_from(["count(requests)", "count(errors)"]), counts),
)


@st.composite
def expressions(draw: st.DrawFn) -> str:
    scope = draw(st.sampled_from(["none", "flow", "step"]))
    if scope == "step":
        agg, value = draw(step_aggs)
    else:
        agg, value = draw(st.one_of(step_aggs, st.tuples(flow_aggs, counts)))
    prefix = {
        "none": "",
        "flow": f"{draw(names)}: ",
        "step": f"{draw(names)}/{draw(names)}: ",
    }[scope]
    text = f"{prefix}{agg} {draw(ops)} {value}"
    if draw(st.booleans()):
        text += f" over {draw(st.integers(1, 3600))}s"
    if draw(st.booleans()):
        text += f" {draw(st.sampled_from(['during', 'before', 'after']))} {draw(fault_names)}"
    if draw(st.booleans()):
        text += ", abort"
    return text


@settings(max_examples=300, deadline=None)
@given(expressions())
def test_generated_expressions_parse_and_round_trip(text: str) -> None:
    parsed = parse_threshold(text)
    canonical = parsed.to_text()
    again = parse_threshold(canonical)
    assert again == parsed
    assert again.to_text() == canonical


ALPHABET = string.ascii_letters + string.digits + " ()<>=!,:/%.-_µ@#p"


@settings(max_examples=500, deadline=None)
@given(st.text(ALPHABET, max_size=40))
def test_garbage_only_raises_threshold_syntax_error(text: str) -> None:
    try:
        parse_threshold(text)
    except ThresholdSyntaxError as err:
        assert 1 <= err.column <= len(text) + 1
        assert err.expression == text


@settings(max_examples=300, deadline=None)
@given(expressions(), st.integers(0, 60), st.text(ALPHABET, min_size=1, max_size=3))
def test_mangled_valid_expressions_fail_cleanly(text: str, at: int, junk: str) -> None:
    at = min(at, len(text))
    mangled = text[:at] + junk + text[at:]
    try:
        parse_threshold(mangled)
    except ThresholdSyntaxError as err:
        assert 1 <= err.column <= len(mangled) + 1


signal_names = st.from_regex(r"[a-z_][a-z0-9_.-]{0,10}", fullmatch=True)


@st.composite
def signal_expressions(draw: st.DrawFn) -> str:
    """`signal(NAME) [max|min|avg|last] op value` with the qualifiers client metrics take."""
    reducer = draw(st.sampled_from(["", " max", " min", " avg", " last"]))
    value = draw(st.one_of(numbers, durations))
    text = f"signal({draw(signal_names)}){reducer} {draw(ops)} {value}"
    if draw(st.booleans()):
        text += f" over {draw(st.integers(1, 3600))}s"
    if draw(st.booleans()):
        text += f" {draw(st.sampled_from(['during', 'before', 'after']))} {draw(fault_names)}"
    if draw(st.booleans()):
        text += ", abort"
    return text


@settings(max_examples=300, deadline=None)
@given(signal_expressions())
def test_generated_signal_expressions_parse_and_round_trip(text: str) -> None:
    parsed = parse_threshold(text)
    assert parsed.aggregate.kind == "signal" and parsed.aggregate.subject
    canonical = parsed.to_text()
    again = parse_threshold(canonical)
    assert again == parsed
    assert again.to_text() == canonical


@settings(max_examples=200, deadline=None)
@given(signal_expressions(), st.integers(0, 60), st.text(ALPHABET, min_size=1, max_size=3))
def test_mangled_signal_expressions_fail_cleanly(text: str, at: int, junk: str) -> None:
    at = min(at, len(text))
    mangled = text[:at] + junk + text[at:]
    try:
        parse_threshold(mangled)
    except ThresholdSyntaxError as err:
        assert 1 <= err.column <= len(mangled) + 1
