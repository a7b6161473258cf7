"""`contval init`: the starter suite, through the real typer app and a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from contval.cli import app
from contval.exitcodes import ExitCode
from contval.scaffold import SuiteOptions, name_from_dir, render_suite
from contval.scaffold.suite import EXAMPLE_GROUPS
from contval.spec import RequestStep, SuiteInvalid, load_suite, load_suite_text

runner = CliRunner()


def init(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["init", *args], input="")
    return result.exit_code, result.stdout, result.stderr


def test_init_writes_a_suite_that_validates(tmp_path: Path) -> None:
    project = tmp_path / "My Shop"
    code, out, err = init(str(project))
    assert (code, err) == (0, "")
    suite_file = project / "contval.yaml"
    assert sorted(p.name for p in project.iterdir()) == ["contval.yaml"]
    assert f"wrote {suite_file} (suite `my-shop`: target app http://127.0.0.1:8080)" in out
    assert f"  contval validate {suite_file}" in out.splitlines()
    assert f"  contval run {suite_file}" in out

    validated = runner.invoke(app, ["validate", str(suite_file)])
    assert validated.exit_code == 0, validated.stderr
    assert validated.stdout.splitlines()[0] == "suite `my-shop` is valid"

    suite = load_suite(suite_file)
    assert dict(suite.targets) == {"app": "http://127.0.0.1:8080"}
    step = suite.flows["browse"].steps[0]
    assert isinstance(step, RequestStep)
    assert (step.request.method, step.request.target) == ("GET", "/")
    assert step.check is not None and step.check.status == (200,)
    workload = suite.workloads["steady"]
    assert workload.executor == "constant-arrival-rate"
    thresholds = suite.scenarios["normal"].thresholds
    assert "error_rate < 1%" in thresholds
    assert "browse/open page: p95(latency) < 500ms warn 300ms" in thresholds
    assert not suite.chaos_targets and not suite.faults  # the examples stay commented out


def test_name_target_and_path_land_in_the_suite(tmp_path: Path) -> None:
    code, _, err = init(
        str(tmp_path),
        "--name",
        "checkout.api",
        "--target",
        "https://staging.example.com:8443/",
        "--path",
        "/api/health?full=1",
    )
    assert (code, err) == (0, "")
    suite = load_suite(tmp_path / "contval.yaml")
    assert suite.name == "checkout.api"
    assert dict(suite.targets) == {"app": "https://staging.example.com:8443"}
    step = suite.flows["browse"].steps[0]
    assert isinstance(step, RequestStep)
    assert step.request.target == "/api/health?full=1"
    data = yaml.safe_load((tmp_path / "contval.yaml").read_text())
    assert data["flows"]["browse"]["steps"][0]["request"] == "GET /api/health?full=1"


def test_second_init_refuses_to_overwrite_and_force_does(tmp_path: Path) -> None:
    assert init(str(tmp_path), "--name", "first")[0] == 0
    suite_file = tmp_path / "contval.yaml"
    before = suite_file.read_bytes()

    code, out, err = init(str(tmp_path), "--name", "second")
    assert code == ExitCode.INVALID_INPUT
    assert err == f"error: {suite_file} already exists; pass --force to overwrite it\n"
    assert out == ""
    assert suite_file.read_bytes() == before

    code, _, err = init(str(tmp_path), "--name", "second", "--force")
    assert (code, err) == (0, "")
    assert load_suite(suite_file).name == "second"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "-bad name"], "--name '-bad name' is not a valid suite name"),
        (["--target", "ftp://host"], "--target 'ftp://host' is not an http(s) URL"),
        (["--target", "http://host/?q=1"], "a base URL has no query or fragment"),
        (["--path", "health"], "--path 'health' must be a path from `/`"),
        (["--path", "/a b"], "spaces in a URL must be written as %20"),
        (["--path", "/{{ nope }}"], "these options make an invalid suite"),
        (["--env", "prod"], "--env is an option of the CI file: add --ci github|azure"),
        (["--ci", "gitlab"], "unknown CI system `gitlab`"),
        (["--suite", "../outside.yaml"], "expected a file inside"),
    ],
)
def test_bad_options_exit_two_and_write_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    code, out, err = init(str(tmp_path), *args)
    assert code == 2
    assert message in err
    assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_suite_may_live_in_a_subdirectory(tmp_path: Path) -> None:
    code, _, _ = init(str(tmp_path), "--suite", "validation/shop.yaml")
    assert code == 0
    suite_file = tmp_path / "validation" / "shop.yaml"
    text = suite_file.read_text()
    assert "#   contval validate validation/shop.yaml " in text
    assert load_suite(suite_file).name == name_from_dir(tmp_path)


def test_never_reads_stdin(tmp_path: Path) -> None:
    """With stdin an open pipe nobody writes to, any read would block: init must still end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "contval", "init", str(tmp_path), "--ci", "github"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        returncode = proc.wait(timeout=60)
    finally:
        proc.stdin.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    assert returncode == 0, err
    assert (tmp_path / "contval.yaml").exists()
    assert (tmp_path / ".github" / "workflows" / "contval.yml").exists()
    assert "[y/N]" not in out and "?" not in out


def test_name_from_dir_makes_valid_names(tmp_path: Path) -> None:
    cases = {"My Shop (v2)": "my-shop-v2", "__api__": "api", "shop.web": "shop.web", "---": "suite"}
    for raw, expected in cases.items():
        directory = tmp_path / raw
        directory.mkdir()
        assert name_from_dir(directory) == expected


@pytest.mark.parametrize("groups", [(), ("system",), ("chaos",), ("system", "chaos", "pipeline")])
def test_commented_examples_are_valid_once_uncommented(
    tmp_path: Path, groups: tuple[str, ...]
) -> None:
    text = render_suite(SuiteOptions(name="demo"), live=groups)
    assert set(groups) <= set(EXAMPLE_GROUPS)
    try:
        suite = load_suite_text(text, tmp_path / "contval.yaml")
    except SuiteInvalid as exc:  # pragma: no cover - the message is the point
        pytest.fail("\n".join(str(e) for e in exc.errors))
    assert ("order-fulfilment" in suite.flows) == ("system" in groups)
    assert ("dependency-slow" in suite.scenarios) == ("chaos" in groups)
    if "pipeline" in groups:
        assert suite.run_order() == ("normal", "dependency-slow")
        assert suite.pipeline.stop_on_failure is True
        assert suite.pipeline.cooldown == 10.0


def test_every_example_line_is_commented_by_default() -> None:
    text = render_suite(SuiteOptions(name="demo"))
    assert "#[" not in text and "@@" not in text
    data = yaml.safe_load(text)
    assert set(data) == {"version", "name", "targets", "flows", "workloads", "scenarios"}
