"""`--no-python`: a suite from an untrusted source is validated (and planned) without importing
the modules of its `python:` steps, so none of its code runs; everything else is checked as
always, and `contval run` refuses such a suite rather than run code it was told not to."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from contval.exitcodes import ExitCode
from contval.spec import SuiteInvalid, load_suite_text, python_steps
from tests.engine.target import Target

CLI = [sys.executable, "-m", "contval"]

SUITE = """\
version: 1
name: untrusted
targets: {{app: '{url}'}}
flows:
  pay:
    target: app
    setup:
      - name: login
        python: {module}:login
    steps:
      - name: sign
        python: {module}:sign
        sets: [signature]
      - name: send
        request: GET /ok?s={{{{ signature }}}}
workloads: {{w: {{executor: constant-vus, vus: 1, duration: 1s, mix: {{pay: 1}}}}}}
scenarios: {{s: {{workload: w}}}}
"""

MODULE = """\
from pathlib import Path

Path(__file__).with_name("imported.marker").write_text("the module's top level ran")


def login(variables):
    return None


def sign(variables):
    return {"signature": "abc"}
"""


def _suite(tmp_path: Path, module: str = "signing", url: str = "http://127.0.0.1:9") -> Path:
    (tmp_path / "signing.py").write_text(MODULE)
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE.format(url=url, module=module))
    return path


def _contval(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


NOTE = "note: 2 python steps not imported (--no-python): pay/login, pay/sign"


def test_validate_and_plan_never_import_the_module_and_say_so(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    marker = tmp_path / "imported.marker"
    checked = _contval("validate", "--no-python", suite)
    assert checked.returncode == ExitCode.OK, checked.stderr
    assert checked.stdout.splitlines()[0] == "suite `untrusted` is valid"
    assert NOTE in checked.stdout.splitlines()
    planned = _contval("plan", suite, "--no-python", "--json", "--workers", "1")
    assert planned.returncode == ExitCode.OK, planned.stderr
    assert planned.stdout.startswith("{") and planned.stderr.strip() == NOTE
    assert not marker.exists()
    imported = _contval("validate", suite)  # without the flag, validation imports it
    assert imported.returncode == ExitCode.OK, imported.stderr
    assert "not imported" not in imported.stdout
    assert marker.read_text() == "the module's top level ran"


def test_a_missing_module_passes_only_with_no_python(tmp_path: Path) -> None:
    suite = _suite(tmp_path, module="nowhere_to_be_found")
    checked = _contval("validate", suite, "--no-python")
    assert checked.returncode == ExitCode.OK, checked.stderr
    assert (
        "note: 2 python steps not imported (--no-python): pay/login, pay/sign"
        in checked.stdout.splitlines()
    )
    refused = _contval("validate", suite)
    assert refused.returncode == ExitCode.INVALID_INPUT
    assert refused.stderr.splitlines() == [
        f"{suite}:9:17: no module `nowhere_to_be_found` in the suite's folder ({tmp_path}) or"
        " sys.path; put `nowhere_to_be_found.py` next to the suite file",
        f"{suite}:12:17: no module `nowhere_to_be_found` in the suite's folder ({tmp_path}) or"
        " sys.path; put `nowhere_to_be_found.py` next to the suite file",
        f"2 errors in {suite}",
    ]


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            "- name: s\n  python: signing.sign\n",
            "9:17: `signing.sign` is not `module:function` (e.g. `signing:sign` for the function"
            " `sign` in `signing.py` next to the suite file)",
        ),
        ("- name: s\n  python: signing:sign\n  sets: [a, a]\n", "10:15: `a` is listed twice"),
        (
            "- name: s\n  python: signing:sign\n  sets: [1a]\n",
            "10:16: invalid item 1 of `sets` '1a': variable names use letters, digits and `_`,"
            " and do not start with a digit",
        ),
        (
            "- name: s\n  python: signing:sign\n  sets: [a]\n- name: r\n  request: GET /{{ b }}\n",
            "template uses `b`, which no earlier step extracts",
        ),
    ],
)
def test_everything_else_is_still_checked(tmp_path: Path, step: str, message: str) -> None:
    (tmp_path / "signing.py").write_text(MODULE)
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
    ) + textwrap.indent(step, "      ")
    text += "workloads: {w: {executor: constant-vus, vus: 1, duration: 1s, mix: {f: 1}}}\n"
    text += "scenarios: {s: {workload: w}}\n"
    with pytest.raises(SuiteInvalid) as raised:
        load_suite_text(text, tmp_path / "suite.yaml", threshold_parser=None, import_python=False)
    (error,) = raised.value.errors
    assert message in str(error)
    assert not (tmp_path / "imported.marker").exists()


def test_a_suite_loaded_without_python_lists_its_python_steps(tmp_path: Path) -> None:
    suite = load_suite_text(
        SUITE.format(url="http://127.0.0.1:9", module="absent_module"),
        tmp_path / "suite.yaml",
        import_python=False,
    )
    assert python_steps(suite) == ["pay/login", "pay/sign"]


def test_run_refuses_python_steps_with_no_python_and_runs_a_suite_without_them(
    tmp_path: Path, target: Target
) -> None:
    suite = _suite(tmp_path, url=target.url)
    out = tmp_path / "out"
    refused = _contval("run", suite, "--no-python", "--out", out, "--no-history")
    assert refused.returncode == ExitCode.INVALID_INPUT
    assert refused.stderr.splitlines() == [
        f"error: {suite} has 2 python step(s) (pay/login, pay/sign), which cannot run without"
        " importing their modules; --no-python runs no code of the suite"
    ]
    assert refused.stdout == "" and not out.exists() and target.seen.requests == 0
    assert not (tmp_path / "imported.marker").exists()
    plain = tmp_path / "plain.yaml"
    text = suite.read_text().replace("      - name: sign\n        python: signing:sign\n", "")
    text = text.replace("        sets: [signature]\n", "").replace("?s={{ signature }}", "")
    plain.write_text(
        text.replace("    setup:\n      - name: login\n        python: signing:login\n", "")
    )
    ran = _contval(
        "run", plain, "--no-python", "--out", out, "--no-history", "--workers", "1",
        "--allow-ungated",
    )  # fmt: skip
    assert ran.returncode == ExitCode.OK, ran.stdout + ran.stderr
    assert target.seen.requests == target.seen.paths["/ok"] > 0
    assert not (tmp_path / "imported.marker").exists()
