"""`python: module:function` steps against a real app: what the function gets, what it returns,
async functions, `Stop`, and every way it can go wrong counted as `SCRIPT_ERROR`, never a crash;
validation imports the module from the suite's folder and refuses what would not run."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from contval.flows import compile_program
from contval.http import Client, now
from contval.spec import Suite, SuiteInvalid, load_suite_text
from tests.flows.conftest import SEEN, Harness, counts, harness, options

pytestmark = pytest.mark.anyio

MODULE = """
import asyncio
import hashlib
import hmac

from contval.flows import Stop


def sign(variables):
    key = variables["secrets.key"].encode()
    text = f"{variables['first']}/{variables['vars.shop']}"
    return {"signature": hmac.new(key, text.encode(), hashlib.sha256).hexdigest()}


async def later(variables):
    await asyncio.sleep(0)
    return {"doubled": variables["count"] * 2, "seen": sorted(variables)}


def nothing(variables):
    return None


def boom(variables):
    raise ValueError("no key for " + variables["secrets.key"])


def listed(variables):
    return [1, 2]


def stranger(variables):
    return {"other": 1}


def raw(variables):
    return {"signature": b"bytes"}


def stop(variables):
    raise Stop()


def readonly(variables):
    variables["first"] = 9
"""


ITEMS = """\
- name: items
  request: GET /items
  extract: {first: {json: "$.items[0].id"}, count: {json: "$.count"}}
"""


def _with_secret(tmp: Path, url: str, steps: str) -> Suite:
    """A suite with `vars.shop` and `secrets.key` declared, and `scripts_here.py` beside it."""
    (tmp / "scripts_here.py").write_text(MODULE)
    flows = "f:\n  target: app\n  steps:\n" + textwrap.indent(textwrap.dedent(steps), "    ")
    text = "\n".join(
        [
            "version: 1",
            "name: t",
            f"targets: {{app: '{url}'}}",
            "variables: {shop: north}",
            "secrets: {key: {env: CONTVAL_TEST_KEY}}",
            "flows:",
            textwrap.indent(flows, "  "),
            "workloads: {w: {executor: constant-vus, vus: 1, duration: 1s, mix: {f: 1}}}",
            "scenarios: {s: {workload: w}}",
        ]
    )
    return load_suite_text(
        text,
        tmp / "suite.yaml",
        threshold_parser=None,
        environ={"CONTVAL_TEST_KEY": "k3y-s3cret"},
    )


async def _run(suite: Suite, times: int = 1) -> tuple[list[bool], Harness]:
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        results = [await h.runner.run("f", now()) for _ in range(times)]
    return results, h


async def test_a_step_signs_with_extracted_values_vars_and_secrets(
    app_url: str, tmp_path: Path
) -> None:
    steps = (
        ITEMS
        + """\
- name: sign
  python: scripts_here:sign
  sets: [signature]
- name: send
  request: POST /record/signed
  headers: {X-Signature: "{{ signature }}"}
  check: {status: 201}
"""
    )
    suite = _with_secret(tmp_path, app_url, steps)
    (ok,), h = await _run(suite)
    expected = hmac.new(b"k3y-s3cret", b"1/north", hashlib.sha256).hexdigest()
    assert ok is True
    assert SEEN.requests[0][2]["x-signature"] == expected
    sign = h.slot("f", "sign")
    assert counts(sign) == {"requests": 0, "errors": {}, "checks": (0, 0)}
    taken = sign.take()
    assert taken is not None and taken.duration is not None  # the function's time is kept


async def test_an_async_step_is_awaited_and_sees_only_set_variables(
    app_url: str, tmp_path: Path
) -> None:
    steps = (
        ITEMS
        + """\
- name: later
  python: scripts_here:later
  sets: [doubled, seen]
- name: send
  request: POST /record/x
  json: {doubled: "{{ doubled }}", seen: "{{ seen }}"}
"""
    )
    suite = _with_secret(tmp_path, app_url, steps)
    (ok,), _ = await _run(suite)
    assert ok is True
    body = json.loads(SEEN.requests[0][3])
    assert body["doubled"] == 6  # 3 * 2, its JSON type kept
    # Variables with a value (`doubled` and `seen` are not set yet), then vars and secrets.
    assert body["seen"] == ["count", "first", "secrets.key", "vars.shop"]


@pytest.mark.parametrize(
    ("function", "expected", "actual"),
    [
        ("boom", "no error", "ValueError: no key for ***"),  # the secret is redacted
        ("listed", "a dict of its `sets:` variables, or None", "returned a value of type list"),
        (
            "stranger",
            "a dict of its `sets:` variables, or None",
            "returned `other`, which `sets:` does not declare (it declares `signature`)",
        ),
        (
            "raw",
            "a dict of its `sets:` variables, or None",
            "returned `signature` of type bytes; a variable holds a str, int, float, bool,"
            " None, list or dict",
        ),
        ("readonly", "no error", "TypeError: 'Variables' object does not support item assignment"),
    ],
)
async def test_a_step_that_fails_is_a_script_error_and_ends_the_iteration(
    app_url: str, tmp_path: Path, function: str, expected: str, actual: str
) -> None:
    steps = (
        ITEMS
        + f"""\
- name: script
  python: scripts_here:{function}
  sets: [signature]
- name: send
  request: POST /record/never
"""
    )
    suite = _with_secret(tmp_path, app_url, steps)
    results, h = await _run(suite, times=3)
    assert results == [False, False, False]
    script = h.slot("f", "script")
    assert counts(script) == {"requests": 3, "errors": {"SCRIPT_ERROR": 3}, "checks": (0, 0)}
    assert script.failures == {(f"python scripts_here:{function}", expected, actual): 3}
    assert h.slot("f", "send").not_reached == 3
    assert [path for _, path, _, _ in SEEN.requests] == []  # /items is not recorded; no send


async def test_none_sets_nothing_and_stop_ends_the_iteration_as_a_success(
    app_url: str, tmp_path: Path
) -> None:
    steps = """\
- name: nothing
  python: scripts_here:nothing
- name: first
  request: POST /record/first
- name: stop
  python: scripts_here:stop
- name: after
  request: POST /record/after
"""
    suite = _with_secret(tmp_path, app_url, steps)
    results, h = await _run(suite, times=2)
    assert results == [True, True]
    assert [path for _, path, _, _ in SEEN.requests] == ["/record/first"] * 2
    after = h.slot("f", "after")
    assert (after.requests, after.not_reached) == (0, 0)  # not run, and nothing failed
    flow = h.slot("f")
    assert flow.iterations == 2 and not any(flow.errors)


def _invalid(tmp: Path, step: str, module: str | None = MODULE) -> list[str]:
    if module is not None:
        (tmp / "scripts_here.py").write_text(module)
    text = textwrap.dedent(
        """\
        version: 1
        name: t
        targets: {app: 'http://127.0.0.1:9'}
        flows:
          f:
            target: app
            steps:
        """
    ) + textwrap.indent(textwrap.dedent(step), "      ")
    text += "workloads: {w: {executor: constant-vus, vus: 1, duration: 1s, mix: {f: 1}}}\n"
    text += "scenarios: {s: {workload: w}}\n"
    with pytest.raises(SuiteInvalid) as raised:
        load_suite_text(text, tmp / "suite.yaml", threshold_parser=None)
    return [str(error).replace(str(tmp), "TMP") for error in raised.value.errors]


@pytest.mark.parametrize(
    ("step", "module", "message"),
    [
        (
            "python: scripts_here:sing",
            MODULE,
            "9:17: module `scripts_here` has no function `sing`; did you mean `sign`?",
        ),
        (
            "python: nowhere_at_all:sign",
            None,
            "9:17: no module `nowhere_at_all` in the suite's folder (TMP) or"
            " sys.path; put `nowhere_at_all.py` next to the suite file",
        ),
        (
            "python: scripts_here.sign",
            None,
            "9:17: `scripts_here.sign` is not `module:function` (e.g."
            " `signing:sign` for the function `sign` in `signing.py` next to the suite file)",
        ),
        (
            "python: scripts_here:two",
            "def two(a, b):\n    return None\n",
            "9:17: `scripts_here:two` takes (a, b); a python step's function takes"
            " one argument, the iteration's variables: `def two(variables):` (or `async def`)",
        ),
        (
            "python: scripts_here:f",
            "x = 1 +\n",
            "9:17: module `scripts_here` does not import: SyntaxError: invalid"
            " syntax (scripts_here.py, line 1)",
        ),
        (
            "python: scripts_here:f",
            "import sys\nsys.exit(3)\n",
            "9:17: module `scripts_here` does not import: SystemExit: 3",
        ),
        (
            "python: scripts_here:VALUE",
            "VALUE = 3\n",
            "9:17: `scripts_here:VALUE` is of type int, not a function",
        ),
        (
            "python: json:dumps\n  sets: [a, a]",
            None,
            "10:15: `a` is listed twice",
        ),
    ],
)
def test_validation_refuses_what_would_not_run(
    tmp_path: Path, step: str, module: str | None, message: str
) -> None:
    errors = _invalid(tmp_path, "- name: s\n  " + step + "\n", module)
    assert [e.split("suite.yaml:", 1)[1] for e in errors] == [message]


def test_a_variable_no_step_sets_is_refused_and_sys_path_modules_are_found(
    tmp_path: Path,
) -> None:
    step = """\
    - name: s
      python: json:dumps
      sets: [a]
    - name: r
      request: GET /{{ a }}/{{ b }}
    """
    errors = _invalid(tmp_path, step, None)
    assert len(errors) == 1 and "template uses `b`, which no earlier step extracts" in errors[0]


def test_a_suite_module_never_replaces_a_module_python_already_uses(tmp_path: Path) -> None:
    (tmp_path / "json.py").write_text("def dumps(variables):\n    return None\n")
    errors = _invalid(tmp_path, "- name: s\n  python: json:dumps\n", None)
    assert errors[0].endswith(
        "`json` in the suite's folder (TMP) has the name of the module `json` Python already"
        " uses; rename the file"
    )


def test_two_suites_with_a_module_of_the_same_name_each_get_their_own(tmp_path: Path) -> None:
    for name, other in (("one", "two"), ("two", "one")):
        folder = tmp_path / name
        folder.mkdir()
        module = f"def only_{name}(variables):\n    return None\n"
        errors = _invalid(folder, f"- name: s\n  python: scripts_here:only_{other}\n", module)
        assert errors[0].endswith(f"has no function `only_{other}`; did you mean `only_{name}`?")


RUN_SUITE = """\
version: 1
name: python-steps
targets: {{app: '{app}'}}
flows:
  f:
    target: app
    steps:
      - name: items
        request: GET /items
        extract: {{count: {{json: "$.count"}}}}
      - name: script
        python: steps_for_run:pick
        sets: [path]
      - name: send
        request: GET /record/{{{{ path }}}}
        check: {{status: 201}}
workloads:
  w: {{executor: constant-vus, vus: 2, duration: 1s, mix: {{f: 1}}}}
scenarios:
  s:
    workload: w
    thresholds: ["f: error_rate > 10%"]
"""

RUN_MODULE = """\
import itertools

_n = itertools.count()


async def pick(variables):
    n = next(_n)
    if n % 2:
        raise RuntimeError(f"odd call {n % 2}")
    return {"path": f"even-{variables['count']}"}
"""


def test_contval_run_imports_the_module_in_every_worker(app_url: str, tmp_path: Path) -> None:
    """Workers are spawned processes: each imports the module by its path, none gets a
    function object; half the calls raise, and the run goes on."""
    (tmp_path / "steps_for_run.py").write_text(RUN_MODULE)
    suite = tmp_path / "suite.yaml"
    suite.write_text(RUN_SUITE.format(app=app_url))
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "contval", "run", str(suite)),
            *("--out", str(tmp_path / "out"), "--workers", "2", "--no-history"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=tmp_path.parent,  # the module is found next to the suite, not in the cwd
        env={**env, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    (scenario,) = result["scenarios"]
    steps = scenario["flows"]["f"]["steps"]
    assert list(steps) == ["items", "script", "send"]
    script, send = steps["script"], steps["send"]
    assert script["errors"] == script["requests"] > 5
    assert script["failures"] == [
        {
            "condition": "python steps_for_run:pick",
            "expected": "no error",
            "actual": "RuntimeError: odd call 1",
            "count": script["errors"],
        }
    ]
    assert send["not_reached"] == script["errors"]
    assert send["errors"] == 0 and abs(send["requests"] - script["errors"]) <= 2
    assert scenario["totals"]["errors_by_class"]["script_error"] == script["errors"]
    assert {path for _, path, _, _ in SEEN.requests} == {"/record/even-3"}
