"""The YAML loader: positions for every key and value, and no traceback on any bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from contval.spec import SuiteInvalid, load_suite, load_suite_text
from contval.spec.source import SourceError, parse_source, read_source

_keys = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_scalars = st.one_of(st.integers(-1000, 1000), st.booleans(), _keys)
_trees = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.dictionaries(_keys, inner, min_size=1, max_size=4),
    ),
    max_leaves=12,
)


def _walk(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    found = [(path, data)]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _walk(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _walk(value, (*path, index))
    return found


@settings(max_examples=60)
@given(st.dictionaries(_keys, _trees, min_size=1, max_size=4), st.booleans())
def test_every_key_span_points_at_the_key_text(tree: dict[str, Any], flow: bool) -> None:
    text = yaml.safe_dump(tree, sort_keys=False, default_flow_style=flow, width=10_000)
    lines = text.splitlines()
    doc = parse_source(text, Path("t.yaml"))
    assert doc.data == tree
    for path, _ in _walk(tree):
        if path and isinstance(path[-1], str):
            key = doc.spans[path].key
            assert key is not None
            line = lines[key.line - 1]
            # a key YAML would read as something else (`'on'`) is dumped quoted
            assert line[key.column - 1 :].lstrip("'\"").startswith(path[-1])


def _suite(flows: dict[str, int], rate: int) -> dict[str, Any]:
    return {
        "version": 1,
        "name": "generated",
        "targets": {"shop": "http://127.0.0.1:8000"},
        "flows": {
            name: {
                "target": "shop",
                "steps": [{"name": f"s{i}", "request": f"GET /p/{i}"} for i in range(count)],
            }
            for name, count in flows.items()
        },
        "workloads": {
            "w": {
                "executor": "constant-arrival-rate",
                "rate": f"{rate}/s",
                "duration": "1m",
                "mix": dict.fromkeys(flows, 1),
            }
        },
        "scenarios": {"main": {"workload": "w", "thresholds": []}},
    }


_flow_sets = st.dictionaries(_keys, st.integers(1, 4), min_size=1, max_size=4)


@settings(max_examples=40)
@given(_flow_sets, st.integers(1, 10_000))
def test_generated_valid_suites_round_trip(flows: dict[str, int], rate: int) -> None:
    data = _suite(flows, rate)
    suite = load_suite_text(yaml.safe_dump(data, sort_keys=False), threshold_parser=None)
    assert {name: len(flow.steps) for name, flow in suite.flows.items()} == flows
    workload = suite.workloads["w"]
    assert workload.executor == "constant-arrival-rate"
    assert workload.rate == rate
    assert set(workload.mix) == set(flows)


@settings(max_examples=40)
@given(_flow_sets, st.data())
def test_a_bad_key_is_reported_at_its_line(flows: dict[str, int], data: st.DataObject) -> None:
    suite = _suite(flows, 5)
    flow = data.draw(st.sampled_from(sorted(flows)))
    step = data.draw(st.integers(0, flows[flow] - 1))
    suite["flows"][flow]["steps"][step]["chekc"] = {"status": 200}
    text = yaml.safe_dump(suite, sort_keys=False)
    line_no = next(i for i, line in enumerate(text.splitlines(), 1) if "chekc:" in line)
    column = text.splitlines()[line_no - 1].index("chekc") + 1
    with pytest.raises(SuiteInvalid) as caught:
        load_suite_text(text, "gen.yaml", threshold_parser=None)
    assert [str(e) for e in caught.value.errors] == [
        f"gen.yaml:{line_no}:{column}: unknown field `chekc`; did you mean `check`?"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\na: 2\n", "2:1: duplicate key `a` (first at line 1)"),
        ("a: &x [*x]\n", "1:4: recursive YAML alias"),
        ("a: 1\n---\nb: 2\n", "2:1: invalid YAML: but found another document"),
        ("a:\n\t- 1\n", "2:1: invalid YAML: found character '\\t' that cannot start any token"),
        ("? [a, b]\n: 1\n", "1:3: mapping keys must be plain names, not lists or mappings"),
        ("a: !!python/object:os.system x\n", "1:4: unknown YAML tag `!!python/object:os.system`"),
        ("a: !!int abc\n", "1:4: 'abc' is not an integer; remove the tag or fix the value"),
        ("a: 1\nb: x\x00y\n", "2:5: invalid YAML: the control character '\\x00' is not allowed"),
        ("a: " + "[" * 65 + "]" * 65 + "\n", "1:67: values are nested more than 64 levels deep"),
    ],
)
def test_structural_yaml_problems(text: str, message: str) -> None:
    with pytest.raises(SourceError) as caught:
        parse_source(text, Path("s.yaml"))
    assert any(message in str(e) for e in caught.value.errors), caught.value.errors


def test_yaml_keys_keep_their_text() -> None:
    doc = parse_source("on: 1\n200: ok\nnull: 3\n", Path("s.yaml"))
    assert doc.data == {"on": 1, "200": "ok", "null": 3}


def test_dates_stay_text() -> None:
    assert parse_source("d: 2024-01-02\n", Path("s.yaml")).data == {"d": "2024-01-02"}


def test_unreadable_inputs_are_errors_not_tracebacks(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    missing = tmp_path / "missing.yaml"
    cases = {
        missing: f"{missing}: cannot read the suite file: No such file or directory",
        tmp_path: f"{tmp_path}: cannot read the suite file: Is a directory",
        binary: f"{binary}:1:1: the file is not UTF-8 text",
    }
    for path, expected in cases.items():
        with pytest.raises(SuiteInvalid) as caught:
            load_suite(path)
        assert [str(e) for e in caught.value.errors] == [expected]


def test_read_source_labels_with_the_given_path(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("a:\n  b: [1, 2]\n")
    doc = read_source(path)
    assert doc.span(("a", "b", 1)).value == (2, 10)
    assert doc.key_or_value(("a", "b")) == (2, 3)
    assert doc.span(("a", "nope", 3)).value == (2, 3)
