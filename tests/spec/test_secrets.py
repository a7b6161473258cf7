"""`{{ env.NAME }}`, `secrets:` and `--env-file`: unset variables are located validation errors
naming them; loaded values are folded into requests and known as secrets unless public."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest

from contval.flows import compile_program
from contval.spec import SuiteInvalid, load_suite
from contval.spec.secrets import EnvFileError, Redactor, environment_with, read_env_file

SUITE = """\
version: 1
name: env
targets:
  app: http://127.0.0.1:9
secrets:
  password: {env: SHOP_PASSWORD}
  region: {env: SHOP_REGION, public: true}
flows:
  f:
    target: app
    steps:
      - name: login
        request: POST /login/{{ env.SHOP_USER }}
        headers: {X-Region: "{{ secrets.region }}"}
        json: {password: "{{ secrets.password }}", who: "{{ env.SHOP_USER }}"}
workloads:
  w: {executor: constant-vus, vus: 1, duration: 1s, mix: {f: 1}}
scenarios:
  s: {workload: w}
"""


def _write(tmp_path: Path, text: str = SUITE) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return path


def test_an_unset_env_variable_is_located_and_named(tmp_path: Path) -> None:
    path = _write(tmp_path)
    with pytest.raises(SuiteInvalid) as caught:
        load_suite(path, environ={"SHOP_PASSWORD": "p"}, threshold_parser=None)
    errors = [str(e) for e in caught.value.errors]
    assert errors == [
        f"{path}:7:17: environment variable `SHOP_REGION` (secret `region`) is not set; set it, "
        "or pass `--env-file FILE` with a `SHOP_REGION=...` line",
        f"{path}:13:30: environment variable `SHOP_USER` is not set; set it, or pass "
        "`--env-file FILE` with a `SHOP_USER=...` line",
        f"{path}:15:58: environment variable `SHOP_USER` is not set; set it, or pass "
        "`--env-file FILE` with a `SHOP_USER=...` line",
    ]


def test_an_undeclared_secret_is_located_with_a_hint(tmp_path: Path) -> None:
    path = _write(tmp_path, SUITE.replace("{{ secrets.password }}", "{{ secrets.pasword }}"))
    environ = {"SHOP_PASSWORD": "p", "SHOP_REGION": "r", "SHOP_USER": "u"}
    with pytest.raises(SuiteInvalid) as caught:
        load_suite(path, environ=environ, threshold_parser=None)
    (error,) = [str(e) for e in caught.value.errors]
    assert error == (
        f"{path}:15:27: template uses `secrets.pasword`, which is not declared under "
        "`secrets`; did you mean `secrets.password`?"
    )


def test_values_are_folded_in_and_secret_unless_public(tmp_path: Path) -> None:
    environ = {"SHOP_PASSWORD": "pa ss/1", "SHOP_REGION": "eu", "SHOP_USER": "ann/b", "X": "y"}
    suite = load_suite(_write(tmp_path), environ=environ, threshold_parser=None)
    env = suite.environment
    assert env.values == {
        "env.SHOP_USER": "ann/b",
        "secrets.password": "pa ss/1",
        "secrets.region": "eu",
    }
    assert set(env.secrets) == {"ann/b", "pa ss/1"}  # region is public; X is not used
    program = compile_program(suite)
    assert set(program.secrets) == {"ann/b", "pa ss/1"}
    (op,) = program.flows["f"].steps
    call = op.call  # type: ignore[union-attr]
    assert call.path.static == "/login/ann%2Fb"  # inserted values are percent-encoded
    assert {name: text.static for name, text in call.dynamic_headers} == {"X-Region": "eu"}
    assert call.body == b'{"password":"pa ss/1","who":"ann/b"}'


def test_the_redactor_catches_every_echoed_form() -> None:
    redactor = Redactor(["pa ss/1&x", ""])
    for echoed in ("pa ss/1&x", "pa%20ss%2F1%26x", "pa+ss%2F1%26x", "pa%20ss%2f1%26x"):
        assert redactor.redact(f"<{echoed}>") == "<***>"
    assert redactor.redact_bytes(b"a pa ss/1&x b") == b"a *** b"
    for user in ("a", "ab", "abc"):  # a Basic credential echoed back, at every alignment
        credential = base64.b64encode(f"{user}:pa ss/1&x".encode()).decode()
        assert "***" in redactor.redact(credential)
        assert base64.b64encode(b"pa ss/1&x").decode()[:8] not in redactor.redact(credential)
    assert Redactor([]).redact("pa ss") == "pa ss"


def test_env_file_lines(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("# c\n\nexport A=1\nB = 'two words'\nC=\"x=y\"\nD=\n")
    assert read_env_file(path) == {"A": "1", "B": "two words", "C": "x=y", "D": ""}
    assert environment_with(path, {"A": "env wins"})["A"] == "env wins"
    path.write_text("A=1\nnot a line\n")
    with pytest.raises(EnvFileError, match=r"\.env:2: expected NAME=VALUE"):
        read_env_file(path)


def test_cli_validate_reads_the_env_file(tmp_path: Path) -> None:
    path = _write(tmp_path)
    env_file = tmp_path / "shop.env"
    env_file.write_text("SHOP_PASSWORD=p\nSHOP_REGION=r\n")
    cli = [sys.executable, "-m", "contval", "validate", str(path), "--env-file", str(env_file)]
    clean = {"PATH": "/usr/bin:/bin"}
    proc = subprocess.run(cli, capture_output=True, text=True, timeout=60, env=clean)
    assert proc.returncode == 2
    assert f"{path}:13:30: environment variable `SHOP_USER` is not set" in proc.stderr
    proc = subprocess.run(
        cli, capture_output=True, text=True, timeout=60, env={**clean, "SHOP_USER": "u"}
    )
    assert proc.returncode == 0, proc.stderr
    env_file.write_text("SHOP_PASSWORD\n")
    proc = subprocess.run(cli, capture_output=True, text=True, timeout=60, env=clean)
    assert proc.returncode == 2
    assert f"{env_file}:1: expected NAME=VALUE" in proc.stderr


def test_cli_plan_reads_the_env_file(tmp_path: Path) -> None:
    path = _write(tmp_path)
    env_file = tmp_path / "shop.env"
    env_file.write_text("SHOP_PASSWORD=p\nSHOP_REGION=r\nSHOP_USER=u\n")
    cli = [sys.executable, "-m", "contval", "plan", str(path)]
    clean = {"PATH": "/usr/bin:/bin"}
    proc = subprocess.run(cli, capture_output=True, text=True, timeout=60, env=clean)
    assert proc.returncode == 2
    assert "environment variable `SHOP_USER` is not set" in proc.stderr
    proc = subprocess.run(
        [*cli, "--env-file", str(env_file)], capture_output=True, text=True, timeout=60, env=clean
    )
    assert proc.returncode == 0, proc.stderr
