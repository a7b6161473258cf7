"""An `abort` among a side workload's own thresholds stops the whole scenario's load, as one in
the scenario's thresholds does; one that holds stops nothing. Real runs against a real server."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from tests.engine.target import Target
from tests.engine.test_run import run
from tests.report.test_markdown import tables

SUITE = """version: 1
name: side-abort
targets:
  shop: {url}
flows:
  browse:
    target: shop
    steps:
      - {{name: list, request: GET /ok, check: {{status: 200}}}}
  checkout:
    target: shop
    steps:
      - {{name: pay, request: GET {pay}, check: {{status: 200}}}}
workloads:
  browsing:
    executor: constant-arrival-rate
    rate: 20/s
    duration: {seconds}s
    mix: {{browse: 1}}
  buyers:
    executor: constant-arrival-rate
    rate: 10/s
    duration: {seconds}s
    mix: {{checkout: 1}}
scenarios:
  rush-hour:
    workload: browsing
    thresholds: [error_rate < 100%]
    alongside:
      buyers:
        workload: buyers
        start_time: 1s
        thresholds:
          - error_rate < 1%, abort
"""


def write(directory: Path, url: str, pay: str, seconds: int) -> Path:
    path = directory / "suite.yaml"
    path.write_text(SUITE.format(url=url, pay=pay, seconds=seconds))
    return path


def test_a_side_workloads_abort_stops_the_whole_scenario(tmp_path: Path, target: Target) -> None:
    """The buyers' payments answer 500 from their first second (at 1 s): their own abort stops
    both workloads' load long before the planned 60 s."""
    out = tmp_path / "out"
    started = time.monotonic()
    code, result, output = run(write(tmp_path, target.url, "/error", 60), out, "--workers", "1")
    assert code == 1, output
    assert time.monotonic() - started < 30
    scenario = result["scenarios"][0]
    reason = "aborted: `error_rate < 1%, abort` of workload buyers failed (observed 100 %)"
    assert (scenario["verdict"], scenario["stop_reason"]) == ("fail", reason)
    assert scenario["duration_s"] < 10
    browsing, buyers = scenario["workloads"]
    assert browsing["stop_reason"] == buyers["stop_reason"] == reason  # both were stopped
    assert target.seen.paths["/ok"] == scenario["flows"]["browse"]["requests"] < 200
    assert 1 <= target.seen.paths["/error"] == buyers["totals"]["errors"] < 100
    assert buyers["verdict"] == "fail" and buyers["thresholds"][0]["abort"] is True
    assert result["verdict"] == "fail" and result["exit_code"] == 1
    assert f"scenario rush-hour: FAIL ({reason})" in output
    own = [t for t in tables((out / "summary.md").read_text()) if t[0][0] == "threshold"][1]
    assert own[1] == ["error_rate < 1%, abort", "100 %", "< 1 %", "FAIL (aborted the run)"]


def test_a_side_workloads_abort_that_holds_stops_nothing(tmp_path: Path, target: Target) -> None:
    code, result, output = run(write(tmp_path, target.url, "/ok", 3), tmp_path / "out")
    assert code == 0, output
    assert target.seen.paths == Counter({"/ok": 60 + 30})
    scenario = result["scenarios"][0]
    assert (scenario["verdict"], scenario["stop_reason"]) == ("pass", None)
    buyers = scenario["workloads"][1]
    assert (buyers["verdict"], buyers["thresholds"][0]["observed"]) == ("pass", 0.0)
