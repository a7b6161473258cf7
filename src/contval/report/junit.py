"""`junit.xml`: a suite run as JUnit XML, for the test views of CI systems (GitHub Actions
test reporters, Azure DevOps' PublishTestResults, GitLab, Jenkins).

One `<testsuite>` per scenario (and per scenario that was not run); in it one `<testcase>` per
threshold (a workload run `alongside` adds its own, `workload NAME: EXPRESSION`), per baseline
comparison (a workload's against its own baseline: `workload NAME: baseline: …`, and one
`workload NAME: baseline` with its verdict and runs) and per fault, plus an `<error>` testcase
when the scenario did not complete or was invalid, and a `failed checks: flow/step` testcase per
step whose checks failed, listing condition, expected, actual and count: a `<failure>` when the
scenario failed (they explain it), else a note (failed checks alone never fail a run: its
thresholds judge).
The shape is the one the Jenkins xUnit plugin's `junit-10.xsd` describes (the schema pytest
validates its own JUnit XML against; vendored in tests/report/schemas/), so `<testsuites>`
carries tests/failures/errors/time but no `skipped` count, which that schema does not allow
there: each `<testsuite>` has its own.

A pure function of the document: same document, same bytes. Text is escaped by ElementTree,
and characters XML 1.0 cannot carry (control characters from the system under test) are
dropped first.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from contval.exitcodes import ExitCode
from contval.report.console import (
    comparison_name,
    failures_rows,
    metric_value,
    not_run,
    observed_vs_limit,
    scenarios_of,
    shift_text,
    shift_value,
    with_unit,
)
from contval.report.workloads import all_thresholds, label, workloads_of

_ILLEGAL_XML: Final = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
NO_BASELINE: Final = "no baseline yet"


def xml_text(value: object) -> str:
    """Text XML 1.0 can carry: control characters (and lone surrogates) removed."""
    return _ILLEGAL_XML.sub("", "" if value is None else str(value))


def _seconds(value: object) -> str:
    """`60.000`: what every JUnit reader parses (no exponent, at most 3 decimals)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "0.000"
    return f"{max(float(value), 0.0):.3f}"


def _timestamp(value: object) -> str | None:
    """`started_at` in UTC, ISO 8601 without zone or fraction: the Ant convention every reader
    parses (the exact value stays in the `started_at` property)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


class _Suite:
    """One `<testsuite>` being filled: counts kept with the testcases they count."""

    def __init__(self, classname: str) -> None:
        self.classname = classname
        self.cases: list[ET.Element] = []
        self.failures = self.errors = self.skipped = 0

    def case(self, name: str) -> ET.Element:
        element = ET.Element(
            "testcase", {"classname": xml_text(self.classname), "name": xml_text(name)}
        )
        element.set("time", "0.000")
        self.cases.append(element)
        return element

    def outcome(
        self, case: ET.Element, kind: str, message: str, text: str = "", **attrs: str
    ) -> None:
        """Mark `case` failed, errored or skipped (one outcome per testcase)."""
        child = ET.SubElement(case, kind, {"message": xml_text(message), **attrs})
        if text:
            child.text = xml_text(text)
        if kind == "failure":
            self.failures += 1
        elif kind == "error":
            self.errors += 1
        else:
            self.skipped += 1

    @staticmethod
    def note(case: ET.Element, text: str) -> None:
        ET.SubElement(case, "system-out").text = xml_text(text)


def _threshold(suite: _Suite, threshold: Mapping[str, Any], workload: str | None = None) -> None:
    """One testcase; a workload's own threshold is named `workload NAME: EXPRESSION`."""
    name = str(threshold.get("expression") or "threshold")
    case = suite.case(name if workload is None else f"workload {workload}: {name}")
    verdict = threshold.get("verdict")
    details = [str(threshold.get("detail") or "")]
    window = threshold.get("window")
    if isinstance(window, list) and len(window) == 2 and window[1] != window[0]:
        details.append(f"worst window {window[0]}–{window[1]} s from the scenario's start")
    runs = threshold.get("baseline_runs")
    if runs:
        details.append("baseline runs: " + ", ".join(map(str, runs)))
    text = "\n".join(d for d in details if d)
    summary = observed_vs_limit(threshold)
    if verdict == "pass":
        if threshold.get("state") == "degraded":
            warn = with_unit(threshold.get("warn"), str(threshold.get("unit") or "count"))
            summary = f"warning: degraded, beyond its warn level {warn}: {summary}"
        suite.note(case, "\n".join(d for d in (summary, text) if d))
        return
    if verdict == "no_data":
        suite.outcome(case, "failure", summary, text, type="no_data")
        return
    if threshold.get("abort"):
        summary += " (aborted the run)"
    suite.outcome(case, "failure", summary, text, type="threshold")


def comparison_text(comparison: Mapping[str, Any]) -> str:
    """`current 12.0 ms vs baseline 10.0 ms: shift +20.0% [+15.0%, +25.0%], tolerance +10.0%`."""
    metric = str(comparison.get("metric", ""))
    text = (
        f"current {metric_value(metric, comparison.get('current'))} vs baseline "
        f"{metric_value(metric, comparison.get('baseline'))}"
    )
    if comparison.get("shift") is not None:
        interval = comparison.get("low") is not None and comparison.get("high") is not None
        shift = shift_text(dict(comparison)) if interval else ""
        text += f": shift {shift or shift_value(metric, comparison['shift'])}"
    if comparison.get("tolerance") is not None:
        text += f", tolerance {shift_value(metric, comparison['tolerance'])}"
    return text


def _comparison(
    suite: _Suite, comparison: Mapping[str, Any], require_baseline: bool, prefix: str = ""
) -> None:
    case = suite.case(prefix + comparison_name(comparison))
    verdict = comparison.get("verdict")
    numbers = comparison_text(comparison)
    text = str(comparison.get("detail") or "")
    if verdict == "regression":
        suite.outcome(case, "failure", f"regression: {numbers}", text, type="regression")
    elif verdict == "no_baseline" and require_baseline:
        message = f"{NO_BASELINE}, and --require-baseline asks for one"
        suite.outcome(case, "failure", message, text, type="no_baseline")
    elif verdict == "no_baseline":
        suite.outcome(case, "skipped", NO_BASELINE, text)
    else:
        note = {"inconclusive": "inconclusive, not a failure: ", "improvement": "improvement: "}
        suite.note(case, note.get(str(verdict), "") + "\n".join(d for d in (numbers, text) if d))


def _baseline(suite: _Suite, baseline: object, require_baseline: bool, prefix: str = "") -> None:
    """One testcase per comparison; without comparisons, one for the gate's verdict. The
    baseline runs they were judged against are the testsuite's `baseline_runs` property (a
    workload's: its `workload NAME: baseline` testcase's output). `prefix`: `workload NAME: `
    for a workload's comparison with its own baseline."""
    if not isinstance(baseline, Mapping):
        return  # history off (or an older document): nothing was compared
    comparisons = [c for c in baseline.get("comparisons") or [] if isinstance(c, Mapping)]
    for comparison in comparisons:
        _comparison(suite, comparison, require_baseline, prefix)
    if comparisons and not prefix:
        return
    verdict = baseline.get("verdict")
    detail = str(baseline.get("detail") or "")
    case = suite.case(f"{prefix}baseline")
    if prefix:  # a workload's verdict and runs, which no testsuite property carries
        runs = ", ".join(map(str, baseline.get("baseline_runs") or [])) or "none"
        detail += f"\nbaseline runs: {runs}; this run: {baseline.get('run_id')}"
    if comparisons:  # each comparison is a testcase of its own: this one only says which runs
        suite.note(case, f"{verdict}: {detail}")
    elif verdict == "error":
        suite.outcome(case, "error", f"baseline: {detail}", type="baseline")
    elif verdict == "no_baseline":
        kind = "failure" if require_baseline else "skipped"
        suite.outcome(case, kind, NO_BASELINE, detail)
    elif verdict == "regression":
        suite.outcome(case, "failure", f"regression: {detail}", type="regression")
    else:
        suite.note(case, f"{verdict}: {detail}")


def _fault(suite: _Suite, fault: Mapping[str, Any]) -> None:
    name = fault.get("name", "?")
    case = suite.case(f"fault: {name} ({fault.get('type', '?')} on {fault.get('target', '?')})")
    detail = str(fault.get("detail") or "")
    verify = str(fault.get("verify_detail") or "")
    if fault.get("reverted") is False:
        message = f"not confirmed reverted: {detail}; check the target, then run `contval recover`"
        suite.outcome(case, "failure", message, verify, type="fault_not_reverted")
    elif fault.get("error"):
        suite.outcome(case, "error", f"fault failed: {fault['error']}", detail, type="fault")
    elif fault.get("skipped"):
        suite.outcome(case, "skipped", f"skipped: {detail}")
    elif fault.get("injected_at_s") is None:
        suite.outcome(case, "skipped", f"not injected: {detail}")
    else:
        lines = [
            f"injected at {fault['injected_at_s']} s, reverted at {fault.get('reverted_at_s')} s",
            ("verified: " if fault.get("verified") else "NOT verified: ") + verify,
            ("reverted: " if fault.get("reverted") else "revert not checked: ") + detail,
        ]
        suite.note(case, "\n".join(lines))


def _failed_checks(suite: _Suite, scenario: Mapping[str, Any]) -> None:
    """One testcase per step with explained failed checks, in the flows table's order."""
    by_step: dict[str, list[tuple[str, str, str, int]]] = {}
    for where, condition, expected, actual, count in failures_rows(scenario):
        by_step.setdefault(where, []).append((condition, expected, actual, count))
    failed = scenario.get("verdict") == "fail"
    for where, rows in by_step.items():
        lines = [
            f"{condition}: expected {expected}, actual {actual} ({count}×)"
            if expected or actual
            else f"{condition}: {count}×"
            for condition, expected, actual, count in rows
        ]
        total = sum(row[3] for row in rows)
        case = suite.case(f"failed checks: {where}")
        if failed:
            message = f"{total} failed check{'s' if total != 1 else ''}: {lines[0]}"
            suite.outcome(case, "failure", message, "\n".join(lines), type="failed_checks")
        else:
            suite.note(case, "\n".join(lines))


def _did_not_complete(suite: _Suite, scenario: Mapping[str, Any]) -> None:
    verdict = scenario.get("verdict")
    if verdict not in ("invalid", "error", "running") and scenario.get("complete") is not False:
        return
    name = {"invalid": "scenario invalid", "running": "scenario still running"}.get(
        str(verdict), "scenario did not complete"
    )
    reason = str(scenario.get("stop_reason") or "")
    failures = [str(f) for f in scenario.get("failures") or []]
    message = reason or (failures[0] if failures else f"verdict {verdict}")
    suite.outcome(suite.case(name), "error", message, "\n".join(failures), type=str(verdict))


def _properties(element: ET.Element, pairs: list[tuple[str, object]]) -> None:
    kept = [(k, v) for k, v in pairs if v not in (None, "", [])]
    if not kept:
        return
    properties = ET.SubElement(element, "properties")
    for key, value in kept:
        if isinstance(value, bool):
            text = str(value).lower()
        elif isinstance(value, list):
            text = ", ".join(map(str, value))
        else:
            text = str(value)
        ET.SubElement(properties, "property", {"name": key, "value": xml_text(text)})


def _testsuite(name: str, suite: _Suite, attrs: dict[str, str], props: list[Any]) -> ET.Element:
    element = ET.Element("testsuite", {"name": xml_text(name)})
    element.set("tests", str(len(suite.cases)))
    element.set("failures", str(suite.failures))
    element.set("errors", str(suite.errors))
    element.set("skipped", str(suite.skipped))
    for key, value in attrs.items():
        element.set(key, xml_text(value))
    _properties(element, props)
    element.extend(suite.cases)
    return element


def requires_baseline(doc: Mapping[str, Any]) -> bool:
    """Whether a missing baseline failed this run (`--require-baseline`): the document says so
    since issue 6; in older ones, exit code 5 without any regression can only mean that."""
    recorded = doc.get("require_baseline")
    if isinstance(recorded, bool):
        return recorded
    if doc.get("exit_code") != ExitCode.REGRESSION:
        return False
    for scenario in scenarios_of(doc):
        entries = [scenario, *workloads_of(scenario)]  # a workload's own regression too
        for baseline in (e.get("baseline") for e in entries):
            if isinstance(baseline, Mapping) and baseline.get("verdict") == "regression":
                return False
    return True


def _scenario_suite(
    doc: Mapping[str, Any], scenario: Mapping[str, Any], require_baseline: bool
) -> ET.Element:
    name = str(scenario.get("name") or "?")
    suite = _Suite(f"{doc.get('suite') or 'suite'}.{name}")
    _did_not_complete(suite, scenario)
    for workload, threshold in all_thresholds(scenario):
        _threshold(suite, threshold, workload)
    _baseline(suite, scenario.get("baseline"), require_baseline)
    for part in workloads_of(scenario):
        prefix = f"workload {part.get('name') or '?'}: "
        _baseline(suite, part.get("baseline"), require_baseline, prefix)
    for fault in scenario.get("faults") or []:
        if isinstance(fault, Mapping):
            _fault(suite, fault)
    _failed_checks(suite, scenario)
    attrs = {"time": _seconds(scenario.get("duration_s"))}
    timestamp = _timestamp(scenario.get("started_at"))
    if timestamp:
        attrs["timestamp"] = timestamp
    baseline = scenario.get("baseline")
    baseline = baseline if isinstance(baseline, Mapping) else {}
    health = scenario.get("health")
    props = [
        ("verdict", scenario.get("verdict")),
        ("complete", scenario.get("complete")),
        ("started_at", scenario.get("started_at")),
        ("workload", scenario.get("workload")),
        ("executor", scenario.get("executor")),
        ("workloads", [label(p) for p in workloads_of(scenario)]),
        ("health", health.get("worst") if isinstance(health, Mapping) else None),
        ("baseline", baseline.get("verdict")),
        ("baseline_mode", baseline.get("mode")),
        ("baseline_runs", baseline.get("baseline_runs")),
        ("history_run_id", baseline.get("run_id")),
        ("run_id", doc.get("run_id")),
        ("env", doc.get("env")),
        ("label", doc.get("label")),
    ]
    return _testsuite(name, suite, attrs, props)


def _not_run_suite(doc: Mapping[str, Any], name: str, status: str, why: str) -> ET.Element:
    suite = _Suite(f"{doc.get('suite') or 'suite'}.{name}")
    suite.outcome(suite.case(f"scenario {status}"), "skipped", f"{status}: {why}")
    return _testsuite(name, suite, {"time": "0.000"}, [("verdict", status)])


def render_junit(doc: Mapping[str, Any]) -> str:
    require_baseline = requires_baseline(doc)
    suites = [_scenario_suite(doc, s, require_baseline) for s in scenarios_of(doc)]
    suites += [_not_run_suite(doc, *row) for row in not_run(doc)]
    root = ET.Element("testsuites", {"name": xml_text(doc.get("suite") or "contval")})
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    total = sum(float(s.get("time", "0")) for s in suites)
    root.set("time", f"{total:.3f}")
    root.extend(suites)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
