"""Failed checks and not-reached steps as the reports render them: hostile texts stay text in
report.html and summary.md, and malformed entries are skipped rather than crashing a report."""

from __future__ import annotations

from typing import Any

from contval.report.console import failures_rows
from contval.report.html import render_html
from contval.report.markdown import render_markdown
from tests.report.sample import HOSTILE, result_document


def _with_failures() -> dict[str, Any]:
    doc = result_document()
    scenario = doc["scenarios"][0]
    flow = next(iter(scenario["flows"].values()))
    first = next(iter(flow["steps"]))
    flow["steps"][first]["failures"] = [
        {"condition": "body", "expected": 'contains "ok"', "actual": HOSTILE + "|x", "count": 7},
        {"condition": "status", "expected": "2xx", "actual": "503", "count": 3},
        "not a failure",
    ]
    flow["steps"][first]["failures_other"] = 2
    flow["steps"]["never reached"] = {"requests": 0, "errors": 0, "not_reached": 10}
    return doc


def test_rows_in_table_order_with_the_rest_as_other() -> None:
    doc = _with_failures()
    rows = failures_rows(doc["scenarios"][0])
    assert [(r[1], r[4]) for r in rows] == [("body", 7), ("status", 3), ("(other failures)", 2)]
    assert failures_rows({"flows": {"f": {"steps": None}}}) == []
    assert failures_rows({"flows": "x"}) == []


def test_html_and_markdown_keep_hostile_actual_values_as_text() -> None:
    doc = _with_failures()
    html = render_html(doc)
    assert "<h4>Failed checks</h4>" in html
    assert HOSTILE not in html
    assert "&lt;script&gt;" in html
    assert "10 not reached" in html
    markdown = render_markdown(doc)
    assert "**Failed checks**" in markdown
    assert "<script>" not in markdown
    assert "\\|x" in markdown  # a `|` cannot break the table
    assert "never reached | 10 |" in markdown
