"""summary.md: parsed by a CommonMark + tables renderer (as GitHub renders job summaries), its
tables have the rows and columns they should, hostile text stays text, worst offenders come in
order; the job summary is appended to, never raised from."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from contval.report.markdown import (
    STEP_SUMMARY_LIMIT,
    append_step_summary,
    render_markdown,
    worst_offenders,
)
from contval.report.render import write_reports
from tests.report.sample import HOSTILE, result_document
from tests.report.test_junit import chaos_document, error_document, old_document, skipped_document

MD = MarkdownIt("commonmark").enable("table")


def _text(inline: Token) -> str:
    parts = []
    for child in inline.children or []:
        assert child.type != "html_inline", child.content  # no HTML got through
        if child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        else:
            parts.append(child.content)
    return "".join(parts)


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table as rows (the header first) of cell texts, as a reader sees them."""
    found: list[list[list[str]]] = []
    row: list[str] | None = None
    for token in MD.parse(markdown):
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(_text(token))
        elif token.type == "tr_close" and row is not None:
            found[-1].append(row)
            row = None
    return found


def table_with(markdown: str, first_header: str) -> list[list[str]]:
    matching = [t for t in tables(markdown) if t[0][0] == first_header]
    assert matching, f"no table starting with {first_header!r}"
    return matching[0]


def test_verdict_comes_first() -> None:
    text = render_markdown(result_document(failing=True))
    lines = text.splitlines()
    assert lines[0] == "## contval: FAIL — contoso-shoes"
    html = MD.render(text)
    assert html.startswith("<h2>contval: FAIL — contoso-shoes</h2>\n")
    assert "<p><strong>verdict: FAIL (exit 1: a threshold failed)</strong></p>" in html
    assert "run 20261126-150401-4f2a · env local · label 6325b51" in html


def test_passing_verdict_line() -> None:
    html = MD.render(render_markdown(result_document()))
    assert "<h2>contval: PASS — contoso-shoes</h2>" in html
    assert "verdict: PASS (exit 0: every gate passed)" in html


def test_overview_table_one_row_per_scenario() -> None:
    overview = table_with(render_markdown(result_document(failing=True)), "scenario")
    assert overview == [
        ["scenario", "verdict", "thresholds failed", "baseline", "worst health", "cool-down"],
        ["normal", "FAIL", "1/2", "REGRESSION", "degraded", "-"],
        ["payments-slow", "PASS", "0/2", "PASS", "unhealthy", "5 s, settled"],
    ]


def test_skipped_scenarios_are_rows_too() -> None:
    overview = table_with(render_markdown(skipped_document()), "scenario")
    assert len(overview) == 5
    assert overview[3] == [
        "worker-crash",
        "SKIPPED (payments-slow failed and stop_on_failure is on)",
        "-",
        "-",
        "-",
        "-",
    ]


def test_threshold_tables() -> None:
    all_tables = tables(render_markdown(result_document(failing=True)))
    thresholds = [t for t in all_tables if t[0] == ["threshold", "observed", "limit", "verdict"]]
    assert len(thresholds) == 2  # one per scenario
    assert thresholds[0][1:] == [
        ["error_rate < 1%", "2.5 %", "< 1 %", "FAIL"],
        [
            "browse: p95(latency) < 200ms warn 150ms",
            "180 ms",
            "< 200 ms",
            "pass, degraded (beyond warn 150 ms)",
        ],
    ]
    assert all(len(row) == 4 for t in thresholds for row in t)


def test_baseline_comparisons_that_were_not_a_pass() -> None:
    text = render_markdown(result_document(failing=True))
    comparisons = [t for t in tables(text) if t[0][0] == "comparison"]
    assert [row[0] for row in comparisons[0][1:]] == ["checkout p95", "browse error_rate"]
    assert comparisons[0][1] == [
        "checkout p95",
        "12.0 ms",
        "10.0 ms",
        "+25.0% [+20.0%, +30.0%]",
        "+10.0%",
        "regression",
    ]
    assert [row[0] for row in comparisons[1][1:]] == ["browse error_rate"]  # the passes left out
    html = MD.render(text)
    assert "<strong>Baseline</strong> (rolling, against 3 runs: r1, r2, r3): REGRESSION" in html


def test_health_cooldown_and_faults() -> None:
    html = MD.render(render_markdown(result_document()))
    assert "<strong>Health:</strong> worst unhealthy (per 10-second window); browse unhealthy" in (
        html
    )
    assert "(first at 20–30 s: error_rate 10 % fails &lt; 1 %)" in html
    assert (
        "<strong>Cool-down before it:</strong> 5 s, settled — "
        "GET http://127.0.0.1:8000/health: 200 after 1.0s"
    ) in html
    faults = table_with(render_markdown(chaos_document()), "fault")
    assert [row[0] for row in faults[1:]] == ["payments-slow", "no-netem", "worker-pause"]
    assert faults[2][2] == "skipped"
    assert faults[3][4] == "NO: run `contval recover`"


def test_incomplete_scenarios_say_why() -> None:
    text = render_markdown(error_document())
    overview = table_with(text, "scenario")
    assert overview[1][1] == "ERROR (incomplete)"
    assert overview[2][1] == "INVALID"
    html = MD.render(text)
    assert "verdict: ERROR (exit 3: the run did not complete)" in html
    assert "<strong>Stopped:</strong> interrupted by SIGINT" in html
    assert "<strong>Worker failure:</strong> worker 2 died: exit code -9" in html
    assert (
        "<strong>Baseline:</strong> not compared (a scenario that did not finish is not judged)"
    ) in html
    old = MD.render(render_markdown(old_document()))
    assert "<strong>Baseline:</strong> not compared (history off)" in old


def test_older_document_renders() -> None:
    text = render_markdown(old_document())
    overview = table_with(text, "scenario")
    assert overview[1] == ["normal", "PASS", "1/2", "-", "-", "-"]
    assert "FAIL (no data)" in [row[3] for row in table_with(text, "threshold")]


def test_hostile_text_is_escaped() -> None:
    html = MD.render(render_markdown(result_document(failing=True, hostile=True)))
    assert "<script" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;evil&lt;/b&gt; healthy" in html


def test_table_breaking_text_stays_in_its_cell() -> None:
    doc = result_document(failing=True, hostile=True)
    nasty = "a | b \\| c `code` *em* _u_ [l](javascript:x) <i>&amp;\nnext line ~~s~~ # !"
    doc["scenarios"][0]["name"] = nasty
    doc["scenarios"][0]["thresholds"][0]["expression"] = nasty
    text = render_markdown(doc)
    html = MD.render(text)
    for tag in ("<code>", "<em>", "<a ", "<i>", "<s>", "<del>"):
        assert tag not in html
    flat = nasty.replace("\n", " ")
    overview = table_with(text, "scenario")
    assert overview[1][0] == flat
    assert all(len(row) == 6 for row in overview)
    thresholds = table_with(text, "threshold")
    assert thresholds[1][0] == flat
    assert all(len(row) == 4 for row in thresholds)
    offenders = table_with(text, "#")
    assert offenders[1][1:3] == [flat, flat]


def _threshold(expression: str, observed: float | None, limit: float, unit: str = "ms") -> Any:
    return {
        "expression": expression,
        "verdict": "fail" if observed is not None else "no_data",
        "observed": observed,
        "limit": limit,
        "unit": unit,
        "window": None,
        "abort": False,
        "detail": "",
    }


def test_worst_offenders_furthest_beyond_their_limit_first() -> None:
    doc = result_document(failing=True)  # error_rate 2.5 % vs < 1 %: 2.5×; p95 shift 2.5×
    doc["scenarios"][1]["thresholds"] = [
        _threshold("p95(latency) < 200ms", 300.0, 200.0),  # 1.5×
        _threshold("checks > 99%", 90.0, 99.0, "%"),  # 1.1×
        _threshold("p99(latency) < 100ms", None, 100.0),  # no data: last
        _threshold("dropped_iterations == 0", 3.0, 0.0, "count"),  # over a limit of 0: first
        _threshold("browse: p50(latency) < 10ms", 50.0, 10.0),  # 5×
        _threshold("rps > 100/s", 20.0, 100.0, "/s"),  # 5×, after the one before it
    ]
    comparisons = doc["scenarios"][1]["baseline"]["comparisons"]
    comparisons[0].update(verdict="regression", shift=0.4, low=0.35, high=0.45)  # 4×
    ranked = worst_offenders(doc, top=10)
    assert [(o.scenario, o.what) for o in ranked] == [
        ("payments-slow", "dropped_iterations == 0"),
        ("payments-slow", "browse: p50(latency) < 10ms"),
        ("payments-slow", "rps > 100/s"),
        ("payments-slow", "baseline: checkout p95"),
        ("normal", "error_rate < 1%"),
        ("normal", "baseline: checkout p95"),
        ("payments-slow", "p95(latency) < 200ms"),
        ("payments-slow", "checks > 99%"),
        ("payments-slow", "p99(latency) < 100ms"),
    ]
    text = render_markdown(doc)
    offenders = table_with(text, "#")
    assert offenders[0] == ["#", "scenario", "what", "observed", "limit", "how far"]
    assert len(offenders) == 1 + 5  # the top 5
    assert offenders[1] == [
        "1",
        "payments-slow",
        "dropped_iterations == 0",
        "3",
        "== 0",
        "over a limit of 0",
    ]
    assert offenders[2][2:] == ["browse: p50(latency) < 10ms", "50 ms", "< 10 ms", "5× the limit"]
    assert offenders[4][2:] == [
        "baseline: checkout p95",
        "shift +40.0%",
        "tolerance +10.0%",
        "4× the tolerance",
    ]


def test_no_offenders() -> None:
    html = MD.render(render_markdown(result_document()))
    assert "<h3>Worst offenders</h3>\n<p>None: no threshold failed and nothing regressed.</p>" in (
        html
    )


def test_same_document_same_bytes() -> None:
    doc = result_document(failing=True, hostile=True)
    assert render_markdown(doc) == render_markdown(copy.deepcopy(doc))


def test_written_by_write_reports(tmp_path: Path) -> None:
    doc = skipped_document()
    (path,) = write_reports(doc, tmp_path, ("markdown",))
    assert path == tmp_path / "summary.md"
    assert path.read_text(encoding="utf-8") == render_markdown(doc)


def test_step_summary_is_appended(tmp_path: Path) -> None:
    target = tmp_path / "step_summary.md"
    target.write_text("# earlier step\n", encoding="utf-8")
    environ = {"GITHUB_STEP_SUMMARY": str(target)}
    first = render_markdown(result_document())
    second = render_markdown(result_document(failing=True))
    assert append_step_summary(first, environ) == target
    assert append_step_summary(second, environ) == target
    text = target.read_text(encoding="utf-8")
    assert text == f"# earlier step\n\n{first}\n{second}"
    assert text.count("## contval: ") == 2


def test_step_summary_unset_or_unwritable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert append_step_summary("x") is None
    assert append_step_summary("x", {}) is None
    assert append_step_summary("x", {"GITHUB_STEP_SUMMARY": ""}) is None
    assert append_step_summary("x", {"GITHUB_STEP_SUMMARY": str(tmp_path)}) is None  # a folder
    missing = tmp_path / "no" / "such" / "dir" / "summary.md"
    assert append_step_summary("x", {"GITHUB_STEP_SUMMARY": str(missing)}) is None
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked.md"
        locked.write_text("", encoding="utf-8")
        locked.chmod(0o400)
        assert append_step_summary("x", {"GITHUB_STEP_SUMMARY": str(locked)}) is None


def test_step_summary_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    assert append_step_summary("## hello") == target
    assert target.read_text(encoding="utf-8") == "## hello\n"


def test_step_summary_stays_within_githubs_limit(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    target.write_bytes(b"x" * (STEP_SUMMARY_LIMIT - 1000) + b"\n")
    environ = {"GITHUB_STEP_SUMMARY": str(target)}
    huge = "\n".join(f"| row {i} | é |" for i in range(1000))
    assert append_step_summary(huge, environ) == target
    data = target.read_bytes()
    assert len(data) <= STEP_SUMMARY_LIMIT
    text = data.decode("utf-8")
    assert text.endswith("_(truncated: a job summary holds at most 1 MiB)_\n")
    assert "| row 0 | é |" in text
    full = STEP_SUMMARY_LIMIT - 10
    target.write_bytes(b"x" * full)
    assert append_step_summary(huge, environ) is None  # no room even for the note
    assert target.stat().st_size == full


def test_hostile_markup_from_sample_is_in_the_summary() -> None:
    """The sample's hostile text reaches summary.md (escaped), so the tests above mean it."""
    assert HOSTILE.replace("<", "&lt;").replace(">", "&gt;") in render_markdown(
        result_document(failing=True, hostile=True)
    ).replace("\\_", "_")
