"""Workloads side by side (`alongside`) on a real two-node Ray cluster: the cluster's workers are
shared out between the workloads, each workload is measured and judged on its own, and
`engine` describes the whole cluster."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from contval.exitcodes import ExitCode
from tests.engine.target import Target
from tests.engine.test_run import CLI, run

ray = pytest.importorskip("ray")

SUITE = """version: 1
name: side-by-side-on-ray
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
      - {{name: pay, request: GET /error, check: {{status: 200}}}}
workloads:
  browsing: {{executor: constant-arrival-rate, rate: 20/s, duration: 3s, mix: {{browse: 1}}}}
  buyers: {{executor: constant-arrival-rate, rate: 10/s, duration: 2s, mix: {{checkout: 1}}}}
scenarios:
  rush-hour:
    workload: browsing
    thresholds: ["browse: error_rate < 1%", "browse: p95(latency) < 1s"]
    alongside:
      buyers:
        workload: buyers
        start_time: 1s
        thresholds: ["error_rate < 1%", "p95(latency) < 1s"]
"""


def _suite(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE.format(url=url))
    return path


def test_side_by_side_workloads_share_the_cluster_each_judged_alone(
    tmp_path: Path, target: Target, cluster: str
) -> None:
    """Two workloads on a two-CPU cluster: one worker each. The buyers' payments answer 500, so
    their own `error_rate < 1%` fails the scenario while the scenario's thresholds hold."""
    suite = _suite(tmp_path, target.url)
    code, result, output = run(suite, tmp_path / "out", "--cluster", cluster, "--workers", "2")
    assert code == ExitCode.THRESHOLD_FAILED, output
    assert dict(target.seen.paths) == {"/ok": 60, "/error": 20}
    scenario = result["scenarios"][0]
    assert scenario["complete"] is True and scenario["verdict"] == "fail"
    assert [t["verdict"] for t in scenario["thresholds"]] == ["pass", "pass"]
    assert scenario["totals"]["requests"] == 80
    browsing, buyers = scenario["workloads"]
    assert (browsing["name"], browsing["verdict"]) == ("browsing", "not_gated")
    assert browsing["totals"]["requests"] == target.seen.paths["/ok"]
    assert browsing["totals"]["errors"] == 0
    assert (buyers["name"], buyers["start_time_s"], buyers["verdict"]) == ("buyers", 1.0, "fail")
    assert buyers["totals"]["requests"] == buyers["totals"]["errors"] == 20
    assert [t["verdict"] for t in buyers["thresholds"]] == ["fail", "pass"]
    assert buyers["thresholds"][0]["observed"] == 100.0
    # the buyers start 1 s after the common start: server side, and in the per-second series
    started = datetime.fromisoformat(scenario["started_at"]).timestamp()
    assert target.seen.first["/ok"] < started + 0.5
    assert started + 1.0 <= target.seen.first["/error"] < started + 2.0
    checkout = scenario["flow_series"]["checkout"]
    assert min(t for t, n in zip(checkout["t"], checkout["requests"], strict=True) if n) == 1
    engine = scenario["engine"]
    assert engine["kind"] == "ray" and engine["address"] == cluster
    assert [(w["name"], w["workers"]) for w in engine["workloads"]] == [
        ("browsing", 1),
        ("buyers", 1),
    ]
    nodes = engine["nodes"]  # one worker per node: each workload had a node of its own
    assert len({n["node_id"] for n in nodes}) == 2 and [n["workers"] for n in nodes] == [1, 1]
    assert sorted(n["requests"] for n in nodes) == [20, 60]
    assert "scenario rush-hour: constant-arrival-rate + 1 alongside, 3s, 2 worker(s)" in output


def test_plan_shares_the_cluster_between_the_workloads(tmp_path: Path, cluster: str) -> None:
    suite = _suite(tmp_path, "http://127.0.0.1:9")
    proc = subprocess.run(
        # --workers 2: the cluster's size changes as other tests add nodes to it
        [*CLI, "plan", str(suite), "--cluster", cluster, "--workers", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    scenario = data["scenarios"][0]
    assert len(scenario["workers"]) == 1 and len(scenario["alongside"][0]["workers"]) == 1
    rows = data["cluster"]["per_worker"]
    assert [(r["scenario"], r["workload"], r["workers"]) for r in rows] == [
        ("rush-hour", "browsing", 1),
        ("rush-hour", "buyers", 1),
    ]
    assert [r["peak_rate_per_worker"] for r in rows] == [20.0, 10.0]
    text = subprocess.run(
        [*CLI, "plan", str(suite), "--cluster", cluster, "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert text.returncode == 0, text.stderr
    assert "scenario rush-hour: 1 worker(s), peak 20.0/s per worker" in text.stdout
    assert "    alongside buyers: 1 worker(s), peak 10.0/s per worker" in text.stdout
    one = subprocess.run(  # two workloads, one worker: refused before anything starts
        [*CLI, "plan", str(suite), "--cluster", cluster, "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert one.returncode == ExitCode.INVALID_INPUT
    assert one.stderr.strip() == (
        f"error: --cluster {cluster}: scenario `rush-hour` runs 2 workloads side by side, each "
        "on a worker (a CPU) of its own at least, and the run has 1 worker(s): add nodes, or "
        "raise --workers"
    )
