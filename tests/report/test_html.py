"""The HTML report as text: deterministic, small, self-contained, escaped, and sturdy against
documents with fields missing (the browser tests are in test_html_browser.py)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from contval.report.html import render_html
from contval.report.html_baseline import interval_bar, shift_value
from contval.report.html_data import chart_data, fault_window
from contval.report.html_fmt import (
    compact,
    fmt_ms,
    fmt_rate,
    fmt_seconds,
    fmt_unit,
    script_json,
)
from tests.report.sample import result_document

DATA_RE = re.compile(r'<script type="application/json" id="contval-data">(.*?)</script>', re.S)


def chart_json(page: str) -> dict[str, Any]:
    match = DATA_RE.search(page)
    assert match, "no chart data in the page"
    loaded: dict[str, Any] = json.loads(match.group(1))
    return loaded


def test_same_document_same_bytes():
    doc = result_document(failing=True, hostile=True)
    first = render_html(doc)
    assert first == render_html(doc)
    # re-made later from the history store: the document went through JSON and back
    assert render_html(json.loads(json.dumps(doc))) == first
    assert doc == result_document(failing=True, hostile=True), "the document was changed"


def test_one_hour_run_is_small():
    page = render_html(result_document(seconds=3600))
    size = len(page.encode("utf-8"))
    assert size < 5_000_000
    assert size < 1_000_000, f"{size} bytes: the columns are no longer compact"
    data = chart_json(page)
    flow = data["scenarios"][0]["flows"][0]
    assert flow["t0"] == 0 and flow["n"] == 3600 and "t" not in flow
    assert len(flow["p95"]) == 3600 and len(flow["req"]) == 3600


def test_nothing_is_fetched():
    page = render_html(result_document(failing=True))
    refs = re.findall(r'\b(?:src|href|action|poster|srcset)\s*=\s*"([^"]*)"', page)
    assert refs, "expected the icon and the in-page links"
    assert all(r.startswith(("#", "data:")) for r in refs), refs
    assert "url(" not in page and "@import" not in page
    assert "<link" not in page.replace('<link rel="icon" href="data:,">', "")
    assert "<img" not in page and "<iframe" not in page
    assert page.count("<script") == 2  # the data, and the inline code
    assert "fetch(" not in page and "XMLHttpRequest" not in page and "innerHTML" not in page


def test_markup_from_the_run_is_text():
    page = render_html(result_document(failing=True, hostile=True))
    assert "<script>alert" not in page and "<b>evil" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page  # the threshold detail
    assert "&lt;b&gt;evil&lt;/b&gt;" in page  # the flow, in the health strip and tables
    raw = DATA_RE.search(page)
    assert raw and "\\u003cb\\u003eevil\\u003c/b\\u003e" in raw.group(1)
    names = [f["name"] for f in chart_json(page)["scenarios"][0]["flows"]]
    assert names == ["browse", "checkout", "<b>evil</b>"]


def test_script_json_cannot_end_its_element():
    text = script_json({"x": "</script><!-- & \u2028\u2029"}, "d")
    assert text.count("</script>") == 1 and "<!--" not in text
    body = text.removeprefix('<script type="application/json" id="d">').removesuffix("</script>")
    assert "\u2028" not in body and "\\u2028" in body and "\\u2029" in body
    assert json.loads(body) == {"x": "</script><!-- & \u2028\u2029"}


def test_header_shows_the_run():
    page = render_html(result_document(failing=True))
    header = page[page.index("<header") : page.index("</header>")]
    assert 'class="badge v-fail big">FAIL</span>' in header
    for text in ("20261126-150401-4f2a", "local", "6325b51", "2026-11-26T15:04:01.123+00:00"):
        assert text in header
    assert "<dt>exit code</dt><dd>1</dd>" in header
    assert '<dt>health</dt><dd><span class="badge v-unhealthy">unhealthy</span>' in header


def test_pipeline_order_and_skipped():
    doc = result_document(failing=True)
    doc["pipeline"] = {
        "order": ["normal", "payments-slow", "worker-crash"],
        "stop_on_failure": True,
        "skipped": ["worker-crash"],
        "stopped_after": "payments-slow",
    }
    page = render_html(doc)
    nav = page[page.index('<nav class="pipeline">') : page.index("</nav>")]
    chips = re.findall(r'<(?:a|span) class="chip[^"]*"[^>]*>(.*?)</(?:a|span)>', nav)
    assert chips == ["normal", "payments-slow", "worker-crash <i>(skipped)</i>"]
    assert "stop on failure: yes · stopped after payments-slow · skipped: worker-crash" in nav


def test_tables_match_the_document():
    doc = result_document(failing=True)
    page = render_html(doc)
    for i, scenario in enumerate(doc["scenarios"]):
        section = page[page.index(f'id="s{i}"') :]
        section = section[: section.index("</section>")]
        thresholds = section[section.index('<table class="thresholds">') :]
        thresholds = thresholds[: thresholds.index("</table>")]
        assert thresholds.count("<tr>") == len(scenario["thresholds"]) + 1
        baseline = section[section.index('<table class="baseline">') :]
        baseline = baseline[: baseline.index("</table>")]
        assert baseline.count("<tr>") == len(scenario["baseline"]["comparisons"]) + 1
        assert len(re.findall(r'class="cell h-[a-z_]+" title="', section)) == sum(
            len(f["windows"]) for f in scenario["health"]["flows"].values()
        )
    # the failed threshold: observed vs limit in its unit, and the degraded one's warn level
    assert "<td>2.5 %</td><td>1 %</td><td>–</td>" in page
    assert "<td>180 ms</td><td>200 ms</td><td>150 ms</td>" in page
    assert "r1</code> <code>r2</code> <code>r3</code>" in page


def test_fault_windows_for_the_charts():
    done = {"at_s": 10.0, "for_s": 15.0, "injected_at_s": 10.02, "reverted_at_s": 25.01}
    assert fault_window(done) == (10.02, 25.01)
    planned = {**done, "injected_at_s": None, "reverted_at_s": None}
    assert fault_window(planned) == (10.0, 25.0)
    assert fault_window({"name": "x"}) is None
    data = chart_data(result_document()["scenarios"][1])
    assert data["faults"] == [{"name": "payments-slow", "t0": 20.02, "t1": 40.01, "skipped": False}]
    assert data["end"] == 60 and data["window_s"] == 10


def test_series_that_are_not_a_plain_count_keep_their_times():
    scenario = result_document()["scenarios"][0]
    columns = scenario["flow_series"]["browse"]
    columns["t"] = [0, 1, 3]
    columns["p95_ms"] = [1.23456, None, float("nan")]
    flow = chart_data(scenario)["flows"][0]
    assert flow["t"] == [0, 1, 3] and "t0" not in flow
    assert flow["p95"] == [1.235, None, None]
    assert len(flow["req"]) == 3
    # a row without its second is dropped from every column; a short column is padded
    columns.update(t=[0, None, 2, 3], p95_ms=[1.0, 9.0, 3.0], requests=[5, 6, 7, 8])
    flow = chart_data(scenario)["flows"][0]
    assert flow["t"] == [0, 2, 3] and flow["p95"] == [1, 3, None] and flow["req"] == [5, 7, 8]


def test_older_documents_chart_the_whole_run():
    scenario = result_document()["scenarios"][0]
    del scenario["flow_series"]
    flows = chart_data(scenario)["flows"]
    assert [f["name"] for f in flows] == ["(all flows)"]
    assert flows[0]["req"][:3] == [100, 100, 100] and flows[0]["p99"][0] == 3


def bare_scenario() -> dict[str, Any]:
    scenario: dict[str, Any] = result_document()["scenarios"][0]
    for key in ("faults", "phases", "baseline", "health", "flow_series", "series", "cooldown"):
        scenario.pop(key, None)
    return scenario


def test_a_scenario_without_faults_baseline_or_cooldown():
    doc = result_document()
    doc["scenarios"] = [bare_scenario()]
    for key in ("run_id", "env", "label", "health", "pipeline"):
        del doc[key]
    page = render_html(doc)
    assert "No baseline comparison (history off or not judged)." in page
    assert "No health windows in this document." in page
    assert "No per-second series in this document: no charts." in page
    assert '<dt>cool-down before</dt><dd><span class="badge v-no_data">none</span>' in page
    assert "Faults: verification" not in page
    assert chart_json(page) == {
        "scenarios": [{"end": 60, "window_s": None, "flows": [], "faults": []}]
    }


def test_baseline_error_and_no_baseline():
    doc = result_document()
    doc["scenarios"][0]["baseline"] = {"verdict": "error", "detail": "store locked"}
    doc["scenarios"][1]["baseline"]["verdict"] = "no_baseline"
    page = render_html(doc)
    assert '<span class="badge v-error">error</span> mode <b>–</b> · store locked' in page
    assert '<span class="badge v-no_baseline">no baseline yet</span>' in page


def test_cooldown_states():
    doc = result_document()
    doc["scenarios"][1]["cooldown"]["settled"] = False
    assert '<span class="badge v-fail">not settled</span> waited 5 s' in render_html(doc)
    doc["scenarios"][1]["cooldown"]["settled"] = None
    assert '<span class="badge v-no_data">not checked</span>' in render_html(doc)


def test_faults_verification_and_rollback():
    doc = result_document()
    fault = doc["scenarios"][1]["faults"][0]
    fault.update(reverted=False, verified=False, error="tc: permission denied")
    page = render_html(doc)
    row = page[page.index("<td><b>payments-slow</b></td>") :]
    row = row[: row.index("</tr>")]
    assert "<td>at 20 s for 20 s</td><td>20.02 s → 40.01 s</td>" in row
    assert '<span class="badge v-fail">no</span> <span class="muted">latency toxic' in row
    assert row.count('class="badge v-fail">no</span>') == 2
    assert "tc: permission denied" in row
    fault.update(skipped=True, injected_at_s=None, reverted_at_s=None)
    page = render_html(doc)
    assert "<td>not injected</td><td>" in page and ">skipped</span>" in page
    assert chart_data(doc["scenarios"][1])["faults"][0]["skipped"] is True


def test_phases_and_recovery():
    page = render_html(result_document())
    phases = page[page.index('<table class="phases num">') :]
    phases = phases[: phases.index("</table>")]
    assert phases.count("<tr>") == 1 + 3 * 2  # header, then before/during/after × (all, checkout)
    assert "<td>during</td><td>20–40 s</td><td>100</td><td>0</td><td>0 %</td><td>100 %</td>" in (
        phases
    )
    assert '<span class="badge v-pass">recovered</span></td><td>3 s</td><td>40–43 s</td>' in page


@pytest.mark.parametrize(
    "key",
    [
        "thresholds",
        "flows",
        "totals",
        "faults",
        "phases",
        "baseline",
        "health",
        "flow_series",
        "series",
        "cooldown",
        "duration_s",
        "verdict",
        "name",
    ],
)
def test_missing_or_null_scenario_fields(key: str):
    for value in (None, "junk", [None], {"x": None}):
        doc = result_document(failing=True)
        doc["scenarios"][1][key] = value
        assert "</html>" in render_html(doc)
        del doc["scenarios"][1][key]
        assert "</html>" in render_html(doc)


def test_null_values_inside_entries():
    doc = result_document(failing=True, hostile=True)
    chaos = doc["scenarios"][1]
    for entry in [
        *chaos["thresholds"],
        *chaos["baseline"]["comparisons"],
        *chaos["faults"],
        chaos["cooldown"],
    ]:
        for k in list(entry):
            entry[k] = None
    for windows in chaos["health"]["flows"].values():
        windows["windows"] = [{"t": None, "state": None, "reason": None}, None]
    chaos["phases"]["payments-slow"] = {"before": None, "recovery": {"flows": {"x": None}}}
    for columns in chaos["flow_series"].values():
        for k in columns:
            columns[k] = [None] * 60 if k != "t" else columns[k]
    page = render_html(doc)
    assert page.count('class="cell h-no_data"') >= 4  # two broken windows per flow


def test_top_level_fields_missing():
    doc: dict[str, Any] = {"scenarios": [bare_scenario()]}
    page = render_html(doc)
    assert 'class="badge v-unknown big">UNKNOWN</span>' in page
    assert render_html({}).count("No scenarios in this document.") == 1
    assert "</html>" in render_html({"scenarios": None, "pipeline": "x", "verdict": None})


def test_numbers_for_people():
    assert [fmt_ms(v) for v in (0.843, 12.34, 245.6, 12_345.0, None)] == [
        "0.84 ms",
        "12.3 ms",
        "246 ms",
        "12.3 s",
        "–",
    ]
    assert [fmt_rate(v) for v in (0, 0.0025, 0.125, 1.0, 0.00001, None)] == [
        "0 %",
        "0.25 %",
        "12.5 %",
        "100 %",
        "< 0.01 %",
        "–",
    ]
    assert fmt_unit(2.5, "%") == "2.5 %" and fmt_unit(1200.0, "count") == "1,200"
    assert fmt_unit(35.25, "/s") == "35.2/s" and fmt_unit(None, "ms") == "–"
    assert fmt_seconds(3600) == "60 min 00 s" and fmt_seconds(5.0) == "5 s"
    assert shift_value("error_rate", 0.005) == "+0.50 pp" and shift_value("p95", -0.1) == "-10.0 %"
    assert compact(1.23456) == 1.235 and compact(50.0) == 50 and compact(True) is None
    assert compact(float("inf")) is None and compact(123456.7) == 123500


def test_interval_bar_against_the_tolerance():
    bar = interval_bar(
        {"metric": "p95", "shift": 0.25, "low": 0.2, "high": 0.3, "tolerance": 0.1,
         "verdict": "regression"}
    )  # fmt: skip
    tol = float(re.search(r'class="tol" x1="([\d.]+)"', bar).group(1))  # type: ignore[union-attr]
    zero = float(re.search(r'class="zero" x1="([\d.]+)"', bar).group(1))  # type: ignore[union-attr]
    dot = float(re.search(r'<circle cx="([\d.]+)"', bar).group(1))  # type: ignore[union-attr]
    assert zero < tol < dot <= 160
    assert 'fill="#d23b3b"' in bar and "shift +25.0 % [+20.0 %, +30.0 %], tolerance +10.0 %" in bar
    faster = interval_bar(
        {"metric": "rps", "shift": 0.02, "low": -0.01, "high": 0.05, "tolerance": -0.1,
         "verdict": "pass"}
    )  # fmt: skip
    tol = float(re.search(r'class="tol" x1="([\d.]+)"', faster).group(1))  # type: ignore[union-attr]
    assert tol < 80 and 'class="beyond" x="0"' in faster
    assert interval_bar({"verdict": "no_baseline"}) == "–"


def test_input_is_not_mutated():
    doc = result_document(failing=True, hostile=True)
    before = copy.deepcopy(doc)
    render_html(doc)
    assert doc == before
