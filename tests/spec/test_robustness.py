"""Whatever the input, validation ends in a `Suite` or `SuiteInvalid`: never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contval.spec import Suite, SuiteInvalid, load_suite_text

EXAMPLE = Path(__file__).parents[2] / "examples" / "contoso-shoes" / "suite.yaml"
_BASE: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())

_words = st.sampled_from(
    ["steps", "request", "think", "include", "poll", "until", "executor", "rate", "mix", "json",
     "status", "extract", "stages", "to", "over", "target", "kind", "data", "csv", "x"]
)  # fmt: skip
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["GET /", "1s", "50/s", "{{ x }}", "shop", "constant-vus", "$.id", "", "-1s"]),
)
_values = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(_words, inner, max_size=3)
    ),
    max_leaves=10,
)


def _outcome(text: str) -> str:
    try:
        load_suite_text(text, EXAMPLE, threshold_parser=None)
    except SuiteInvalid as exc:
        assert exc.errors
        assert all(str(e).startswith(str(EXAMPLE)) for e in exc.errors)
        return "invalid"
    return "valid"


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(_BASE)), _values)
def test_replacing_a_section_never_crashes(section: str, value: Any) -> None:
    mutated = {**_BASE, section: value}
    _outcome(yaml.safe_dump(mutated, sort_keys=False))


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(_BASE["flows"])), st.integers(0, 2), _words, _values)
def test_mutating_a_step_never_crashes(flow: str, index: int, key: str, value: Any) -> None:
    flows = {name: dict(body) for name, body in _BASE["flows"].items()}
    steps = [dict(step) for step in flows[flow]["steps"]]
    steps[index % len(steps)][key] = value
    flows[flow]["steps"] = steps
    _outcome(yaml.safe_dump({**_BASE, "flows": flows}, sort_keys=False))


@settings(max_examples=80)
@given(st.text(max_size=60))
def test_arbitrary_text_never_crashes(text: str) -> None:
    _outcome(text)


def test_unmodified_example_is_valid() -> None:
    assert _outcome(EXAMPLE.read_text()) == "valid"
    assert isinstance(load_suite_text(EXAMPLE.read_text(), EXAMPLE), Suite)


def test_the_installed_command_exits_two_on_a_bad_suite(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    done = subprocess.run(
        [sys.executable, "-c", "from contval.cli import main; main()", "validate", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines()[-1] == f"1 error in {bad}"
    assert "Traceback" not in done.stderr
