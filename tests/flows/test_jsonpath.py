"""The JSON-path subset and JSON conditions, by table and by property."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from contval.flows.conditions import compile_condition, json_equal
from contval.flows.jsonpath import parse_path
from contval.spec import Condition

DOC = {"items": [{"id": 1, "tags": ["a"]}, {"id": 2}], "odd key": {"x": True}, "n": 0}


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("$", [DOC]),
        ("$.n", [0]),
        ("$.items[0].id", [1]),
        ("$.items[1].id", [2]),
        ("$.items[2].id", []),
        ("$.items[*].id", [1, 2]),
        ("$.items[*].tags[0]", ["a"]),
        ("$['odd key'].x", [True]),
        ("$['odd key'].*", [True]),
        ("$.*", list(DOC.values())),
        ("$.missing.deeper", []),
        ("$.n.x", []),
        ("$.items.id", []),
        ("$.n[0]", []),
    ],
)
def test_find(path: str, found: list[Any]) -> None:
    assert parse_path(path).find(DOC) == found


@pytest.mark.parametrize("bad", ["items", "$.", "$[x]", "$['a'", "$..a", "$[-1]"])
def test_invalid_paths_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_path(bad)


def test_wildcard_marks_a_path_multi() -> None:
    assert parse_path("$.items[*].id").multi
    assert parse_path("$.*").multi
    assert not parse_path("$.items[0]['id']").multi
    assert parse_path("$.items[0]['id']").segments == ("items", 0, "id")


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
json_values = st.recursive(
    json_scalars | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)
keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)


@given(st.dictionaries(keys, json_values, max_size=4), keys)
def test_field_finds_exactly_the_member(document: dict[str, Any], key: str) -> None:
    expected = [document[key]] if key in document else []
    assert parse_path(f"$.{key}").find(document) == expected
    assert parse_path(f"$['{key}']").find(document) == expected


@given(st.lists(json_values, max_size=5))
def test_star_and_index_on_arrays(items: list[Any]) -> None:
    assert parse_path("$[*]").find(items) == items
    for index, item in enumerate(items):
        assert parse_path(f"$[{index}]").find(items) == [item]
    assert parse_path(f"$[{len(items)}]").find(items) == []


def _reference_find(segments: tuple[Any, ...], document: Any) -> list[Any]:
    """The path semantics spelled out plainly: each segment applied to every node so far."""
    nodes = [document]
    for segment in segments:
        found: list[Any] = []
        for node in nodes:
            if segment is None:
                found.extend(node.values() if isinstance(node, dict) else [])
                found.extend(node if isinstance(node, list) else [])
            elif isinstance(segment, str):
                if isinstance(node, dict) and segment in node:
                    found.append(node[segment])
            elif isinstance(node, list) and segment < len(node):
                found.append(node[segment])
        nodes = found
    return nodes


segments = st.lists(st.none() | st.sampled_from(["a", "b", "id"]) | st.integers(0, 2), max_size=4)
nested = st.recursive(
    st.sampled_from([None, True, 0, 7, "", "ab", "id"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "id", "x"]), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=500)
@given(nested, segments)
@example(["ab", [1, 2], None], [None, 0])  # a string is not an array: "ab"[0] is no match
@example([{"id": 1}, {"x": 2}, "id", [3]], [None, "id"])  # only objects with the field
@example([{"id": 1}, {"id": [5]}], [None, "id", 0])
def test_find_agrees_with_the_plain_definition(document: Any, path: list[Any]) -> None:
    text = "$" + "".join(
        "[*]" if s is None else f"[{s}]" if isinstance(s, int) else f".{s}" for s in path
    )
    parsed = parse_path(text)
    assert parsed.segments == tuple(path)
    assert parsed.find(document) == _reference_find(parsed.segments, document)


def cond(path: str, **ops: Any) -> Any:
    return compile_condition(path, Condition(**ops))


@pytest.mark.parametrize(
    ("ops", "value", "holds"),
    [
        ({"equals": "fulfilled"}, "fulfilled", True),
        ({"equals": "fulfilled"}, "pending", False),
        ({"equals": 202}, "202", False),
        ({"equals": 1}, True, False),
        ({"equals": True}, 1, False),
        ({"equals": 1}, 1.0, True),
        ({"equals": None}, None, True),
        ({"equals": [1, 2]}, [1, 2], True),
        ({"not_equals": "x"}, "y", True),
        ({"not_equals": "x"}, "x", False),
        ({"one_of": ["a", "b"]}, "b", True),
        ({"one_of": ["a", "b"]}, "c", False),
        ({"min_length": 2}, [1, 2], True),
        ({"min_length": 2}, "a", False),
        ({"max_length": 1}, "ab", False),
        ({"max_length": 1}, {"k": 1}, True),
        ({"min_length": 1}, 5, False),
        ({"min": 1.5}, 2, True),
        ({"min": 1.5}, 1, False),
        ({"max": 10}, 10, True),
        ({"max": 10}, True, False),
        ({"min": 0}, "5", False),
        ({"matches": "^ord-[0-9]+$"}, "ord-17", True),
        ({"matches": "[0-9]"}, "abc", False),
        ({"matches": "x"}, 1, False),
        ({"exists": True}, 0, True),
        ({"exists": False}, 0, False),
        ({"min": 1, "max": 3}, 2, True),
        ({"min": 1, "max": 3}, 4, False),
    ],
)
def test_condition_operators(ops: dict[str, Any], value: Any, holds: bool) -> None:
    assert cond("$.v", **ops).holds({"v": value}) is holds


def test_missing_values() -> None:
    assert cond("$.v", exists=False).holds({}) is True
    assert cond("$.v", exists=True).holds({}) is False
    assert cond("$.v", equals=None).holds({}) is False
    assert cond("$.v", not_equals="x").holds({}) is False


def test_wildcard_paths_test_the_list_of_matches() -> None:
    assert cond("$.items[*].id", min_length=2).holds(DOC)
    assert not cond("$.items[*].id", min_length=3).holds(DOC)
    assert cond("$.items[*].id", equals=[1, 2]).holds(DOC)
    assert cond("$.none[*]", max_length=0).holds(DOC)
    assert not cond("$.none[*]", exists=True).holds(DOC)


@given(json_values)
def test_equals_is_reflexive_and_not_equals_its_opposite(value: Any) -> None:
    document = {"v": value}
    assert cond("$.v", equals=value).holds(document)
    assert not cond("$.v", not_equals=value).holds(document)
    assert cond("$.v", one_of=[value]).holds(document)


@given(json_values, json_values)
def test_json_equal_is_symmetric(a: Any, b: Any) -> None:
    assert json_equal(a, b) == json_equal(b, a)
