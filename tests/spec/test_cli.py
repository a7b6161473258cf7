"""`contval validate` and `contval schema` through the real typer app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from contval.cli import app
from contval.exitcodes import ExitCode

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "contoso-shoes" / "suite.yaml"
INVALID = Path(__file__).parent / "invalid"
runner = CliRunner()


def test_validate_example_exits_zero_with_summary() -> None:
    result = runner.invoke(app, ["validate", str(EXAMPLE)])
    assert result.exit_code == ExitCode.OK
    assert result.stdout.splitlines()[0] == "suite `contoso-shoes` is valid"
    assert result.stderr == ""


def test_validate_reports_every_error_and_exits_two() -> None:
    case = INVALID / "several_mistakes.yaml"
    result = runner.invoke(app, ["validate", str(case)])
    assert result.exit_code == ExitCode.INVALID_INPUT
    assert int(ExitCode.INVALID_INPUT) == 2
    expected = (INVALID / "several_mistakes.expected").read_text().splitlines()
    assert result.stderr.splitlines() == [
        *(f"{case}:{line}" for line in expected),
        f"6 errors in {case}",
    ]
    assert result.stdout == ""


def test_validate_typo_gets_a_hint(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    text = EXAMPLE.read_text().replace("    duration: 1m\n", "    durration: 1m\n")
    suite.write_text(text)
    (tmp_path / "customers.csv").write_text("email\na@example.com\n")
    result = runner.invoke(app, ["validate", str(suite)])
    assert result.exit_code == 2
    line = text.splitlines().index("    durration: 1m") + 1
    assert f"{suite}:{line}:5: unknown field `durration`; did you mean `duration`?" in (
        result.stderr.splitlines()
    )


def test_validate_missing_file_has_no_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = runner.invoke(app, ["validate", str(missing)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{missing}: cannot read the suite file: No such file or directory",
        f"1 error in {missing}",
    ]
    assert "Traceback" not in result.output


def test_validate_top_level_list(tmp_path: Path) -> None:
    case = INVALID / "top_level_list.yaml"
    result = runner.invoke(app, ["validate", str(case)])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].startswith(f"{case}:1:1: a suite must be a mapping")


def test_schema_is_json_with_descriptions() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) >= {"version", "name", "targets", "flows"}
    assert "only hosts" in schema["properties"]["targets"]["description"]
    executors = {
        schema["$defs"][name]["properties"]["executor"]["const"]
        for name in ("ConstantArrivalRate", "ConstantVus", "RampingVus", "RampingArrivalRate")
    }
    assert executors == {
        "constant-arrival-rate",
        "constant-vus",
        "ramping-vus",
        "ramping-arrival-rate",
    }
    request = schema["$defs"]["RequestStep"]["properties"]
    assert "json" in request and "json_body" not in request
    assert request["request"]["type"] == "string"


def test_version_still_works() -> None:
    result = runner.invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip()
