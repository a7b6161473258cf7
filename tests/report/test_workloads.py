"""Workloads run side by side (`alongside`) in summary.md, report.html, junit.xml and the
console: a real `contval run` whose second workload fails its own threshold, then documents
with hostile names and passing workloads."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import xmlschema

from contval.report.html import render_html
from contval.report.junit import render_junit
from contval.report.markdown import render_markdown
from tests.engine.target import Target
from tests.engine.test_run import run
from tests.engine.test_side_by_side import write
from tests.report.sample import HOSTILE, result_document, with_workloads
from tests.report.test_junit import SCHEMA
from tests.report.test_markdown import MD, table_with, tables

WORKLOAD_HEADER = [
    "workload",
    "executor",
    "start",
    "seconds",
    "requests",
    "errors",
    "baseline",
    "verdict",
]


class _Tables(HTMLParser):
    """Every `<table>` of a page, by its class, as rows of cell texts (what a reader sees)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[list[str]]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.found.append((dict(attrs).get("class") or "", []))
        elif tag == "tr":
            self.found[-1][1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.found[-1][1][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def html_tables(page: str, cls: str) -> list[list[list[str]]]:
    parser = _Tables()
    parser.feed(page)
    return [rows for found, rows in parser.found if found == cls]


def junit_cases(xml: str) -> dict[str, ET.Element]:
    root = ET.fromstring(xml)
    return {case.get("name", ""): case for case in root.iter("testcase")}


def test_a_failing_side_workload_in_every_report(tmp_path: Path, target: Target) -> None:
    """The buyers' 10 payments answer 500 (the server counts them): every report lists both
    workloads with those figures, and the buyers' failed threshold as what failed the run."""
    out = tmp_path / "out"
    code, result, output = run(write(tmp_path, target.url, pay="/error"), out, "--workers", "1")
    assert code == 1, output
    assert target.seen.paths == Counter({"/ok": 60, "/error": 10})
    browsing, buyers = result["scenarios"][0]["workloads"]
    assert buyers["totals"]["errors"] == 10

    summary = (out / "summary.md").read_text()
    assert table_with(summary, "scenario")[1][2] == "1/3"  # the buyers' threshold counts
    offenders = table_with(summary, "#")
    assert offenders[1][1:5] == ["rush-hour", "workload buyers: error_rate < 1%", "100 %", "< 1 %"]
    assert table_with(summary, "workload") == [
        WORKLOAD_HEADER,
        [
            "browsing",
            "constant-arrival-rate",
            "0 s",
            "3 s",
            "60",
            "0 (0.00 %)",
            "no baseline yet",  # each workload has one of its own (a failed run never joins)
            "by the scenario's thresholds",
        ],
        [
            "buyers",
            "shared-iterations",
            "1 s",
            "2 s",
            "10",
            "10 (100.00 %)",
            "no baseline yet",
            "FAIL",
        ],
    ]
    own = [t for t in tables(summary) if t[0][0] == "threshold"]
    assert [t[1:] for t in own] == [
        [
            ["error_rate < 50%", "14.29 %", "< 50 %", "pass"],
            ["browse: p95(latency) < 1s", own[0][2][1], "< 1,000 ms", "pass"],
        ],
        [["error_rate < 1%", "100 %", "< 1 %", "FAIL"]],
    ]
    assert "**Workload buyers: its own thresholds**" in summary

    page = (out / "report.html").read_text()
    assert "<h3>Workloads side by side</h3>" in page
    (rows,) = html_tables(page, "workloads")
    assert rows == [
        WORKLOAD_HEADER,
        [
            "browsing",
            "constant-arrival-rate",
            "0 s",
            "3 s",
            "60",
            "0 (0.00 %)",
            "no baseline yet",
            "by the scenario's thresholds",
        ],
        [
            "buyers",
            "shared-iterations",
            "1 s",
            "2 s",
            "10",
            "10 (100.00 %)",
            "no baseline yet",
            "fail",
        ],
    ]
    scenario_own, buyers_own = html_tables(page, "thresholds")
    assert len(scenario_own) == 3
    assert buyers_own[1][:4] == ["fail", "error_rate < 1%", "100 %", "1 %"]
    assert "<h4>Workload buyers: its own thresholds</h4>" in page

    xml = (out / "junit.xml").read_text()
    xmlschema.XMLSchema(SCHEMA).validate(xml)
    cases = junit_cases(xml)
    failure = cases["workload buyers: error_rate < 1%"].find("failure")
    assert failure is not None
    assert (failure.get("type"), failure.get("message")) == (
        "threshold",
        "observed 100 % — limit < 1 %",
    )
    assert cases["error_rate < 50%"].find("failure") is None
    properties = {p.get("name"): p.get("value") for p in ET.fromstring(xml).iter("property")}
    assert properties["workloads"] == "browsing, buyers"

    assert "scenario rush-hour: FAIL (workload buyers failed its own thresholds)" in output
    assert browsing["verdict"] == "not_gated"


def _document(side: str = "buyers", failing: bool = False) -> dict[str, Any]:
    doc = result_document()
    with_workloads(doc["scenarios"][0], side, failing)
    return doc


def test_passing_workloads_pass_in_every_report() -> None:
    doc = _document()
    summary = render_markdown(doc)
    assert table_with(summary, "scenario")[1][2] == "0/3"
    assert table_with(summary, "workload")[2] == [
        "buyers (buying)",  # the entry's name, and its workload's when they differ
        "shared-iterations",
        "10 s",
        "30 s",
        "500",
        "2 (0.40 %)",
        "-",  # history off: not compared
        "pass",
    ]
    assert "None: no threshold failed" in summary
    cases = junit_cases(render_junit(doc))
    case = cases["workload buyers: error_rate < 1%"]
    assert case.find("failure") is None
    out = case.find("system-out")
    assert out is not None and out.text == "observed 0.5 % — limit < 1 %"
    (rows,) = html_tables(render_html(doc), "workloads")
    assert rows[2][-1] == "pass"


def test_a_scenario_without_side_workloads_shows_no_workload_table() -> None:
    doc = result_document()
    assert "Workloads side by side" not in render_markdown(doc)
    assert "Workloads side by side" not in render_html(doc)
    assert not any(c.startswith("workload ") for c in junit_cases(render_junit(doc)))


def test_hostile_workload_names_stay_text() -> None:
    doc = _document(side=HOSTILE + " | x", failing=True)
    summary = render_markdown(doc)
    rendered = MD.render(summary)
    assert "<script" not in rendered and "<img" not in rendered
    rows = table_with(summary, "workload")
    assert rows[2][0] == f"{HOSTILE} | x (buying)" and len(rows[2]) == 8
    assert table_with(summary, "#")[1][2] == f"workload {HOSTILE} | x: error_rate < 1%"

    page = render_html(doc)
    assert "<script>alert" not in page and "<img src=x" not in page
    (rows,) = html_tables(page, "workloads")
    assert rows[2][0] == f"{HOSTILE} | x (buying)"

    xml = render_junit(doc)
    xmlschema.XMLSchema(SCHEMA).validate(xml)
    failure = junit_cases(xml)[f"workload {HOSTILE} | x: error_rate < 1%"].find("failure")
    assert failure is not None and failure.get("message") == "observed 40 % — limit < 1 %"
