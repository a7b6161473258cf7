"""Exit codes are a public contract: values and precedence never change silently."""

from __future__ import annotations

from contval.exitcodes import ExitCode, worst


def test_values_are_the_documented_ones() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0,
        "THRESHOLD_FAILED": 1,
        "INVALID_INPUT": 2,
        "RUN_INCOMPLETE": 3,
        "FAULT_NOT_REVERTED": 4,
        "REGRESSION": 5,
        "NOT_GATED": 6,
    }


def test_the_most_urgent_outcome_wins() -> None:
    assert worst() is ExitCode.OK
    assert worst(ExitCode.OK, ExitCode.REGRESSION) is ExitCode.REGRESSION
    assert worst(ExitCode.NOT_GATED, ExitCode.REGRESSION) is ExitCode.REGRESSION
    assert worst(ExitCode.OK, ExitCode.NOT_GATED) is ExitCode.NOT_GATED
    assert worst(ExitCode.REGRESSION, ExitCode.THRESHOLD_FAILED) is ExitCode.THRESHOLD_FAILED
    assert worst(ExitCode.THRESHOLD_FAILED, ExitCode.RUN_INCOMPLETE) is ExitCode.RUN_INCOMPLETE
    assert (
        worst(ExitCode.RUN_INCOMPLETE, ExitCode.FAULT_NOT_REVERTED) is ExitCode.FAULT_NOT_REVERTED
    )


def test_readme_documents_every_code() -> None:
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    for code in ExitCode:
        assert f"| {int(code)} |" in readme, code
