"""Cross-reference rules and the threshold-parser hook, on small suites written inline."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from contval.spec import (
    ConstantVus,
    RampingVus,
    Suite,
    SuiteError,
    SuiteInvalid,
    find_threshold_parser,
    load_suite_text,
)

HEAD = """\
version: 1
name: mini
targets:
  shop: http://127.0.0.1:8000
  api: https://api.example.com
variables:
  size: 5
flows:
"""
TAIL = """\
workloads:
  w:
    executor: constant-vus
    vus: 3
    duration: 30s
    mix: {a: 1}
scenarios:
  s:
    workload: w
    thresholds:
      - error_rate < 1%
      - a/x: p95(latency) < 2s
"""


def _load(flows: str, tail: str = TAIL, **kwargs: object) -> Suite:
    text = HEAD + textwrap.indent(textwrap.dedent(flows), "  ") + tail
    return load_suite_text(text, "t.yaml", **kwargs)  # type: ignore[arg-type]


def _errors(flows: str, tail: str = TAIL, **kwargs: object) -> list[str]:
    with pytest.raises(SuiteInvalid) as caught:
        _load(flows, tail, threshold_parser=None, **kwargs)
    return [str(e) for e in caught.value.errors]


def test_absolute_urls_on_declared_targets_are_allowed() -> None:
    suite = _load(
        """\
        a:
          target: shop
          steps:
            - {name: x, request: "GET https://api.example.com:443/v1/items"}
            - {name: y, request: "GET http://127.0.0.1:8000/"}
        """,
        threshold_parser=None,
    )
    assert suite.flows["a"].steps[0].request.is_absolute  # type: ignore[union-attr]


def test_a_declared_host_on_another_port_is_refused() -> None:
    errors = _errors(
        """\
        a:
          target: shop
          steps:
            - {name: x, request: "GET http://127.0.0.1:9000/"}
        """
    )
    assert errors == [
        "t.yaml:12:28: refused: `127.0.0.1:9000` is not a declared target; load only goes to "
        "hosts under `targets` (`http://127.0.0.1:8000`, `https://api.example.com`)"
    ]


def test_included_flow_variables_are_visible_after_the_include() -> None:
    suite = _load(
        """\
        a:
          target: shop
          steps:
            - include: b
            - {name: x, request: "GET /carts/{{ cart }}", headers: {X-Cart: "{{ cart }}"}}
        b:
          target: shop
          steps:
            - name: make
              request: POST /carts
              extract: {cart: {json: $.id}}
        """,
        threshold_parser=None,
    )
    assert list(suite.flows) == ["a", "b"]


def test_templates_in_bodies_and_headers_are_checked_at_their_column() -> None:
    errors = _errors(
        """\
        a:
          target: shop
          steps:
            - name: x
              request: POST /items
              headers: {X-Size: "{{ vars.sise }}"}
              json: {items: [{id: "{{ id }}"}], limit: "{{ vars.size }}"}
        """
    )
    assert errors == [
        "t.yaml:14:28: template uses `vars.sise`, which is not defined under `variables`; "
        "did you mean `vars.size`?",
        "t.yaml:15:30: template uses `id`, which no earlier step extracts "
        "(use `extract:` in an earlier step or an included flow)",
    ]


def test_bare_name_that_is_a_variable_suggests_vars_prefix() -> None:
    errors = _errors(
        """\
        a:
          target: shop
          steps:
            - {name: x, request: "GET /items?n={{ size }}"}
        """
    )
    assert errors[0].endswith("did you mean `vars.size`?")


def test_malformed_template_expressions() -> None:
    errors = _errors(
        """\
        a:
          target: shop
          steps:
            - {name: x, request: "GET /{{ vars.a.b }}/{{ envs.HOME }}/{{ 1x }}/{{ env.A.B }}"}
        """
    )
    expected = (
        "expected `vars.NAME`, `data.FEEDER.COLUMN`, `env.NAME`, `secrets.NAME` "
        "or the name of an extracted variable"
    )
    assert [e.split(": ", 1)[1] for e in errors] == [
        "`vars.a.b` should be `vars.NAME`",
        f"unknown template reference `envs.HOME`; {expected}",
        f"invalid template `{{{{ 1x }}}}`; {expected}",
        "`env.A.B` should be `env.NAME`",
    ]


def test_self_include_is_a_cycle() -> None:
    errors = _errors(
        """\
        a:
          target: shop
          steps:
            - include: a
        """
    )
    assert errors == ["t.yaml:12:18: include cycle: a → a"]


def test_closed_model_executors() -> None:
    tail = TAIL.replace(
        "  w:\n",
        "  r:\n    executor: ramping-vus\n    stages: [{to: 10, over: 1m}]\n"
        "    mix: {a: 2}\n  w:\n",
    )
    suite = _load("a: {target: shop, steps: [{think: 1s}]}\n", tail, threshold_parser=None)
    ramp, constant = suite.workloads["r"], suite.workloads["w"]
    assert isinstance(ramp, RampingVus) and ramp.start_vus == 0
    assert [(s.to, s.over) for s in ramp.stages] == [(10, 60.0)]
    assert isinstance(constant, ConstantVus) and (constant.vus, constant.duration) == (3, 30.0)


class FakeThresholdError(ValueError):
    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message}\n  with a caret drawing")
        self.message = message
        self.column = column


def _reject_p95(text: str) -> object:
    if "p95" in text:
        raise FakeThresholdError("unknown aggregate", text.index("p95") + 1)
    if "error_rate" in text:
        raise ValueError("no column here")
    return text


def test_threshold_hook_maps_columns_into_the_file() -> None:
    with pytest.raises(SuiteInvalid) as caught:
        _load("a: {target: shop, steps: [{think: 1s}]}\n", threshold_parser=_reject_p95)
    assert [str(e) for e in caught.value.errors] == [
        "t.yaml:20:9: invalid threshold 'error_rate < 1%': no column here",
        "t.yaml:21:14: invalid threshold 'a/x: p95(latency) < 2s': unknown aggregate",
    ]


def test_threshold_hook_is_skipped_with_none() -> None:
    suite = _load("a: {target: shop, steps: [{think: 1s}]}\n", threshold_parser=None)
    assert suite.scenarios["s"].thresholds == ("error_rate < 1%", "a/x: p95(latency) < 2s")


def test_threshold_parser_is_found_when_the_package_provides_it() -> None:
    parser = find_threshold_parser()
    try:
        from contval.thresholds import parse_threshold
    except ImportError:
        assert parser is None
    else:
        assert parser is parse_threshold


def test_suite_error_without_position_formats_as_file_message() -> None:
    assert str(SuiteError("x.yaml", None, "boom")) == "x.yaml: boom"


def test_csv_paths_resolve_against_the_suite_file(tmp_path: Path) -> None:
    (tmp_path / "people.csv").write_text("email\na@b.c\n")
    text = (HEAD + "  a: {target: shop, steps: [{think: 1s}]}\n" + TAIL).replace(
        "flows:", "data:\n  people: {csv: people.csv, order: unique}\nflows:"
    )
    suite = load_suite_text(text, tmp_path / "suite.yaml", threshold_parser=None)
    assert suite.data["people"].csv == tmp_path / "people.csv"
    assert suite.data["people"].order == "unique"
