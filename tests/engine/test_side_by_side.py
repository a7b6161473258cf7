"""Workloads side by side in one scenario (`alongside`, `start_time`): each measured and judged
on its own, the scenario on all of them; real runs against a real server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from contval.engine import messages as msg
from contval.engine.local import LocalController
from contval.engine.plan import part_workers, plan_data, render_plan
from contval.engine.schedules.workers import shared_workers
from contval.pipeline.parts import side_by_side
from contval.spec import load_suite
from tests.engine.target import Target
from tests.engine.test_run import run
from tests.engine.test_saturation import _starve

SUITE = """version: 1
name: side-by-side
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
    duration: 3s
    mix: {{browse: 1}}
  buyers:
    executor: shared-iterations
    vus: 2
    iterations: 10
    max_duration: 2s
    mix: {{checkout: 1}}
scenarios:
  rush-hour:
    workload: browsing            # starts at 0s (start_time: 0s)
    thresholds:                   # judged on everything the scenario sends
      - error_rate < 50%
      - browse: p95(latency) < 1s
    alongside:                    # run at the same time as `browsing`
      buyers:
        workload: buyers
        start_time: 1s            # k6's startTime
        thresholds:               # judged on this workload's load alone
          - error_rate < 1%
"""


def write(directory: Path, url: str, pay: str = "/bad-json") -> Path:
    path = directory / "suite.yaml"
    path.write_text(SUITE.format(url=url, pay=pay))
    return path


def test_side_by_side_workloads_each_measured_and_judged(tmp_path: Path, target: Target) -> None:
    code, result, output = run(write(tmp_path, target.url), tmp_path / "out", "--workers", "1")
    assert code == 0, output
    assert target.seen.paths == Counter({"/ok": 60, "/bad-json": 10})
    scenario = result["scenarios"][0]
    assert scenario["verdict"] == "pass" and scenario["complete"] is True
    assert scenario["totals"]["requests"] == 70  # the scenario: both workloads
    browsing, buyers = scenario["workloads"]
    assert (browsing["name"], browsing["start_time_s"], browsing["thresholds"]) == (
        "browsing",
        0.0,
        [],
    )
    assert browsing["totals"]["requests"] == 60 and list(browsing["flows"]) == ["browse"]
    assert (buyers["name"], buyers["executor"], buyers["start_time_s"]) == (
        "buyers",
        "shared-iterations",
        1.0,
    )
    assert buyers["totals"]["iterations"] == 10 and buyers["planned_iterations"] == 10
    assert list(buyers["flows"]) == ["checkout"]
    assert [t["verdict"] for t in buyers["thresholds"]] == ["pass"]
    assert buyers["verdict"] == "pass"
    first = min(row["t"] for row in scenario["series"] if row["iterations"] and row["t"] > 0)
    assert first >= 1
    assert "workload buyers (shared-iterations, from 1s)" in output
    # the generator's own figures come through the side-by-side merge too
    assert scenario["generator"]["cpu_max"] > 0
    assert max(row["worker_cpu"] for row in scenario["series"]) > 0


def test_a_side_workload_failing_its_own_thresholds_fails_the_scenario(
    tmp_path: Path, target: Target
) -> None:
    """The buyers' payments answer 500: the scenario's own thresholds hold (under 50 % errors
    over both workloads), the buyers' `error_rate < 1%` does not, so the run fails (exit 1)."""
    suite = write(tmp_path, target.url, pay="/error")
    code, result, output = run(suite, tmp_path / "out", "--workers", "2")
    assert code == 1, output
    assert target.seen.paths == Counter({"/ok": 60, "/error": 10})
    scenario = result["scenarios"][0]
    assert [t["verdict"] for t in scenario["thresholds"]] == ["pass", "pass"]
    buyers = scenario["workloads"][1]
    assert buyers["verdict"] == "fail" and buyers["thresholds"][0]["observed"] == 100.0
    assert scenario["verdict"] == "fail"


def test_plan_shows_each_workload_and_its_start(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path, "http://127.0.0.1:1"))
    data = plan_data(suite, workers=2)["scenarios"][0]
    assert data["duration"] == 3.0
    (buyers,) = data["alongside"]
    assert (buyers["name"], buyers["start_time"], buyers["expected_iterations"]) == (
        "buyers",
        1.0,
        10,
    )
    assert [w["iterations"] for w in buyers["workers"]] == [5, 5]
    text = render_plan(suite, workers=2)
    assert "alongside buyers: workload buyers (shared-iterations, closed model), from 1s" in text


def test_a_cluster_shares_its_workers_between_the_workloads(tmp_path: Path) -> None:
    """Locally each workload has up to `--workers` processes of its own; a Ray cluster reserves
    a CPU per worker, so there the workloads share them: one each at least, the rest in
    proportion to what each would use beyond one, never more than it would use alone."""
    assert shared_workers([4, 2], 8) == [4, 2]  # they fit: each as alone
    assert shared_workers([8, 8], 8) == [4, 4]
    assert shared_workers([8, 3, 1], 6) == [3, 2, 1]  # beyond one, 7 and 2 share 3: 2.3, 0.7
    assert shared_workers([2, 2, 2], 3) == [1, 1, 1]
    with pytest.raises(ValueError, match="3 loads side by side need 3 workers; 2 given"):
        shared_workers([1, 1, 1], 2)
    suite = load_suite(write(tmp_path, "http://127.0.0.1:1"))
    assert part_workers(suite, "rush-hour", 2) == [2, 2]
    assert part_workers(suite, "rush-hour", 2, shared=True) == [1, 1]
    data = plan_data(suite, workers=2, shared=True)["scenarios"][0]
    assert len(data["workers"]) == 1
    assert [w["iterations"] for w in data["alongside"][0]["workers"]] == [10]
    text = render_plan(suite, workers=2, shared=True)
    assert text.count("workers (1): its share of the 2 workers, side by side") == 2


def test_side_workload_errors_are_located(tmp_path: Path) -> None:
    text = SUITE.format(url="http://127.0.0.1:1", pay="/ok")
    text = text.replace(
        "      buyers:\n        workload: buyers", "      browsing:\n        workload: buyer"
    )
    text = text.replace(
        "- error_rate < 1%\n", "- error_rate < 1%, abort\n          - regression(p95) < 10%\n"
    )
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "contval", "validate", str(path)], capture_output=True, text=True
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and "Traceback" not in out
    assert f"{path}:33:7: `browsing` is this scenario's own `workload`" in out
    assert f"{path}:34:19: workload `buyer` is not declared under `workloads`; did you mean" in out
    assert f"{path}:38:" not in out  # a workload's own baseline form: compared with its own
    assert "abort" not in out  # a workload's own abort stops the whole scenario (allowed)


def test_the_documented_example_is_the_one_run_here() -> None:
    """docs/suite.md's side-by-side example is this file's SUITE (run by the tests above)."""
    docs = (Path(__file__).parents[2] / "docs" / "suite.md").read_text()
    section = docs[docs.index("### Workloads side by side") :]
    example = section[section.index("```yaml\n") + 8 : section.index("```\n", 8)]
    assert example.strip() and example in SUITE.format(url="", pay="")


STOPPING = """version: 1
name: side-by-side-stop
targets:
  app: {url}
flows:
  f:
    target: app
    steps:
      - {{name: get, request: GET /ok, check: {{status: 200}}}}
workloads:
  main:
    executor: constant-arrival-rate
    rate: 100/s
    duration: 6s
    mix: {{f: 1}}
  side:
    executor: constant-arrival-rate
    rate: 100/s
    duration: 6s
    mix: {{f: 1}}
scenarios:
  both:
    workload: main
    alongside:
      side: {{workload: side}}
"""


def test_a_workload_that_stops_itself_stops_the_others(tmp_path: Path, target: Target) -> None:
    """The side workload's generator is starved for real (SIGSTOP on its worker for 1.2 s): it
    saturates and stops itself, `SideBySide` stops the main workload with it, and the whole
    outcome says why, carries the saturation and ends well before the 6 s schedule."""
    path = tmp_path / "suite.yaml"
    path.write_text(STOPPING.format(url=target.url))
    suite = load_suite(path)

    def jobs(count: int, part: str | None) -> list[msg.WorkerJob]:
        return msg.jobs_for(suite, "both", count, part=part)

    whole = side_by_side(suite, "both", [1, 1], jobs, LocalController)
    whole.start()
    main, side = (p.controller for p in whole.parts)
    assert isinstance(side, LocalController) and isinstance(main, LocalController)
    pid = side.peers[0].process.pid
    on_tick, done = _starve(pid, 1.0)
    seconds: list[int] = []
    try:
        outcome = whole.run(
            lambda series, snapshot, stats: seconds.append(snapshot.second), on_tick
        )
    finally:
        if done == ["stopped"]:
            os.kill(pid, signal.SIGCONT)
        whole.close()
    assert done == ["stopped", "continued"]
    assert side.outcome.saturated is not None
    assert side.outcome.stop_reason is not None
    assert side.outcome.stop_reason.startswith("generator saturated")
    assert outcome.stop_reason == f"workload side: {side.outcome.stop_reason}"
    assert main.outcome.stop_reason == outcome.stop_reason  # the main workload was stopped too
    assert outcome.saturated is side.outcome.saturated
    assert outcome.elapsed < 5.0, outcome.elapsed  # not the 6 s the schedules ask for
    assert seconds == sorted(seconds) and seconds == list(range(len(seconds)))
