"""A real `contval run` (two worker processes) against a loopback server answering a known number
of wrong statuses: result.json's failures carry condition, expected, actual and counts equal to
the failing requests the server counted; the later step is listed as not reached with the
failing iterations' count in result.json, the console, summary.md and report.html."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.flows.echo_server import echo_server

SUITE = """version: 1
name: explain
targets:
  app: {url}
flows:
  buy:
    target: app
    steps:
      - name: look
        request: GET /json
      - name: pay
        request: GET /status/503
        check: {{status: 200}}
      - name: receipt
        request: GET /json
        check: {{json: {{"$.status": done}}}}
workloads:
  load:
    executor: constant-vus
    vus: 2
    duration: 2s
    mix: {{buy: 1}}
scenarios:
  s:
    workload: load
    thresholds: ["error_rate < 100%"]
"""


def test_failures_and_not_reached_travel_to_every_output(tmp_path: Path) -> None:
    with echo_server() as (url, answered):
        suite = tmp_path / "suite.yaml"
        suite.write_text(SUITE.format(url=url))
        out = tmp_path / "out"
        env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "contval",
                "run",
                str(suite),
                "--out",
                str(out),
                "--workers",
                "2",
                "--store",
                str(tmp_path / "history.db"),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            env={**env, "NO_COLOR": "1", "COLUMNS": "200"},
        )
        wrong = answered[("/status/503", 503)]
    assert wrong > 0, proc.stdout + proc.stderr
    doc = json.loads((out / "result.json").read_text())
    steps = doc["scenarios"][0]["flows"]["buy"]["steps"]
    assert list(steps) == ["look", "pay", "receipt"]
    assert steps["pay"]["failures"] == [
        {"condition": "status", "expected": "200", "actual": "503", "count": wrong}
    ]
    assert steps["pay"]["failures_other"] == 0
    assert steps["receipt"]["requests"] == 0
    assert (
        steps["receipt"]["not_reached"]
        == wrong
        == doc["scenarios"][0]["flows"]["buy"]["iterations"]
    )
    assert steps["look"]["not_reached"] == 0
    console = proc.stdout
    receipt = next(line for line in console.splitlines() if "receipt" in line)
    assert [cell.strip() for cell in receipt.split("│")[2:5]] == ["0", "0", str(wrong)]
    assert "failed checks" in console and "503" in console
    summary = (out / "summary.md").read_text()
    assert f"| buy/pay | status | 200 | 503 | {wrong} |" in summary
    assert f"| buy/receipt | {wrong} |" in summary
    html = (out / "report.html").read_text()
    assert f"{wrong} not reached" in html
    assert "<h4>Failed checks</h4>" in html
