"""`contval run` end to end against real local servers: accuracy, errors, aborts, kills."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from contval.report.seconds import SECONDS_NAME, read_result
from tests.engine.target import Target

CLI = [sys.executable, "-m", "contval"]


def write_suite(
    directory: Path,
    url: str,
    flows: str,
    workload: str,
    thresholds: str = "",
    extra_targets: str = "",
) -> Path:
    text = f"""version: 1
name: engine-test
targets:
  app: {url}
{extra_targets}
flows:
{flows}
workloads:
  load:
{workload}
scenarios:
  main:
    workload: load
    thresholds: [{thresholds}]
"""
    path = directory / "suite.yaml"
    path.write_text(text)
    return path


def one_step(
    path: str,
    name: str = "get",
    check: str = "{status: 200}",
    flow: str = "f",
    target: str = "app",
    timeout: str = "",
) -> str:
    extra = f"\n        timeout: {timeout}" if timeout else ""
    return f"""  {flow}:
    target: {target}
    steps:
      - name: {name}
        request: GET {path}
        check: {check}{extra}
"""


def constant_rate(rate: str, duration: str, mix: str = "{f: 1}", max_vus: int = 200) -> str:
    return f"""    executor: constant-arrival-rate
    rate: {rate}
    duration: {duration}
    max_vus: {max_vus}
    mix: {mix}
"""


def run(
    suite: Path, out: Path, *args: str, timeout: float = 120
) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(  # most suites here judge nothing: a not-gated run may exit 0
        [*CLI, "run", str(suite), "--out", str(out), "--allow-ungated", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    result = json.loads((out / "result.json").read_text())
    return proc.returncode, result, proc.stdout + proc.stderr


def test_latency_timed_accurately(tmp_path: Path, target: Target) -> None:
    target.behaviour.delay = 0.050
    suite = write_suite(
        tmp_path,
        target.url,
        one_step("/slow"),
        constant_rate("20/s", "3s"),
        "'f/get: p50(latency) < 60ms'",
    )
    code, result, output = run(suite, tmp_path / "out", "--workers", "1")
    assert code == 0, output
    step = result["scenarios"][0]["flows"]["f"]["steps"]["get"]
    assert step["requests"] == 60 and step["errors"] == 0
    assert 50.0 <= step["latency"]["p50"] <= 53.0
    threshold = result["scenarios"][0]["thresholds"][0]
    assert threshold["verdict"] == "pass" and threshold["unit"] == "ms"


def test_arrival_rate_accurate_at_1000_per_second(tmp_path: Path, target: Target) -> None:
    suite = write_suite(
        tmp_path,
        target.url,
        one_step("/ok"),
        constant_rate("1000/s", "5s"),
        "'dropped_iterations == 0'",
    )
    code, result, output = run(suite, tmp_path / "out", "--workers", "2")
    scenario = result["scenarios"][0]
    assert code == 0, output
    assert scenario["totals"]["iterations"] == pytest.approx(5000, rel=0.01)
    assert target.seen.paths["/ok"] == pytest.approx(5000, rel=0.01)
    assert scenario["totals"]["rps"] == pytest.approx(1000, rel=0.05)
    per_second = [row["iterations"] for row in scenario["series"][:5]]
    assert all(950 <= n <= 1050 for n in per_second), per_second


def test_stalled_server_shows_in_p99(tmp_path: Path, target: Target) -> None:
    target.behaviour.stall_after, target.behaviour.stall_for = 400, 1.0
    suite = write_suite(tmp_path, target.url, one_step("/stall"), constant_rate("200/s", "5s"))
    code, result, output = run(suite, tmp_path / "out", "--workers", "1")
    assert code == 0, output
    latency = result["scenarios"][0]["flows"]["f"]["steps"]["get"]["latency"]
    # a 1 s stall in a 5 s open-model run: 20 % of requests waited up to 1 s
    assert 800 <= latency["p99"] <= 1100, latency
    assert latency["p50"] < 50


def test_one_rps_over_the_load_window_and_drain_seconds_not_judged(
    tmp_path: Path, target: Target
) -> None:
    """200/s for 3 s against a 50 ms route: the last arrivals finish after the schedule, in a
    drain second of a handful of requests. That second is not a second of load: every rate
    is 200/s (it was 200, 150 and 150 before) and `over 1s` never judges the drain alone,
    neither at the end nor as an `abort` threshold checked every second."""
    target.behaviour.delay = 0.050
    suite = write_suite(
        tmp_path,
        target.url,
        one_step("/slow"),
        constant_rate("200/s", "3s"),
        "'rps > 150/s over 1s', 'f: rps > 190/s', 'error_rate < 1%', 'rps > 150/s over 1s, abort'",
    )
    code, result, output = run(suite, tmp_path / "out", "--workers", "1")
    scenario = result["scenarios"][0]
    assert code == 0, output
    assert scenario["stop_reason"] is None and scenario["verdict"] == "pass"
    assert scenario["duration_s"] == 3
    assert len(scenario["series"]) >= 4  # the drain second is still in the per-second rows
    flow = scenario["flows"]["f"]
    assert scenario["totals"]["requests"] == flow["requests"] == 600
    assert scenario["totals"]["rps"] == flow["rps"] == flow["steps"]["get"]["rps"] == 200.0
    assert [t["verdict"] for t in scenario["thresholds"]] == ["pass"] * 4
    assert "rps 200.0" in output


def test_dropped_arrivals_fail_the_error_rate_they_would_fail_if_measured(
    tmp_path: Path, target: Target
) -> None:
    """A 2 s stall at 200/s with max_vus 50: 50 arrivals wait, the rest find every VU busy and
    are dropped. They never reach the latency histogram; counted as failed requests (class
    `dropped`), they fail `error_rate < 1%`, as the stall would if it had been measured."""
    target.behaviour.stall_after, target.behaviour.stall_for = 100, 2.0
    suite = write_suite(
        tmp_path,
        target.url,
        one_step("/stall"),
        constant_rate("200/s", "4s", max_vus=50),
        "'error_rate < 1%', 'f: error_rate < 1%'",
    )
    code, result, output = run(suite, tmp_path / "out", "--workers", "1")
    scenario = result["scenarios"][0]
    assert code == 1, output
    totals = scenario["totals"]
    assert totals["dropped_iterations"] >= 250
    assert totals["errors_by_class"]["dropped"] == totals["dropped_iterations"]
    assert totals["requests"] == 800  # every arrival: sent, or dropped
    assert [t["verdict"] for t in scenario["thresholds"]] == ["fail", "fail"]
    assert scenario["thresholds"][0]["observed"] > 30  # percent
    assert scenario["flows"]["f"]["steps"]["get"]["errors"] == 0  # the step never ran them


def test_every_error_class_counted_while_the_run_goes_on(tmp_path: Path, target: Target) -> None:
    flows = "".join(
        [
            one_step("/ok", flow="ok"),
            one_step("/error", flow="status"),
            one_step("/bad-json", flow="check", check='{status: 200, json: {"$.ok": true}}'),
            one_step("/garbage", flow="malformed"),
            one_step("/reset", flow="reset"),
            one_step("/hang", flow="timeout", timeout="200ms"),
        ]
    )
    mix = "{ok: 1, status: 1, check: 1, malformed: 1, reset: 1, timeout: 1}"
    suite = write_suite(
        tmp_path,
        target.url,
        flows,
        constant_rate("60/s", "3s", mix),
        "'ok: error_rate == 0%', 'status: error_rate > 99%'",
    )
    code, result, output = run(suite, tmp_path / "out", "--workers", "1")
    scenario = result["scenarios"][0]
    assert code == 0, output
    by_class = scenario["totals"]["errors_by_class"]
    assert by_class["http_status"] == 30
    assert by_class["check_failed"] == 30
    assert by_class["malformed"] == 30
    assert by_class["reset"] == 30
    assert by_class["timeout"] == 30
    assert scenario["flows"]["ok"]["errors"] == 0 and scenario["flows"]["ok"]["requests"] == 30
    assert scenario["totals"]["iterations"] == 180


def test_refused_connections_counted_when_a_target_goes_away(
    tmp_path: Path, target: Target
) -> None:
    second = Target().start()
    try:
        flows = one_step("/ok", flow="a") + one_step("/ok", flow="b", target="other")
        suite = write_suite(
            tmp_path,
            target.url,
            flows,
            constant_rate("40/s", "4s", "{a: 1, b: 1}"),
            extra_targets=f"  other: {second.url}",
        )
        proc = subprocess.Popen(
            [
                *CLI,
                "run",
                str(suite),
                "--out",
                str(tmp_path / "out"),
                "--workers",
                "1",
                "--allow-ungated",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 30
        while second.seen.requests < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        second.shut_down()
        output, _ = proc.communicate(timeout=60)
    finally:
        second.stop()
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    scenario = result["scenarios"][0]
    assert proc.returncode == 0, output
    assert scenario["flows"]["b"]["errors"] > 20
    assert scenario["totals"]["errors_by_class"]["refused"] > 20
    assert scenario["flows"]["a"]["errors"] == 0
    assert scenario["flows"]["a"]["requests"] == 80


def test_abort_threshold_stops_the_run_early(tmp_path: Path, target: Target) -> None:
    suite = write_suite(
        tmp_path,
        target.url,
        one_step("/error"),
        constant_rate("50/s", "60s"),
        "'error_rate < 20% over 2s, abort'",
    )
    started = time.monotonic()
    code, result, output = run(suite, tmp_path / "out", "--workers", "1")
    assert code == 1, output
    assert time.monotonic() - started < 20
    scenario = result["scenarios"][0]
    assert scenario["verdict"] == "fail"
    assert scenario["stop_reason"].startswith("aborted: `error_rate < 20% over 2s, abort` failed")
    assert scenario["duration_s"] < 10
    assert result["verdict"] == "fail" and result["exit_code"] == 1


def load_started(out: Path, proc: subprocess.Popen[Any], timeout: float = 60) -> float:
    """When the load started (wall clock), from the per-second log's start line: written as
    the workers are told to start, so the test knows where second 0 began."""
    log = out / SECONDS_NAME
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        for raw in log.read_text().splitlines() if log.exists() else []:
            line = json.loads(raw) if raw.endswith("}") else {}
            if "started_at" in line:
                return float(line["started_at"])
        time.sleep(0.02)
    raise AssertionError("the load never started")


def start_run(suite: Path, out: Path, *args: str) -> subprocess.Popen[Any]:
    return subprocess.Popen(
        [*CLI, "run", str(suite), "--out", str(out), "--workers", "1", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("whole", [2, 3])
def test_sigkill_loses_at_most_the_second_in_progress(
    tmp_path: Path, target: Target, whole: int
) -> None:
    """Killed at ~N.15 s, the result keeps at least N whole seconds (issue 11 §9: it kept 5 of
    9): every second is appended to the log beside result.json as it completes."""
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("100/s", "60s"))
    out = tmp_path / "out"
    proc = start_run(suite, out)
    started = load_started(out, proc)
    time.sleep(max(0.0, started + whole + 0.15 - time.time()))
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    raw = json.loads((out / "result.json").read_text())
    assert raw["complete"] is False and raw["scenarios"][0]["complete"] is False
    result = read_result(out / "result.json")  # what `contval report` reads
    scenario = result["scenarios"][0]
    assert scenario["verdict"] == "running" and scenario["complete"] is False
    assert [row["t"] for row in scenario["series"]][:whole] == list(range(whole))
    assert scenario["duration_s"] >= whole
    assert scenario["totals"]["requests"] >= whole * 100 * 0.95
    assert scenario["flows"]["f"]["steps"]["get"]["latency"]["count"] >= whole * 95
    assert target.seen.requests < 60 * 100  # the load stopped with the controller


def test_sigkill_in_the_first_second_leaves_a_readable_incomplete_result(
    tmp_path: Path, target: Target
) -> None:
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("100/s", "60s"))
    out = tmp_path / "out"
    proc = start_run(suite, out)
    started = load_started(out, proc)
    time.sleep(max(0.0, started + 0.3 - time.time()))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    raw = json.loads((out / "result.json").read_text())
    assert raw["complete"] is False and raw["verdict"] == "running"
    assert raw["scenarios"][0]["name"] == "main" and raw["scenarios"][0]["complete"] is False
    report = subprocess.run(
        [*CLI, "report", str(out), "--out", str(tmp_path / "report")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert report.returncode == 0, report.stdout + report.stderr
    assert (tmp_path / "report" / "report.html").exists()


def test_sigint_keeps_what_ran_and_exits_3(tmp_path: Path, target: Target) -> None:
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("100/s", "60s"))
    out = tmp_path / "out"
    proc = start_run(suite, out)
    started = load_started(out, proc)
    time.sleep(max(0.0, started + 4.2 - time.time()))
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 3
    result = json.loads((out / "result.json").read_text())
    scenario = result["scenarios"][0]
    assert result["complete"] is False
    assert result["exit_code"] == 3 and result["verdict"] == "error"
    assert scenario["stop_reason"] == "interrupted by SIGINT"
    assert scenario["totals"]["requests"] >= 400
    assert not (out / SECONDS_NAME).exists()  # folded into result.json, which is final


def test_unreachable_target_fails_fast_with_exit_3(tmp_path: Path) -> None:
    suite = write_suite(
        tmp_path, "http://127.0.0.1:9", one_step("/ok"), constant_rate("10/s", "5s")
    )
    proc = subprocess.run(
        [*CLI, "run", str(suite), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3
    assert "target `app` (http://127.0.0.1:9) is unreachable" in proc.stdout
    assert not (tmp_path / "out").exists()  # created to check it, removed: nothing was run


def test_memory_stays_flat(tmp_path: Path, target: Target) -> None:
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("2000/s", "12s"))
    code, result, output = run(suite, tmp_path / "out", "--workers", "1")
    assert code == 0, output
    rss = [row["worker_rss_mb"] for row in result["scenarios"][0]["series"] if row["worker_rss_mb"]]
    assert len(rss) >= 10
    assert max(rss[3:]) - rss[3] < 3.0, rss  # histograms, not samples: no growth with time
    assert max(rss) < 100, rss


def test_ramping_arrival_rate_follows_its_stages(tmp_path: Path, target: Target) -> None:
    workload = """    executor: ramping-arrival-rate
    stages: [{to: 200/s, over: 2s}, {to: 200/s, over: 2s}, {to: 0/s, over: 1s}]
    mix: {f: 1}
"""
    suite = write_suite(tmp_path, target.url, one_step("/ok"), workload)
    code, result, output = run(suite, tmp_path / "out", "--workers", "2")
    assert code == 0, output
    scenario = result["scenarios"][0]
    # 0→200/s over 2 s (200) + 200/s for 2 s (400) + 200→0/s over 1 s (100)
    assert scenario["totals"]["iterations"] == 700
    per_second = [row["iterations"] for row in scenario["series"][:5]]
    assert per_second[0] == pytest.approx(50, abs=3) and per_second[1] == pytest.approx(150, abs=3)
    assert per_second[2] == pytest.approx(200, abs=3) and per_second[3] == pytest.approx(200, abs=3)


def test_closed_model_vus_loop_and_ramp(tmp_path: Path, target: Target) -> None:
    target.behaviour.delay = 0.100
    workload = """    executor: ramping-vus
    start_vus: 0
    stages: [{to: 10, over: 2s}, {to: 10, over: 2s}]
    mix: {f: 1}
"""
    suite = write_suite(tmp_path, target.url, one_step("/slow"), workload)
    code, result, output = run(suite, tmp_path / "out", "--workers", "2")
    assert code == 0, output
    scenario = result["scenarios"][0]
    series = scenario["series"]
    # each VU does ~10 iterations/s against a 100 ms route; 10 VUs at full strength
    assert 80 <= series[2]["iterations"] <= 105 and 80 <= series[3]["iterations"] <= 105
    assert series[0]["iterations"] < series[2]["iterations"]
    assert max(row["active"] for row in series) <= 10
    assert scenario["totals"]["errors"] == 0


def test_constant_vus(tmp_path: Path, target: Target) -> None:
    target.behaviour.delay = 0.050
    workload = """    executor: constant-vus
    vus: 5
    duration: 2s
    mix: {f: 1}
"""
    suite = write_suite(tmp_path, target.url, one_step("/slow"), workload)
    code, result, output = run(suite, tmp_path / "out", "--workers", "1")
    assert code == 0, output
    iterations = result["scenarios"][0]["totals"]["iterations"]
    assert 170 <= iterations <= 200  # 5 VUs × 20 iterations/s × 2 s, minus ramp-up jitter
