"""parse_json gives exactly json.loads' value, or raises where json.loads raises."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contval.flows.jsonparse import parse_json

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def _same(left: object, right: object) -> bool:
    """Equal, with the same types all the way down (1 is not 1.0, True is not 1), NaN == NaN."""
    if type(left) is not type(right):
        return False
    if isinstance(left, float) and isinstance(right, float):
        return (math.isnan(left) and math.isnan(right)) or left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    return left == right


def _outcome(parse: object, body: bytes) -> tuple[str, object]:
    try:
        return "value", parse(body)  # type: ignore[operator]
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        return "error", type(exc)


def _agree(body: bytes) -> None:
    ours, theirs = _outcome(parse_json, body), _outcome(json.loads, body)
    assert ours[0] == theirs[0], (body, ours, theirs)
    if ours[0] == "value":
        assert _same(ours[1], theirs[1]), (body, ours, theirs)
    else:
        assert ours[1] is theirs[1], (body, ours, theirs)


@settings(max_examples=400)
@given(_VALUES, st.booleans(), st.sampled_from([None, 0, 2]))
def test_any_json_document_parses_to_what_json_loads_gives(
    value: object, ascii_only: bool, indent: int | None
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    _agree(text.encode("utf-8", "surrogatepass"))


_JSONISH = st.text(alphabet='{}[]",:0123456789.eE+-truefalsnNIiy \t\r\n\\u').map(str.encode)


@settings(max_examples=400)
@given(st.binary(max_size=40) | _JSONISH)
def test_any_bytes_parse_or_fail_as_json_loads_does(body: bytes) -> None:
    _agree(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1,"a":2}',  # the last duplicate wins in both
        b'"\\ud800"',  # a lone surrogate escape: jiter refuses, json.loads keeps it
        b'{"\\udfff":1}',
        b'"\xed\xa0\x80"',  # an encoded surrogate
        b'\xef\xbb\xbf{"a":1}',  # a UTF-8 byte-order mark
        '{"a": [1, 2]}'.encode("utf-16"),
        b"[" * 300 + b"]" * 300,  # deeper than jiter's limit, well inside json.loads'
        b"1" * 5000,  # past Python's 4300 digits: ValueError from both
        b"1\x00",  # read as UTF-16 by json.loads
        b"[NaN, Infinity, -Infinity, -0.0, 1e400, 4.9e-324]",
        b'{"a": 1} x',
        b"",
    ],
)
def test_where_jiter_and_json_loads_differ_json_loads_decides(body: bytes) -> None:
    _agree(body)


def test_a_nesting_past_the_recursion_limit_raises_as_json_loads_does() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(RecursionError):
        json.loads(body)
    with pytest.raises(RecursionError):
        parse_json(body)
