"""`contval init --ci github|azure`: the files' structure, and their shell run for real."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from contval.scaffold import SuiteOptions, render_suite
from contval.scaffold.ci import CiOptions, render_ci, target_variables
from tests.scaffold.workflows import fake_contval, github_triggers, init, load, step_index

GITHUB_FILE = Path(".github/workflows/contval.yml")
AZURE_FILE = Path("azure-pipelines.yml")
URL = "https://shop.staging.example.com"


def github_steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    steps = workflow["jobs"]["validate"]["steps"]
    assert isinstance(steps, list)
    return steps


def test_github_workflow_structure(tmp_path: Path) -> None:
    code, out, err = init(str(tmp_path), "--ci", "github", "--target-url", URL)
    assert (code, err) == (0, "")
    assert f"wrote {tmp_path / 'contval.yaml'}" in out
    assert f"wrote {tmp_path / GITHUB_FILE} (GitHub Actions workflow" in out
    workflow = load(tmp_path / GITHUB_FILE)

    triggers = github_triggers(workflow)
    assert triggers["workflow_run"] == {"workflows": ["Deploy"], "types": ["completed"]}
    assert "workflow_dispatch" in triggers
    job = workflow["jobs"]["validate"]
    assert job["if"] == (
        "github.event_name == 'workflow_dispatch' || "
        "github.event.workflow_run.conclusion == 'success'"
    )
    assert workflow["concurrency"]["cancel-in-progress"] is False
    assert workflow["env"] == {
        "CONTVAL_INSTALL": "contval",
        "CONTVAL_ENV": "ci",
        "CONTVAL_STORE": ".contval/history.db",
        "CONTVAL_TARGET_APP": URL,
    }

    steps = github_steps(workflow)
    install = step_index(steps, name="Install contval")
    restore = step_index(steps, uses="actions/cache/restore@v4")
    run = step_index(steps, name="Run the suite")
    save = step_index(steps, uses="actions/cache/save@v4")
    reports = step_index(steps, name="Upload the reports")
    history = step_index(steps, name="Upload the history")
    assert install < restore < run < save
    assert steps[install]["run"] == 'python -m pip install "$CONTVAL_INSTALL"'
    command = steps[run]["run"]
    assert command == (
        'contval run contval.yaml --out contval-results --env "$CONTVAL_ENV" '
        '--target "app=$CONTVAL_TARGET_APP"'
    )
    assert "if" not in steps[run]  # its exit code is the job's verdict

    restored, saved = steps[restore]["with"], steps[save]["with"]
    assert restored["path"] == saved["path"] == ".contval"
    assert restored["key"] == saved["key"]
    assert "${{ github.run_id }}" in saved["key"]
    assert saved["key"].startswith(restored["restore-keys"])
    assert restored["restore-keys"] == "contval-history-${{ env.CONTVAL_ENV }}-"
    for index in (save, reports, history):
        assert steps[index]["if"] == "always()", steps[index]
    assert steps[reports]["uses"] == steps[history]["uses"] == "actions/upload-artifact@v4"
    assert steps[reports]["with"]["path"] == "contval-results/"
    assert steps[history]["with"]["path"] == ".contval/"
    assert steps[history]["with"]["include-hidden-files"] is True
    assert job["timeout-minutes"] == 12  # 1 min of load, x1.5, + 10


def test_azure_pipeline_structure(tmp_path: Path) -> None:
    code, _, err = init(str(tmp_path), "--ci", "azure", "--after", "Deploy shop", "--env", "prod")
    assert (code, err) == (0, "")
    pipeline = load(tmp_path / AZURE_FILE)

    assert pipeline["trigger"] == "none" and pipeline["pr"] == "none"
    (resource,) = pipeline["resources"]["pipelines"]
    assert resource == {"pipeline": "deploy", "source": "Deploy shop", "trigger": True}
    assert pipeline["variables"]["CONTVAL_ENV"] == "prod"
    assert pipeline["variables"]["CONTVAL_TARGET_APP"] == "http://127.0.0.1:8080"
    validate, gate = pipeline["jobs"]
    assert (validate["job"], gate["job"]) == ("validate", "gate")
    assert gate["dependsOn"] == "validate"
    assert gate["variables"]["exitCode"] == "$[ dependencies.validate.outputs['run.exitCode'] ]"

    steps = validate["steps"]
    cache = step_index(steps, task="Cache@2")
    run = step_index(steps, name="run")
    tests = step_index(steps, task="PublishTestResults@2")
    reports = step_index(steps, displayName="Upload the reports")
    history = step_index(steps, displayName="Upload the history")
    assert cache < run < tests
    key, restore_keys = steps[cache]["inputs"]["key"], steps[cache]["inputs"]["restoreKeys"]
    assert "$(Build.BuildId)" in key
    assert key.startswith(restore_keys.strip())
    assert steps[cache]["inputs"]["path"] == ".contval"
    assert steps[tests]["condition"] == "succeededOrFailed()"
    assert steps[tests]["inputs"]["testResultsFormat"] == "JUnit"
    assert steps[tests]["inputs"]["testResultsFiles"] == "contval-results/junit.xml"
    for index, folder in ((reports, "contval-results"), (history, ".contval")):
        assert steps[index]["task"] == "PublishPipelineArtifact@1"
        assert steps[index]["condition"].startswith("and(succeededOrFailed(), ")
        assert steps[index]["inputs"]["targetPath"] == folder
    script = steps[run]["script"]
    assert 'contval run contval.yaml --out contval-results --env "$CONTVAL_ENV"' in script
    assert "continueOnError" not in str(validate)  # the cache is saved only if the job succeeds


def test_github_run_step_passes_the_right_arguments(tmp_path: Path) -> None:
    project = tmp_path / "repo"
    code, _, err = init(
        str(project),
        "--ci",
        "github",
        "--suite",
        "checks/my suite.yaml",
        "--env",
        "staging",
        "-s",
        "normal",
        "--target-url",
        f"app={URL}",
    )
    assert (code, err) == (0, "")
    workflow = load(project / GITHUB_FILE)
    steps = github_steps(workflow)
    command = steps[step_index(steps, name="Run the suite")]["run"]
    record = fake_contval(tmp_path / "bin", exit_code=0)
    env = {**os.environ, **workflow["env"], "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-e", "-c", command], cwd=project, env=env, check=False)
    assert proc.returncode == 0
    assert record.read_text().splitlines() == [
        *("run", "checks/my suite.yaml", "--out", "contval-results", "--env", "staging"),
        *("-s", "normal", "--target", f"app={URL}"),
    ]


@pytest.mark.parametrize("exit_code", [0, 1, 5])
def test_azure_scripts_record_the_exit_code_and_the_gate_fails_with_it(
    tmp_path: Path, exit_code: int
) -> None:
    project = tmp_path / "repo"
    assert init(str(project), "--ci", "azure", "-s", "normal")[0] == 0
    pipeline = load(project / AZURE_FILE)
    validate, gate = pipeline["jobs"]
    script = validate["steps"][step_index(validate["steps"], name="run")]["script"]
    record = fake_contval(tmp_path / "bin", exit_code)
    variables = {k: str(v) for k, v in pipeline["variables"].items()}
    env = {**os.environ, **variables, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    proc = subprocess.run(
        ["bash", "-e", "-c", script], cwd=project, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr  # the job succeeds, so its cache is saved
    assert record.read_text().splitlines() == [
        *("run", "contval.yaml", "--out", "contval-results", "--env", "ci", "-s", "normal"),
        *("--target", "app=http://127.0.0.1:8080"),
    ]
    lines = proc.stdout.splitlines()
    assert f"##vso[task.setvariable variable=exitCode;isOutput=true]{exit_code}" in lines
    assert "##vso[task.setvariable variable=hasResults]true" in lines  # the fake made the dir
    assert "##vso[task.setvariable variable=hasHistory]true" not in lines

    gate_script = gate["steps"][1]["script"].replace("$(exitCode)", str(exit_code))
    proc = subprocess.run(["bash", "-c", gate_script], capture_output=True, text=True)
    assert proc.returncode == exit_code
    if exit_code:
        assert proc.stdout.startswith("##vso[task.logissue type=error]contval: ")
        assert proc.stdout.rstrip().endswith(f"(exit {exit_code})")


def test_gate_without_a_recorded_code_fails() -> None:
    options = CiOptions(system="azure", suite_path="s.yaml", targets=(("app", URL),))
    gate = yaml.safe_load(render_ci(options))["jobs"][1]
    script = gate["steps"][1]["script"].replace("$(exitCode)", "")  # the output never set
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "recorded no exit code" in proc.stdout


def test_ci_alone_keeps_an_existing_suite(tmp_path: Path) -> None:
    assert init(str(tmp_path), "--name", "mine")[0] == 0
    suite = tmp_path / "contval.yaml"
    suite.write_text(suite.read_text().replace("rate: 10/s", "rate: 20/s"))
    before = suite.read_bytes()
    code, out, err = init(str(tmp_path), "--ci", "azure", "--force")
    assert (code, err) == (0, "")
    assert suite.read_bytes() == before
    assert out.startswith(f"note: {suite} exists: the Azure pipeline runs it as it is\n")

    code, _, err = init(str(tmp_path), "--ci", "github", "--name", "other")
    assert code == 2
    assert "--name shapes a new suite, but" in err and "keeps it as is" in err


def test_ci_file_in_the_way_stops_everything(tmp_path: Path) -> None:
    workflow = tmp_path / GITHUB_FILE
    workflow.parent.mkdir(parents=True)
    workflow.write_text("name: mine\n")
    code, out, err = init(str(tmp_path), "--ci", "github")
    assert code == 2
    assert err == f"error: {workflow} already exists; pass --force to overwrite it\n"
    assert out == ""
    assert workflow.read_text() == "name: mine\n"
    assert not (tmp_path / "contval.yaml").exists()  # nothing written, not even the suite

    code, _, _ = init(str(tmp_path), "--ci", "github", "--force")
    assert code == 0
    assert github_triggers(load(workflow))["workflow_run"]["workflows"] == ["Deploy"]


def test_ci_on_an_invalid_suite_exits_two(tmp_path: Path) -> None:
    (tmp_path / "contval.yaml").write_text("version: 1\nname: x\n")
    code, _, err = init(str(tmp_path), "--ci", "github")
    assert code == 2
    assert "is not a valid suite, so no CI file was written for it" in err
    assert not (tmp_path / ".github").exists()


def test_target_urls_name_targets_when_there_are_several(tmp_path: Path) -> None:
    suite = tmp_path / "contval.yaml"
    assert init(str(tmp_path))[0] == 0
    text = suite.read_text().replace(
        "  app: http://127.0.0.1:8080\n",
        "  app: http://127.0.0.1:8080\n  order-api: http://127.0.0.1:9000\n",
    )
    suite.write_text(text)
    code, _, err = init(str(tmp_path), "--ci", "github", "--target-url", URL)
    assert code == 2
    assert "the suite has several targets (app, order-api); write NAME=URL" in err
    code, _, err = init(str(tmp_path), "--ci", "github", "--target-url", f"api={URL}")
    assert code == 2 and "the suite has no target `api` (it has app, order-api)" in err

    code, _, err = init(str(tmp_path), "--ci", "github", "--target-url", f"order-api={URL}")
    assert (code, err) == (0, "")
    workflow = load(tmp_path / GITHUB_FILE)
    assert workflow["env"]["CONTVAL_TARGET_APP"] == "http://127.0.0.1:8080"
    assert workflow["env"]["CONTVAL_TARGET_ORDER_API"] == URL
    steps = github_steps(workflow)
    command = steps[step_index(steps, name="Run the suite")]["run"]
    assert command.endswith(
        '--target "app=$CONTVAL_TARGET_APP" --target "order-api=$CONTVAL_TARGET_ORDER_API"'
    )


def test_target_variables_are_unique() -> None:
    pairs = [("a-b", ""), ("a.b", ""), ("A_B", "")]
    assert target_variables(pairs) == [
        "CONTVAL_TARGET_A_B",
        "CONTVAL_TARGET_A_B_2",
        "CONTVAL_TARGET_A_B_3",
    ]


def test_chaos_scenarios_get_a_note(tmp_path: Path) -> None:
    (tmp_path / "contval.yaml").write_text(render_suite(SuiteOptions(name="demo"), live=("chaos",)))
    code, out, _ = init(str(tmp_path), "--ci", "github")
    assert code == 0
    assert "note: scenarios dependency-slow inject faults" in out
    workflow = load(tmp_path / GITHUB_FILE)
    # both scenarios' load (1 min each) and the 5 s cool-down between them, x1.5, + 10 minutes
    assert workflow["jobs"]["validate"]["timeout-minutes"] == 14
    assert (
        "timeout-minutes: 14   # the scenarios' load runs 2 min 5 s;"
        in (tmp_path / GITHUB_FILE).read_text()
    )
