"""Generated GitHub workflows pass GitHub's own workflow schema; broken ones do not."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.scaffold.github_schema import workflow_errors
from tests.scaffold.workflows import init

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--after", "Deploy: prod", "--env", "prod.eu", "--target-url", "https://x.example:8443"],
        ["--suite", "checks/a suite.yaml", "-s", "normal", "--ci-file", "wf/contval.yaml"],
    ],
)
def test_generated_workflows_pass_githubs_schema(tmp_path: Path, args: list[str]) -> None:
    code, _, err = init(str(tmp_path), "--ci", "github", *args)
    assert (code, err) == (0, "")
    ci_file = args[args.index("--ci-file") + 1] if "--ci-file" in args else None
    path = tmp_path / (ci_file or ".github/workflows/contval.yml")
    assert workflow_errors(yaml.safe_load(path.read_text())) == []


def test_example_workflow_passes_githubs_schema() -> None:
    workflow = yaml.safe_load((ROOT / "examples" / "ci" / "github" / "contval.yml").read_text())
    assert workflow_errors(workflow) == []


def _broken(workflow: dict[Any, Any], change: str) -> dict[Any, Any]:
    broken = copy.deepcopy(workflow)
    job = broken["jobs"]["validate"]
    if change == "unknown job key":
        job["runs_on"] = job.pop("runs-on")
    elif change == "unknown activity":
        broken[True]["workflow_run"]["types"] = ["finished"]
    elif change == "step without uses or run":
        del job["steps"][0]["uses"]
    elif change == "timeout not a number":
        job["timeout-minutes"] = "twelve"
    elif change == "no trigger":
        del broken[True]
    return broken


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown job key", "$.jobs.validate"),
        ("unknown activity", "$.on"),
        ("step without uses or run", "$.jobs.validate"),
        ("timeout not a number", "$.jobs.validate"),
        ("no trigger", "required key `on` is missing"),
    ],
)
def test_schema_refuses_broken_workflows(tmp_path: Path, change: str, message: str) -> None:
    """The validator is not vacuous: what GitHub would refuse, it refuses."""
    assert init(str(tmp_path), "--ci", "github")[0] == 0
    workflow = yaml.safe_load((tmp_path / ".github/workflows/contval.yml").read_text())
    errors = workflow_errors(_broken(workflow, change))
    assert errors, change
    assert any(message in error for error in errors), errors
