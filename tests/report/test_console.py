"""The end-of-run console summary: readable in a CI log (no colour, no escape sequences, no
line wider than the console), one row per scenario, then the verdict line."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console

from contval.report.console import (
    operator_of,
    print_baseline,
    print_scenario,
    print_suite_summary,
    threshold_operator,
    verdict_line,
)
from tests.report.sample import result_document
from tests.report.test_junit import chaos_document, error_document, old_document, skipped_document

ANSI = re.compile(r"\x1b|\x9b")
WIDTH = 120


def ci_console(**kwargs: Any) -> Console:
    """What a CI log is: no terminal, no colour."""
    options: dict[str, Any] = {"force_terminal": False, "no_color": True, "width": WIDTH}
    options.update(kwargs)
    return Console(file=io.StringIO(), **options)


def output(console: Console) -> str:
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue()


def summary(doc: dict[str, Any], console: Console | None = None) -> str:
    console = console or ci_console()
    print_suite_summary(console, doc)
    return output(console)


def rows(text: str) -> dict[str, list[str]]:
    """The summary table's body rows by scenario name: cells split on the box's `│`."""
    found = {}
    for line in text.splitlines():
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            found[cells[0]] = cells[1:]
    return found


def assert_ci_readable(text: str) -> None:
    assert not ANSI.search(text)
    widest = max(cell_len(line) for line in text.splitlines())
    assert widest <= WIDTH


def test_one_row_per_scenario_then_the_verdict() -> None:
    text = summary(result_document(failing=True))
    assert_ci_readable(text)
    lines = text.splitlines()
    assert lines[0] == "suite contoso-shoes  run 20261126-150401-4f2a  env local  label 6325b51"
    header = next(line for line in lines if line.startswith("┃"))
    assert [c.strip() for c in header.strip("┃").split("┃")] == [
        "scenario",
        "verdict",
        "thresholds failed",
        "baseline",
        "worst health",
        "cool-down",
    ]
    assert rows(text) == {
        "normal": ["FAIL", "1/2", "REGRESSION", "degraded", "-"],
        "payments-slow": ["PASS", "0/2", "PASS", "unhealthy", "5 s, settled"],
    }
    assert lines[-2] == "suite health: unhealthy (the worst of its scenarios)"
    assert lines[-1] == "verdict: FAIL (exit 1: a threshold failed)"


def test_passing_run() -> None:
    text = summary(result_document())
    assert_ci_readable(text)
    assert text.splitlines()[-1] == "verdict: PASS (exit 0: every gate passed)"


def test_skipped_and_unreached_scenarios() -> None:
    doc = skipped_document()
    doc["pipeline"]["order"].append("never-reached")
    text = summary(doc)
    assert_ci_readable(text)
    table = rows(text)
    assert table["worker-crash"] == ["SKIPPED", "-", "-", "-", "-"]
    assert table["soak"] == ["SKIPPED", "-", "-", "-", "-"]
    assert table["never-reached"] == ["NOT RUN", "-", "-", "-", "-"]
    assert "skipped: worker-crash (payments-slow failed and stop_on_failure is on)" in text
    assert "not run: never-reached (the suite run stopped)" in text


def test_incomplete_run() -> None:
    text = summary(error_document())
    assert_ci_readable(text)
    table = rows(text)
    assert table["normal"] == ["ERROR (incomplete)", "0/2", "-", "degraded", "-"]
    assert table["payments-slow"][0] == "INVALID"
    assert "scenario normal stopped: interrupted by SIGINT" in text
    assert text.splitlines()[-1] == "verdict: ERROR (exit 3: the run did not complete)"


def test_cooldown_states() -> None:
    doc = chaos_document()
    doc["scenarios"][1]["cooldown"] = {"seconds": 5.0, "settled": False, "probe": "GET /h"}
    assert rows(summary(doc))["payments-slow"][-1] == "5 s, NOT settled"
    doc["scenarios"][1]["cooldown"] = {"seconds": 2.5, "settled": None, "probe": None}
    assert rows(summary(doc))["payments-slow"][-1] == "2.5 s, not checked"
    assert summary(doc).splitlines()[-1] == (
        "verdict: ERROR (exit 4: a fault was not confirmed reverted)"
    )


def test_older_document() -> None:
    text = summary(old_document())
    assert_ci_readable(text)
    assert text.splitlines()[0] == "suite contoso-shoes"
    assert rows(text)["normal"] == ["PASS", "1/2", "-", "-", "-"]
    assert "suite health" not in text


def test_still_running() -> None:
    doc = result_document()
    doc.update(verdict="running", exit_code=None, complete=False)
    doc["pipeline"]["order"].append("soak")
    text = summary(doc)
    assert "not run: soak (still running)" in text
    assert text.splitlines()[-1] == "verdict: RUNNING (no exit code yet)"


def test_no_color_environment_without_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    console = Console(file=io.StringIO(), width=WIDTH)
    assert not console.is_terminal
    assert console.no_color
    text = summary(result_document(failing=True), console)
    assert_ci_readable(text)
    assert rows(text)["normal"] == ["FAIL", "1/2", "REGRESSION", "degraded", "-"]
    assert text.splitlines()[-1] == "verdict: FAIL (exit 1: a threshold failed)"


def test_a_terminal_gets_colour_but_the_same_words() -> None:
    coloured = summary(
        result_document(failing=True), Console(file=io.StringIO(), width=WIDTH, force_terminal=True)
    )
    assert ANSI.search(coloured)  # the styles are there on a terminal...
    plain = ANSI.sub("", re.sub(r"\x1b\[[0-9;]*m", "", coloured))
    assert plain == summary(result_document(failing=True))  # ...and carry no information


def test_hostile_names_cannot_reach_the_terminal() -> None:
    doc = result_document(hostile=True)
    doc["scenarios"][0]["name"] = "evil\x1b[2J\x1b]0;title\x07[bold red]markup[/] " + "x" * 150
    doc["scenarios"][0]["stop_reason"] = "aborted: body was \x1b[31mred\r\noverwritten"
    text = summary(doc)
    assert_ci_readable(text)
    assert "\\x1b[2J" in text.replace("\n", "").replace("│", "").replace(" ", "")
    assert "[bold red]markup[/]" in text.replace("\n", "")
    assert "aborted: body was \\x1b[31mred  overwritten" in text


def test_verdict_line_wording() -> None:
    assert verdict_line({"verdict": "fail", "exit_code": 5}) == (
        "verdict: FAIL (exit 5: a regression against the baseline)"
    )
    assert verdict_line({"verdict": "error", "exit_code": 2}) == (
        "verdict: ERROR (exit 2: the suite or the arguments are invalid)"
    )
    assert verdict_line({"verdict": "fail", "exit_code": 42}) == "verdict: FAIL (exit 42)"
    assert verdict_line({}) == "verdict: UNKNOWN (no exit code yet)"


@pytest.mark.parametrize(
    ("expression", "op"),
    [
        ("error_rate < 1%", "<"),
        ("browse/list products: p95(latency) <= 200ms warn 150ms", "<="),
        ("checks > 99%", ">"),
        ("dropped_iterations == 0", "=="),
        ("a<b/step>x: rps >= 50/s", ">="),
        ("count(errors) != 3", "!="),
        ("nonsense", ""),
    ],
)
def test_threshold_operator(expression: str, op: str) -> None:
    assert threshold_operator(expression) == op


def test_the_recorded_operator_wins_over_the_expression() -> None:
    assert operator_of({"op": ">=", "expression": "checks < 99%"}) == ">="
    assert operator_of({"expression": "checks > 99%"}) == ">"  # an older document
    assert operator_of({"op": "", "expression": "rps != 5"}) == "!="


def test_existing_scenario_output_reads_without_colour() -> None:
    console = ci_console()
    scenario = result_document(failing=True)["scenarios"][0]
    print_scenario(console, scenario)
    text = output(console)
    assert_ci_readable(text)
    assert "baseline (rolling): REGRESSION — compared with 3 runs" in text
    assert "✗ regression" in text
    assert "~ inconclusive" in text  # not only a yellow "~"
    assert text.splitlines()[-1] == "scenario normal: FAIL"


def test_no_baseline_prints_no_table() -> None:
    console = ci_console()
    print_baseline(console, {"verdict": "no_baseline", "mode": "rolling", "detail": "0 runs"})
    assert output(console) == "baseline (rolling): NO BASELINE YET — 0 runs\n"
