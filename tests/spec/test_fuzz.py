"""The adversarial pass of issue 11, as a test: hundreds of mutated suites through the real
validation path, each ending valid or invalid with every error at file:line:col, never a
traceback, within 5 s and 200 MB; a suite that validates must also plan and compile, because
`validate` rejects everything `plan` and `run` would reject (one set of rules, applied once).

A seeded mutator (set CONTVAL_FUZZ_SEED to explore other seeds; a failure names its seed and
case) applies hostile values, YAML tags, typos, deletions and truncations to the example suite
and a minimal one, after every case named in the issue.
"""

from __future__ import annotations

import os
import random
import re
import resource
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from contval.engine.plan import plan_data, render_plan
from contval.flows import compile_program
from contval.spec import Suite, SuiteInvalid, load_suite
from tests.spec.measure import measure

EXAMPLE_DIR = Path(__file__).parents[2] / "examples" / "contoso-shoes"
SEED = int(os.environ.get("CONTVAL_FUZZ_SEED", "11"))
MUTATED = 340
CLI = [sys.executable, "-m", "contval"]

MINIMAL = """version: 1
name: mini
targets:
  shop: http://127.0.0.1:8000
flows:
  browse:
    target: shop
    steps:
      - name: home
        request: GET /
        check: {status: 200}
workloads:
  steady:
    executor: constant-vus
    vus: 2
    duration: 10s
    mix: {browse: 1}
scenarios:
  normal:
    workload: steady
    thresholds:
      - error_rate < 1%
"""

NINES = "9" * 400


def _chaos(fault: str, entry: str) -> str:
    with_fault = MINIMAL.replace(
        "targets:", f"chaos_targets:\n  host: {{host: local}}\nfaults:\n  {fault}\ntargets:", 1
    )
    return with_fault.replace("    thresholds:", f"    chaos:\n      - {entry}\n    thresholds:")


def _step(extra: str) -> str:
    return MINIMAL.replace("        check: {status: 200}", f"        {extra}")


NAMED: dict[str, str] = {
    # §1: tracebacks in validate
    "tag !!int abc": MINIMAL.replace("version: 1", "version: !!int abc"),
    "tag !!bool maybe": MINIMAL.replace("version: 1", "version: !!bool maybe"),
    "tag !!float abc": MINIMAL.replace("version: 1", "version: !!float abc"),
    "tag !!int 0x": MINIMAL.replace("version: 1", "version: !!int 0x"),
    "5000 digits": MINIMAL.replace("vus: 2", "vus: " + "9" * 5000),
    "json nested 500": _step("json: " + "{a: " * 500 + "1" + "}" * 500),
    "version nested 500": MINIMAL.replace("version: 1", "version: " + "[" * 500 + "]" * 500),
    "size of 400 nines": _chaos(f"m: {{type: memory, target: host, size: {NINES}GiB}}", "{}"),
    "regex a{99999999999}": _step("check: {json: {'$.a': {matches: 'a{99999999999}'}}}"),
    "request GET http://[::1/x": MINIMAL.replace("request: GET /", "request: GET http://[::1/x"),
    # §2: accepted by validate, crashing later
    "mix weight .inf": MINIMAL.replace("mix: {browse: 1}", "mix: {browse: .inf}"),
    "duration of 400 nines": MINIMAL.replace("duration: 10s", f"duration: {NINES}s"),
    "chaos at: true": _chaos(
        "m: {type: memory, target: host, size: 1MiB}", "{fault: m, at: true, for: 2s}"
    ),
    "port 0": MINIMAL.replace("8000", "0"),
    # §6 and issue 10 §4
    "static Host header": _step("headers: {Host: evil.example}"),
    "templated host header": _step("headers: {host: '{{ vars.h }}'}").replace(
        "flows:", "variables: {h: x}\nflows:"
    ),
    "CRLF in a header value": _step('headers: {X-A: "a\\r\\nInjected: 1"}'),
    "threshold on flow slwo": MINIMAL.replace("- error_rate < 1%", "- slwo: error_rate < 1%"),
}

_HOSTILE: tuple[Any, ...] = (
    None, True, False, 0, -1, 1e308, float("inf"), float("nan"), "", " ", "~", [], {},
    int("9" * 300), "9" * 5000, NINES + "s", NINES + "/s", NINES + "%", NINES + "GiB",
    "1e400s", "-1s", "0s", "1h1h", "500ms..2s", "2s..500ms", "a{99999999999}", "(a*)*b", "[",
    "http://[::1", "http://h:0", "http://h:99999", "http://h/?q=1#f", "GET http://[::1/x",
    "GET http://evil.example/", "GET /{{ nope }}", "GET /{{", "{{ data.x.y }}", "a\r\nb",
    "\x00", "\x1b[31m", "\u202e", "é" * 50, "x" * 2000, "Host", "/proc/self/environ",
    "/etc/shadow", "../../../../etc/passwd", "/dev/zero", "slwo: error_rate < 1%",
    "browse/nope: p95(latency) < 1s", "p95(latency) < baseline + 10%", "error_rate <",
    {"a": {"a": {"a": {"a": 1}}}}, [[[[[]]]]], {"Host": "x"}, {"X-A": "a\nb"},
)  # fmt: skip
_TAGS = ("!!int", "!!bool", "!!float", "!!null", "!!binary", "!!str", "!!timestamp", "!nope",
         "!!python/object:os.system", "!!set", "!!omap")  # fmt: skip
_SCALAR_LINE = re.compile(r"^(\s*(?:- )?[\w.-]+:\s+)([^\s{\[#][^#\n]*)$")


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _paths(value, (*prefix, index))


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    data[path[0]] = _set(data[path[0]], path[1:], value)
    return data


def _load(text: str) -> Any:
    """The data of `text` for a data-level mutation, or None when earlier ones broke it."""
    try:
        return yaml.safe_load(text)
    except Exception:  # PyYAML's own constructors raise anything on tagged junk
        return None


def _replace_value(rng: random.Random, text: str) -> str:
    data = _load(text)
    paths = list(_paths(data))[1:]
    if not paths:
        return _bytes(rng, text)
    path = rng.choice(paths)
    return yaml.safe_dump(_set(data, path, rng.choice(_HOSTILE)), sort_keys=False, width=10_000)


def _typo_key(rng: random.Random, text: str) -> str:
    data = _load(text)
    keyed = [p for p in _paths(data) if p and isinstance(p[-1], str) and p[-1]]
    if not keyed:
        return _bytes(rng, text)
    path = rng.choice(keyed)
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    name = path[-1]
    cut = rng.randrange(len(name))
    parent[name[:cut] + name[cut + 1 :] + rng.choice(["", "x", "_"])] = parent.pop(name)
    return yaml.safe_dump(data, sort_keys=False, width=10_000)


def _tag_scalar(rng: random.Random, text: str) -> str:
    lines = text.splitlines()
    candidates = [i for i, line in enumerate(lines) if _SCALAR_LINE.match(line)]
    if not candidates:
        return _bytes(rng, text)
    index = rng.choice(candidates)
    match = _SCALAR_LINE.match(lines[index])
    assert match is not None
    lines[index] = f"{match[1]}{rng.choice(_TAGS)} {match[2]}"
    return "\n".join(lines) + "\n"


def _raw_value(rng: random.Random, text: str) -> str:
    """A hostile value written as YAML text, as a person (or an attacker) would type it."""
    lines = text.splitlines()
    candidates = [i for i, line in enumerate(lines) if _SCALAR_LINE.match(line)]
    if not candidates:
        return _bytes(rng, text)
    index = rng.choice(candidates)
    match = _SCALAR_LINE.match(lines[index])
    assert match is not None
    raw = rng.choice(
        [".inf", "-.inf", ".nan", "0x", "0o9", "1_000", "!!int 0x", "*undefined", "&a x",
         "'unterminated", "[" * 100, "{a: " * 70 + "1" + "}" * 70, NINES, "9" * 5000,
         "true", "~", "@x", "`x`", "%x", "'\\x00'", '"\\r\\n"', '"\\u0000"']
    )  # fmt: skip
    lines[index] = f"{match[1]}{raw}"
    return "\n".join(lines) + "\n"


def _cut(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    op = rng.randrange(3)
    i = rng.randrange(len(lines))
    if op == 0:
        return text[: rng.randrange(len(text))]
    if op == 1:
        return "".join(lines[:i] + lines[i + 1 :])
    return "".join([*lines[:i], lines[i], lines[i], *lines[i + 1 :]])


def _bytes(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text) + 1)
    noise = "".join(rng.choice("\t\x00\x1b\r\n:{}[]&*!|>'\"#%@`-?,é\u202e ") for _ in range(4))
    return text[:at] + noise + text[at:]


MUTATORS: tuple[Callable[[random.Random, str], str], ...] = (
    _replace_value, _replace_value, _replace_value, _typo_key, _tag_scalar, _raw_value,
    _raw_value, _cut, _bytes,
)  # fmt: skip


def _cases() -> list[tuple[str, str]]:
    rng = random.Random(SEED)
    bases = [(EXAMPLE_DIR / "suite.yaml").read_text(), MINIMAL]
    cases = list(NAMED.items())
    for index in range(MUTATED):
        text = rng.choice(bases)
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            mutate = rng.choice(MUTATORS)
            text = mutate(rng, text)
        cases.append((f"seed {SEED} case {index} ({mutate.__name__})", text))
    return cases


def _error_lines_ok(path: Path, exc: SuiteInvalid) -> None:
    assert exc.errors
    line = re.compile(rf"{re.escape(str(path))}:\d+:\d+: \S")
    for error in exc.errors:
        text = str(error)
        assert line.match(text), text
        assert "\n" not in text and "Traceback" not in text, text


def _usable(suite: Suite) -> None:
    """What `plan` and `run` do with a valid suite before any load: it must not raise."""
    plan_data(suite, None, 1)
    render_plan(suite, None, 2)
    compile_program(suite, worker=0, workers=1, seed=1)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_mutated_suites_end_valid_or_with_located_errors(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE_DIR / "customers.csv", tmp_path / "customers.csv")
    path = tmp_path / "suite.yaml"
    cases = _cases()
    assert len(cases) >= 300 + len(NAMED)
    outcomes = {"valid": 0, "invalid": 0}
    baseline = _rss_mb()
    for name, text in cases:
        path.write_text(text)
        started = time.perf_counter()
        try:
            _usable(load_suite(path))
            outcomes["valid"] += 1
        except SuiteInvalid as exc:
            _error_lines_ok(path, exc)
            outcomes["invalid"] += 1
        except Exception as exc:  # the point of the test: name the case that escaped
            pytest.fail(f"{name}: {type(exc).__name__}: {exc}\n--- suite ---\n{text[:2000]}")
        elapsed = time.perf_counter() - started
        assert elapsed < 5, f"{name} took {elapsed:.1f} s"
        assert _rss_mb() - baseline < 200, f"{name} grew the process past 200 MB"
    assert outcomes["invalid"] >= 200  # the mutations bite: most cases must be refused
    assert outcomes["valid"] >= 1


@pytest.mark.parametrize("name", NAMED)
def test_every_named_case_is_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(NAMED[name])
    with pytest.raises(SuiteInvalid) as caught:
        load_suite(path)
    _error_lines_ok(path, caught.value)


@pytest.mark.parametrize(
    "name", ["tag !!bool maybe", "5000 digits", "version nested 500", "mix weight .inf"]
)
def test_the_real_command_exits_two_within_limits(tmp_path: Path, name: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(NAMED[name])
    done = measure([*CLI, "validate", str(path)])
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    *errors, summary = done.stderr.splitlines()
    assert summary == f"{len(errors)} error{'s' if len(errors) > 1 else ''} in {path}"
    assert all(re.match(rf"{re.escape(str(path))}:\d+:\d+: \S", e) for e in errors), errors
    assert done.seconds < 5
    assert done.max_rss_mb < 200


def test_a_mutated_suite_through_the_real_command(tmp_path: Path) -> None:
    """The in-process path is the command's path: one mutated case agrees exit code for code."""
    shutil.copy(EXAMPLE_DIR / "customers.csv", tmp_path / "customers.csv")
    path = tmp_path / "suite.yaml"
    name, text = _cases()[len(NAMED) + 7]
    path.write_text(text)
    try:
        load_suite(path)
        expected = 0
    except SuiteInvalid:
        expected = 2
    done = measure([*CLI, "validate", str(path)])
    assert done.returncode == expected, (name, done.stderr)
    assert "Traceback" not in done.stderr
