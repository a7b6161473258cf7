"""Each workload run `alongside` a scenario has a baseline of its own, end to end: real
`contval run`s against a small real server on loopback. Two passing runs build every workload's
baseline; in a third run only the side workload's route is slower, and that is a regression of
that workload (exit 5, its `workloads[]` entry says so, the scenario's own workload does not
regress); the failed run joins no baseline, which a fourth, unchanged run shows, judged by a
threshold of the side workload that names its own baseline."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from contval.baseline.store import HistoryStore
from contval.exitcodes import ExitCode
from contval.pipeline.gate import gate_warnings
from contval.spec import load_suite_text
from tests.engine.target import Target
from tests.engine.test_run import run
from tests.report.test_markdown import table_with

SUITE = """version: 1
name: part-baseline
targets:
  shop: {url}
flows:
  browse:
    target: shop
    steps:
      - {{name: list, request: GET /ok, check: {{status: 200}}}}
  search:
    target: shop
    steps:
      - {{name: find, request: GET /ok, check: {{status: 200}}}}
  checkout:
    target: shop
    steps:
      - {{name: pay, request: GET /slow, check: {{status: 200}}}}
workloads:
  browsing:
    executor: constant-arrival-rate
    rate: 40/s
    duration: 6s
    mix: {{browse: 1, search: 1}}
  buyers:
    executor: constant-arrival-rate
    rate: 30/s
    duration: 5s
    mix: {{checkout: 1}}
scenarios:
  rush-hour:
    workload: browsing
    baseline: {{min_runs: 2}}
    thresholds: [error_rate < 1%]
    alongside:
      buyers:
        workload: buyers
        start_time: 1s
        thresholds:
          - error_rate < 1%{extra}
"""
# a threshold naming the buyers' own baseline: thresholds are not part of the fingerprint, so
# adding it keeps the runs comparable (before the baseline exists it has no data: a failure)
OWN_BASELINE = "\n          - 'checkout: p50(latency) < baseline + 20ms'"


def _suite(directory: Path, url: str, extra: str = "") -> Path:
    path = directory / "suite.yaml"
    path.write_text(SUITE.format(url=url, extra=extra))
    return path


def _run(tmp_path: Path, suite: Path, n: int) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / f"out{n}"
    store = str(tmp_path / "history.db")
    return run(suite, out, "--workers", "1", "--store", store, "--env", "side")


def _workloads(result: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    browsing, buyers = result["scenarios"][0]["workloads"]
    assert (browsing["name"], buyers["name"]) == ("browsing", "buyers")
    return browsing, buyers


def _regressions(baseline: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (c["flow"], c["metric"]) for c in baseline["comparisons"] if c["verdict"] == "regression"
    }


def test_a_side_workloads_regression_is_its_own(tmp_path: Path, target: Target) -> None:
    suite = _suite(tmp_path, target.url)
    first: dict[str, list[str]] = {"rush-hour": [], "browsing": [], "buyers": []}
    for n in range(2):  # how a baseline starts: passing runs, none to compare with yet
        code, result, output = _run(tmp_path, suite, n)
        assert code == 0, output
        scenario = result["scenarios"][0]
        first["rush-hour"].append(scenario["baseline"]["run_id"])
        for part in _workloads(result):
            gate = part["baseline"]
            assert gate["verdict"] == "no_baseline" and gate["accepted"] is True, gate
            assert gate["fingerprint"] == scenario["baseline"]["fingerprint"]
            first[part["name"]].append(gate["run_id"])
    assert len({i for ids in first.values() for i in ids}) == 6  # a run of its own, each

    target.behaviour.delay = 0.05  # the buyers' route only: /slow answers 50 ms late
    code, result, output = _run(tmp_path, suite, 2)
    assert code == ExitCode.REGRESSION, output
    scenario = result["scenarios"][0]
    browsing, buyers = _workloads(result)
    assert buyers["baseline"]["verdict"] == "regression", buyers["baseline"]
    assert ("checkout", "p50") in _regressions(buyers["baseline"])
    assert sorted(buyers["baseline"]["baseline_runs"]) == sorted(first["buyers"])
    assert buyers["verdict"] == "fail" and buyers["thresholds"][0]["verdict"] == "pass"
    assert browsing["baseline"]["verdict"] != "regression", browsing["baseline"]
    assert sorted(browsing["baseline"]["baseline_runs"]) == sorted(first["browsing"])
    assert browsing["verdict"] == "pass"
    assert scenario["baseline"]["verdict"] != "regression", scenario["baseline"]
    assert (scenario["verdict"], result["verdict"], result["exit_code"]) == ("fail", "fail", 5)
    assert "scenario rush-hour: FAIL (a regression of workload buyers against its baseline)" in (
        output
    )
    assert "workload buyers" in output and "REGRESSION" in output

    _reports_show_it(tmp_path / "out2")
    _joins_no_baseline(tmp_path / "history.db")

    target.behaviour.delay = 0.0  # unchanged again, now judged by the buyers' own baseline too
    code, result, output = _run(tmp_path, _suite(tmp_path, target.url, OWN_BASELINE), 3)
    assert code == 0, output
    _, buyers = _workloads(result)
    assert buyers["baseline"]["verdict"] != "regression", buyers["baseline"]
    assert sorted(buyers["baseline"]["baseline_runs"]) == sorted(first["buyers"])
    own = buyers["thresholds"][1]
    assert own["expression"] == "checkout: p50(latency) < baseline + 20ms"
    assert own["verdict"] == "pass" and sorted(own["baseline_runs"]) == sorted(first["buyers"])
    assert 20 < own["limit"] < 30 and own["observed"] < own["limit"], own


def _reports_show_it(out: Path) -> None:
    """summary.md and junit.xml name the buyers' regression, and not the browsing's."""
    summary = (out / "summary.md").read_text()
    overview = table_with(summary, "scenario")[1]
    assert overview[1] == "FAIL" and overview[3].endswith("; workload buyers: REGRESSION")
    rows = table_with(summary, "workload")
    assert rows[0][-2:] == ["baseline", "verdict"]
    assert rows[2][0] == "buyers" and rows[2][-2:] == ["regression", "FAIL (regression)"]
    assert rows[1][-2] != "regression"
    assert "**Workload buyers: against its own baseline**" in summary
    offenders = [row[2] for row in table_with(summary, "#")[1:]]
    assert "workload buyers: baseline: checkout p50" in offenders
    assert all(o.startswith("workload buyers: baseline: ") for o in offenders), offenders

    cases = {c.get("name"): c for c in ET.parse(out / "junit.xml").getroot().iter("testcase")}
    failure = cases["workload buyers: baseline: checkout p50"].find("failure")
    assert failure is not None and failure.get("type") == "regression"
    assert cases["workload browsing: baseline: browse p50"].find("failure") is None


def _joins_no_baseline(path: Path) -> None:
    """The regressed run is recorded as failed, each of its three runs, and accepted by none."""
    with HistoryStore(path) as history:  # the failed run joins no baseline
        for name in ("rush-hour", "browsing", "buyers"):
            part = None if name == "rush-hour" else name
            newest = history.runs(scenario="rush-hour", env="side", workload=part)[0]
            assert (newest.verdict, newest.accepted) == ("fail", False), name


def test_without_history_a_side_threshold_naming_its_baseline_fails(
    tmp_path: Path, target: Target
) -> None:
    """No baseline is never a pass: with the history off, nothing is compared and the buyers'
    threshold naming their baseline has no data, which fails them and the scenario (exit 1)."""
    suite = _suite(tmp_path, target.url, OWN_BASELINE)
    code, result, output = run(suite, tmp_path / "out", "--workers", "1", "--no-history")
    assert code == ExitCode.THRESHOLD_FAILED, output
    browsing, buyers = _workloads(result)
    assert "baseline" not in buyers and "baseline" not in browsing
    assert [t["verdict"] for t in buyers["thresholds"]] == ["pass", "no_data"]
    assert buyers["thresholds"][1]["detail"] == "no baseline yet"
    assert (buyers["verdict"], browsing["verdict"]) == ("fail", "not_gated")
    assert result["scenarios"][0]["verdict"] == "fail"
    assert "scenario rush-hour: FAIL (workload buyers failed its own thresholds)" in output


def test_validate_warns_of_a_side_baseline_that_can_never_be(tmp_path: Path) -> None:
    short = SUITE.format(url="http://127.0.0.1:9", extra=OWN_BASELINE).replace(
        "rate: 30/s\n    duration: 5s", "rate: 30/s\n    duration: 2s"
    )
    assert gate_warnings(load_suite_text(short)) == [
        "workload `buyers` of scenario `rush-hour` names its baseline in its thresholds, but "
        "cannot be gated against one: its load lasts 2s: the baseline gate needs 3 windows of "
        "at least 1s, so it can never compare it (make the workload 3s or longer)"
    ]
    assert gate_warnings(load_suite_text(SUITE.format(url="http://127.0.0.1:9", extra=""))) == []
