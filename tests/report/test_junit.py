"""junit.xml: valid against the JUnit schema CI systems read, counts that add up, failures that
say observed and limit, and text from the system under test that stays text."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import xmlschema

from contval.report.junit import render_junit
from contval.report.render import write_reports
from tests.report.sample import HOSTILE, result_document

SCHEMA = Path(__file__).parent / "schemas" / "junit-10.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(SCHEMA)


def chaos_document() -> dict[str, Any]:
    """The chaos scenario with a second fault that could not run here and a third that was not
    confirmed reverted (exit code 4)."""
    doc = result_document()
    chaos = doc["scenarios"][1]
    fault = chaos["faults"][0]
    chaos["faults"].append({**fault, "name": "no-netem", "type": "netem", "skipped": True})
    chaos["faults"][-1].update(injected_at_s=None, reverted_at_s=None, detail="tc: not found")
    chaos["faults"].append({**fault, "name": "worker-pause", "type": "pause", "reverted": False})
    chaos["faults"][-1]["detail"] = "process 4242 still stopped"
    doc.update(verdict="error", exit_code=4)
    return doc


def skipped_document() -> dict[str, Any]:
    doc = result_document(failing=True)
    doc["pipeline"].update(
        order=["normal", "payments-slow", "worker-crash", "soak"],
        stop_on_failure=True,
        skipped=["worker-crash", "soak"],
        stopped_after="payments-slow",
    )
    return doc


def error_document() -> dict[str, Any]:
    doc = result_document()
    normal = doc["scenarios"][0]
    normal.update(
        verdict="error",
        complete=False,
        stop_reason="interrupted by SIGINT",
        failures=["worker 2 died: exit code -9"],
    )
    normal.pop("baseline")
    doc["scenarios"][1].update(
        verdict="invalid", stop_reason="invalid: the steady state did not hold before x"
    )
    doc.update(verdict="error", exit_code=3, complete=False)
    return doc


def old_document() -> dict[str, Any]:
    """What an older contval wrote: no pipeline, health, cool-down, faults or baseline; no
    warn/state on thresholds; one threshold without data."""
    doc = result_document()
    for key in ("pipeline", "run_id", "env", "label", "health"):
        doc.pop(key)
    for scenario in doc["scenarios"]:
        for key in ("cooldown", "baseline", "faults", "phases", "health", "flow_series"):
            scenario.pop(key, None)
        for threshold in scenario["thresholds"]:
            threshold.pop("warn")
            threshold.pop("state")
            threshold.pop("baseline_runs")
    doc["scenarios"][0]["thresholds"][1].update(verdict="no_data", observed=None)
    return doc


def checks_document(failing: bool = True) -> dict[str, Any]:
    """Failed checks on two steps of `normal` (hostile text in one), the rest as other."""
    doc = result_document(failing=failing)
    flow = next(iter(doc["scenarios"][0]["flows"].values()))
    first = next(iter(flow["steps"]))
    second = "sign"
    flow["steps"][second] = copy.deepcopy(flow["steps"][first])
    flow["steps"][first]["failures"] = [
        {"condition": "status", "expected": "200", "actual": "503", "count": 270},
        {"condition": "body", "expected": 'contains "ok"', "actual": HOSTILE, "count": 3},
    ]
    flow["steps"][first]["failures_other"] = 2
    flow["steps"][second]["failures"] = [
        {"condition": "python s:f", "expected": "no error", "actual": "E: \x1b[31m", "count": 1}
    ]
    return doc


DOCUMENTS: dict[str, Callable[[], dict[str, Any]]] = {
    "passing": result_document,
    "failed checks": checks_document,
    "failing": lambda: result_document(failing=True),
    "hostile": lambda: result_document(failing=True, hostile=True),
    "chaos": chaos_document,
    "skipped scenarios": skipped_document,
    "error scenario": error_document,
    "older document": old_document,
}


def parse(doc: dict[str, Any]) -> ET.Element:
    return ET.fromstring(render_junit(doc).encode("utf-8"))


def cases(root: ET.Element, suite: str) -> dict[str, ET.Element]:
    found = root.find(f"testsuite[@name='{suite}']")
    assert found is not None, suite
    return {c.attrib["name"]: c for c in found.iter("testcase")}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_valid_against_the_junit_schema(name: str, schema: xmlschema.XMLSchema) -> None:
    text = render_junit(DOCUMENTS[name]())
    schema.validate(text)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')


@pytest.mark.parametrize("name", DOCUMENTS)
def test_counts_equal_the_testcases(name: str) -> None:
    root = parse(DOCUMENTS[name]())
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for suite in root.iter("testsuite"):
        testcases = suite.findall("testcase")
        assert int(suite.attrib["tests"]) == len(testcases)
        for attr, child in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
            assert int(suite.attrib[attr]) == sum(1 for c in testcases if c.find(child) is not None)
        for case in testcases:  # one outcome per testcase at most
            assert sum(case.find(k) is not None for k in ("failure", "error", "skipped")) <= 1
        for key in totals:
            totals[key] += int(suite.attrib[key])
    assert {k: int(root.attrib[k]) for k in totals} == totals


def test_passing_run_has_no_failure() -> None:
    root = parse(result_document())
    assert root.attrib == {
        "name": "contoso-shoes",
        "tests": "10",
        "failures": "0",
        "errors": "0",
        "time": "120.000",
    }
    normal = root.find("testsuite[@name='normal']")
    assert normal is not None
    assert normal.attrib["timestamp"] == "2026-11-26T15:04:01"
    assert normal.attrib["time"] == "60.000"
    props = {p.attrib["name"]: p.attrib["value"] for p in normal.iter("property")}
    assert props["started_at"] == "2026-11-26T15:04:01.123+00:00"
    assert props["run_id"] == "20261126-150401-4f2a"
    assert props["baseline_runs"] == "r1, r2, r3"
    names = list(cases(root, "normal"))
    assert names == [
        "error_rate < 1%",
        "browse: p95(latency) < 200ms warn 150ms",
        "baseline: checkout p95",
        "baseline: browse error_rate",
    ]
    assert {c.attrib["classname"] for c in root.iter("testcase")} == {
        "contoso-shoes.normal",
        "contoso-shoes.payments-slow",
    }


def test_failed_threshold_names_observed_and_limit() -> None:
    root = parse(result_document(failing=True))
    failure = cases(root, "normal")["error_rate < 1%"].find("failure")
    assert failure is not None
    assert failure.attrib["message"] == "observed 2.5 % — limit < 1 %"
    assert failure.attrib["type"] == "threshold"


def test_regression_fails_and_inconclusive_passes_with_a_note() -> None:
    normal = cases(parse(result_document(failing=True)), "normal")
    regression = normal["baseline: checkout p95"].find("failure")
    assert regression is not None
    assert regression.attrib["message"] == (
        "regression: current 12.0 ms vs baseline 10.0 ms: "
        "shift +25.0% [+20.0%, +30.0%], tolerance +10.0%"
    )
    inconclusive = normal["baseline: browse error_rate"]
    assert inconclusive.find("failure") is None
    note = inconclusive.find("system-out")
    assert note is not None and note.text is not None
    assert note.text.startswith("inconclusive, not a failure")


def test_phase_comparison_is_named_with_its_phase() -> None:
    chaos = cases(parse(result_document()), "payments-slow")
    assert "baseline: checkout p99 (during payments-slow)" in chaos


def test_degraded_threshold_passes_with_a_warning() -> None:
    case = cases(parse(result_document()), "normal")["browse: p95(latency) < 200ms warn 150ms"]
    assert [child.tag for child in case] == ["system-out"]
    assert case[0].text == (
        "warning: degraded, beyond its warn level 150 ms: observed 180 ms — limit < 200 ms"
    )


def test_no_data_fails() -> None:
    case = cases(parse(old_document()), "normal")["browse: p95(latency) < 200ms warn 150ms"]
    failure = case.find("failure")
    assert failure is not None
    assert failure.attrib == {"message": "no data — limit < 200 ms", "type": "no_data"}


def test_no_baseline_is_skipped_never_green() -> None:
    doc = result_document()
    baseline = doc["scenarios"][0]["baseline"]
    baseline.update(verdict="no_baseline", baseline_runs=[], comparisons=[])
    baseline["detail"] = "0 baseline runs, 3 needed to gate"
    case = cases(parse(doc), "normal")["baseline"]
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.attrib["message"] == "no baseline yet"
    assert skipped.text == "0 baseline runs, 3 needed to gate"


def test_no_baseline_fails_when_it_failed_the_run() -> None:
    """Exit code 5 without a regression: --require-baseline made the missing baseline fatal."""
    doc = result_document()
    for scenario in doc["scenarios"]:
        scenario["baseline"]["verdict"] = "no_baseline"
        for comparison in scenario["baseline"]["comparisons"]:
            comparison.update(verdict="no_baseline", shift=None, low=None, high=None)
    no_required = parse(doc)
    assert no_required.attrib["failures"] == "0"
    skipped = cases(no_required, "normal")["baseline: checkout p95"].find("skipped")
    assert skipped is not None and skipped.attrib["message"] == "no baseline yet"
    doc.update(verdict="fail", exit_code=5)
    required = parse(doc)
    failure = cases(required, "normal")["baseline: checkout p95"].find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "no_baseline"
    assert required.attrib["failures"] == "5"
    # Since issue 6 the document records the flag, and the record wins over the exit code.
    doc["require_baseline"] = False
    assert parse(doc).attrib["failures"] == "0"
    doc.update(require_baseline=True, verdict="pass", exit_code=0)
    assert parse(doc).attrib["failures"] == "5"


def test_baseline_error_is_an_error() -> None:
    doc = result_document()
    doc["scenarios"][0]["baseline"] = {"verdict": "error", "detail": "database is locked"}
    error = cases(parse(doc), "normal")["baseline"].find("error")
    assert error is not None
    assert error.attrib["message"] == "baseline: database is locked"


def test_faults_verified_skipped_and_not_reverted() -> None:
    chaos = cases(parse(chaos_document()), "payments-slow")
    ok = chaos["fault: payments-slow (latency on payments-link)"]
    assert ok.find("failure") is None and ok.find("skipped") is None
    skipped = chaos["fault: no-netem (netem on payments-link)"].find("skipped")
    assert skipped is not None and skipped.attrib["message"] == "skipped: tc: not found"
    failure = chaos["fault: worker-pause (pause on payments-link)"].find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "fault_not_reverted"
    assert "process 4242 still stopped" in failure.attrib["message"]
    assert "contval recover" in failure.attrib["message"]


def test_incomplete_and_invalid_scenarios_get_an_error() -> None:
    root = parse(error_document())
    error = cases(root, "normal")["scenario did not complete"].find("error")
    assert error is not None
    assert error.attrib == {"message": "interrupted by SIGINT", "type": "error"}
    assert error.text == "worker 2 died: exit code -9"
    invalid = cases(root, "payments-slow")["scenario invalid"].find("error")
    assert invalid is not None
    assert invalid.attrib["message"].startswith("invalid: the steady state did not hold")
    assert root.attrib["errors"] == "2"


def test_skipped_scenarios_get_a_testsuite_with_one_skipped_testcase() -> None:
    root = parse(skipped_document())
    for name in ("worker-crash", "soak"):
        suite = root.find(f"testsuite[@name='{name}']")
        assert suite is not None
        assert (suite.attrib["tests"], suite.attrib["skipped"]) == ("1", "1")
        skipped = suite.find("testcase/skipped")
        assert skipped is not None
        assert skipped.attrib["message"] == (
            "skipped: payments-slow failed and stop_on_failure is on"
        )


def test_hostile_text_round_trips_as_text() -> None:
    doc = result_document(failing=True, hostile=True)
    doc["scenarios"][0]["name"] = "normal <b>&amp;\"'</b>"
    doc["scenarios"][0]["thresholds"][0]["expression"] = 'error_rate < 1% ]]> <x a="1">'
    text = render_junit(doc)
    assert "<script>" not in text and "<b>" not in text
    root = ET.fromstring(text)
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.attrib["name"] == "normal <b>&amp;\"'</b>"
    case = suite.find("testcase")
    assert case is not None
    assert case.attrib["name"] == 'error_rate < 1% ]]> <x a="1">'
    assert case.attrib["classname"] == "contoso-shoes.normal <b>&amp;\"'</b>"
    failure = case.find("failure")
    assert failure is not None
    assert failure.text == f"check failed: body was {HOSTILE}"


def test_characters_illegal_in_xml_are_dropped(schema: xmlschema.XMLSchema) -> None:
    doc = result_document(failing=True)
    threshold = doc["scenarios"][0]["thresholds"][0]
    threshold["detail"] = "body: \x00\x01\x08a\x0b\x0c\x1b[31mred\x7f\ud800 é\tok\nline 2"
    threshold["expression"] = "error_rate\x1f < 1%"
    text = render_junit(doc)
    schema.validate(text)
    failure = cases(ET.fromstring(text), "normal")["error_rate < 1%"].find("failure")
    assert failure is not None
    assert failure.text == "body: a[31mred\x7f é\tok\nline 2"


def test_same_document_same_bytes() -> None:
    doc = result_document(failing=True, hostile=True)
    assert render_junit(doc) == render_junit(copy.deepcopy(doc))
    assert render_junit(doc) == render_junit(result_document(failing=True, hostile=True))


def test_written_by_write_reports(tmp_path: Path, schema: xmlschema.XMLSchema) -> None:
    doc = chaos_document()
    (path,) = write_reports(doc, tmp_path, ("junit",))
    assert path == tmp_path / "junit.xml"
    schema.validate(str(path))
    assert path.read_text(encoding="utf-8") == render_junit(doc)


def test_failed_checks_are_failures_of_a_failed_scenario_and_notes_of_a_passing_one() -> None:
    doc = checks_document()
    flow_name, flow = next(iter(doc["scenarios"][0]["flows"].items()))
    first, second = next(iter(flow["steps"])), "sign"
    before = int(parse(result_document(failing=True)).attrib["failures"])
    root = parse(doc)
    assert int(root.attrib["failures"]) == before + 2  # one testcase per step with failures
    found = cases(root, "normal")
    failure = found[f"failed checks: {flow_name}/{first}"].find("failure")
    assert failure is not None and failure.attrib["type"] == "failed_checks"
    assert failure.attrib["message"] == "275 failed checks: status: expected 200, actual 503 (270×)"
    assert failure.text == (
        "status: expected 200, actual 503 (270×)\n"
        f'body: expected contains "ok", actual {HOSTILE} (3×)\n'
        "(other failures): 2×"
    )
    single = found[f"failed checks: {flow_name}/{second}"].find("failure")
    assert single is not None and single.attrib["message"].startswith("1 failed check: python")
    passing = cases(parse(checks_document(failing=False)), "normal")
    note = passing[f"failed checks: {flow_name}/{first}"]
    assert note.find("failure") is None
    out = note.find("system-out")
    assert out is not None and out.text is not None and out.text.startswith("status: expected")
