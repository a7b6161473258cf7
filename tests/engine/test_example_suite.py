"""The issue's example suite (a public contract) validates as written and runs against the
reference shop: every construct in it (feeders, extract, think, include, poll, thresholds)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contval.spec import load_suite
from tests.contoso_shoes.conftest import System, start_system, stop_system

EXAMPLE = Path(__file__).parents[2] / "examples" / "contoso-shoes" / "suite.yaml"
CLI = [sys.executable, "-m", "contval"]


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[System]:
    system = start_system(tmp_path / "shop")
    yield system
    stop_system(system)


def test_example_validates_as_written() -> None:
    proc = subprocess.run([*CLI, "validate", str(EXAMPLE)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    suite = load_suite(EXAMPLE)
    assert list(suite.scenarios) == [
        "normal",
        "payments-slow",
        "payments-down",
        "worker-crash",
        "cpu-pressure",
    ]
    assert len(suite.scenarios["normal"].thresholds) == 9
    assert suite.scenarios["normal"].chaos == ()
    for name in ("payments-slow", "payments-down", "worker-crash", "cpu-pressure"):
        (entry,) = suite.scenarios[name].chaos
        assert (entry.fault, entry.at, entry.duration) == (name, 10.0, 15.0)
        assert suite.scenarios[name].workload == "chaos-steady"


def test_example_plan() -> None:
    proc = subprocess.run([*CLI, "plan", str(EXAMPLE), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert "3000" in json.dumps(plan)  # 50/s for 1m


def test_example_runs_against_the_shop(shop: System, tmp_path: Path) -> None:
    # the same suite with an 11 s workload (longer than its 10 s window), everything else as written
    text = EXAMPLE.read_text().replace("duration: 1m", "duration: 11s")
    assert text.count("duration: 11s") == 1
    suite = tmp_path / "suite.yaml"
    suite.write_text(text)
    (tmp_path / "customers.csv").write_text((EXAMPLE.parent / "customers.csv").read_text())
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            *CLI,
            "run",
            str(suite),
            "-s",
            "normal",
            "--out",
            str(out),
            "--target",
            f"shop={shop.url}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    result = json.loads((out / "result.json").read_text())
    scenario = result["scenarios"][0]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["complete"] is True and result["verdict"] == "pass" and result["exit_code"] == 0
    assert scenario["totals"]["iterations"] == 550  # 50/s for 11 s
    assert scenario["totals"]["errors"] == 0
    flows = scenario["flows"]
    assert flows["browse"]["iterations"] == 385
    assert flows["checkout"]["iterations"] == 138
    assert flows["order-fulfilment"]["iterations"] == 27
    assert flows["order-fulfilment"]["kind"] == "system"
    assert set(flows["order-fulfilment"]["steps"]) == {
        "create cart",
        "add item",
        "place order",
        "fulfilled",
    }
    fulfilled = flows["order-fulfilment"]["steps"]["fulfilled"]
    assert fulfilled["duration"]["count"] == 27 and fulfilled["duration"]["p95"] < 10_000
    assert {t["verdict"] for t in scenario["thresholds"]} == {"pass"}
    assert scenario["thresholds"][0]["expression"] == "error_rate < 1%"
