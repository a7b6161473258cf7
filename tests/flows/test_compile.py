"""Compile-time work: vars folded, paths encoded, JSON bodies typed, includes flattened."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from contval.flows import compile_program
from contval.flows.compiler import apply_overrides, convert
from contval.flows.jsonbody import Whole, compile_json
from contval.flows.ops import PollOp, RequestOp, ThinkOp
from contval.flows.templates import (
    Ref,
    Resolver,
    Scope,
    compile_text,
    path_value,
    static_path,
    to_text,
)
from tests.flows.conftest import make_suite

URL = "http://127.0.0.1:9"


def resolver() -> Resolver:
    return Resolver({"size": 20, "q": "a b/c&d", "on": True}, {"people": ("email", "name")})


def test_vars_are_folded_into_static_text() -> None:
    text = compile_text("/p?limit={{ vars.size }}&on={{vars.on}}", resolver())
    assert text.static == "/p?limit=20&on=true"
    assert text.parts == ("/p?limit=20&on=true",)


def test_dynamic_values_are_percent_encoded_in_paths_only() -> None:
    r = resolver()
    path = compile_text("/s/{{ x }}?q={{ vars.q }}&n=é", r, path_value, static_path)
    assert path.parts[0] == "/s/"
    assert path.parts[2] == "?q=a%20b%2Fc%26d&n=%C3%A9"  # static `?=&` kept, values encoded
    scope = Scope(1, ())
    scope.values[0] = "x/y z"
    assert path.render(scope) == "/s/x%2Fy%20z?q=a%20b%2Fc%26d&n=%C3%A9"
    plain = compile_text("id {{ x }} for {{ data.people.name }}", r)
    assert plain.render(_scope(r, "x/y", ("a@b", "Ann"))) == "id x/y for Ann"


_VALUES = st.one_of(
    st.text(),
    st.text(alphabet="abcXYZ019_.~-/ %é\n"),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)


@given(_VALUES)
@example("p-12")
@example("p-12\n")  # `$` would match before a final newline; fullmatch must not
@example("ñ")
@example("")
def test_path_value_is_quote_of_the_text(value: object) -> None:
    """The fast path for unreserved-only values gives exactly what `quote` gives."""
    assert path_value(value) == quote(to_text(value), safe="")


@given(
    st.sampled_from(["/p/{{ x }}", "{{ x }}/p", "/a/{{ x }}/b", "{{ x }}", "/p/{{x}}{{x}}"]),
    _VALUES,
)
def test_rendering_joins_the_parts_in_order(template: str, value: object) -> None:
    """The two-part shortcut renders what the general join renders."""
    r = Resolver({}, {})
    text = compile_text(template, r, path_value, static_path)
    scope = Scope(len(r.variables), ())
    scope.values[0] = value
    joined = "".join(p if isinstance(p, str) else path_value(p.value(scope)) for p in text.parts)
    assert (
        text.render(scope)
        == joined
        == template.replace("{{ x }}", path_value(value)).replace("{{x}}", path_value(value))
    )


def _scope(r: Resolver, value: object, row: tuple[str, ...]) -> Scope:
    scope = Scope(len(r.variables), (row,))
    scope.values[r.variables["x"]] = value
    return scope


def test_static_json_body_is_encoded_once() -> None:
    body = compile_json({"a": [1, "x", None, {"b": True}], "n": "{{ vars.size }}"}, resolver())
    assert body.static is not None
    assert json.loads(body.static) == {"a": [1, "x", None, {"b": True}], "n": 20}


def test_json_leaf_that_is_one_reference_keeps_the_value_type() -> None:
    r = resolver()
    body = compile_json(
        {"n": "{{ x }}", "s": "id-{{ x }}", "e": "{{ data.people.email }}", "k": [" {{x}} "]}, r
    )
    assert body.static is None
    assert isinstance(body.parts[1], Whole)
    for value, expected in [(3, 3), ("7", "7"), (None, None)]:
        rendered = json.loads(body.render(_scope(r, value, ("a@b", "Ann"))))
        assert rendered["n"] == expected
        assert rendered["k"] == [f" {'null' if value is None else value} "]
        assert rendered["e"] == "a@b"
    assert json.loads(body.render(_scope(r, 3, ("a@b", "Ann"))))["s"] == "id-3"
    assert json.loads(body.render(_scope(r, True, ("a@b", "Ann"))))["s"] == "id-true"


def test_missing_variable_fails_rendering() -> None:
    text = compile_text("/{{ x }}", resolver())
    with pytest.raises(ValueError, match="`x` has no value"):
        text.render(Scope(1, ()))
    assert isinstance(text.parts[1], Ref)


FLOWS = """
parent:
  target: app
  steps:
    - name: first
      request: GET /items?limit={{ vars.size }}
      extract: {id: {json: "$.id"}}
    - include: child
    - think: 1s
    - name: wait
      poll: {request: "GET /o/{{ id }}", until: {status: 200}, every: 100ms, timeout: 1s}
child:
  target: other
  steps:
    - name: zero
      request: GET /z
      extract: {id: {header: X-Id}}
    - name: second
      request: POST https://127.0.0.1:8443/abs?x=1
      json: {id: "{{ id }}"}
      headers: {X-Id: "{{ id }}", X-Static: "yes"}
      check: {status: [200, 201]}
"""


def test_includes_flatten_and_targets_resolve(tmp_path: Path) -> None:
    other = {"other": "https://127.0.0.1:8443"}
    suite = make_suite(FLOWS, URL + "/prefix/", tmp_path, variables="size: 5", targets=other)
    program = compile_program(suite, overrides={"size": "7"})
    parent = program.flows["parent"]
    assert parent.step_names == ("first", "zero", "second", "wait")
    first, zero, second, think, wait = parent.steps
    assert isinstance(zero, RequestOp) and zero.call.origin == "https://127.0.0.1:8443"
    assert isinstance(first, RequestOp) and isinstance(second, RequestOp)
    assert isinstance(think, ThinkOp) and (think.low, think.high) == (1.0, 1.0)
    assert isinstance(wait, PollOp) and wait.every == 0.1 and wait.timeout == 1.0
    assert first.call.origin == URL and first.call.path.static == "/prefix/items?limit=7"
    assert first.call.is_static
    assert second.call.origin == "https://127.0.0.1:8443"
    assert second.call.path.static == "/abs?x=1"
    assert dict(second.call.headers) == {
        "X-Static": "yes",
        "Content-Type": "application/json",
        "Accept-Encoding": "gzip, deflate, br",
    }
    assert [name for name, _ in second.call.dynamic_headers] == ["X-Id"]
    assert not second.call.is_static and second.check.status == frozenset({200, 201})
    assert parent.variables == ("id",)
    assert program.flows["child"].variables == ("id",)


@pytest.mark.parametrize(
    ("old", "text", "new"),
    [
        (20, "50", 50),
        (20, "fifty", "fifty"),
        (1.5, "2", 2.0),
        (True, "no", False),
        (False, "TRUE", True),
        (False, "maybe", "maybe"),
        ("a", "7", "7"),
    ],
)
def test_overrides_take_the_type_of_the_value_they_replace(
    old: object, text: str, new: object
) -> None:
    assert convert(old, text) == new
    assert type(convert(old, text)) is type(new)


def test_overrides_of_unknown_variables_are_strings() -> None:
    assert apply_overrides({"a": 1}, {"a": "2", "b": "3"}) == {"a": 2, "b": "3"}


def test_worker_must_be_one_of_the_workers(tmp_path: Path) -> None:
    flows = FLOWS.split("child:", maxsplit=1)[0].replace("- include: child", "")
    suite = make_suite(flows, URL, tmp_path, variables="size: 5")
    with pytest.raises(ValueError, match="worker 2"):
        compile_program(suite, worker=2, workers=2)
