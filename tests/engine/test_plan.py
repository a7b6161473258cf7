"""`contval plan`: the example suite's plan, as text and as data, with the numbers that matter."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from contval.engine.plan import fault_bar, plan_data, render_plan, sparkline
from contval.engine.schedules import schedule_for, workers_for
from contval.spec import Scenario, Suite, load_suite, load_suite_text

EXAMPLE = Path(__file__).parents[2] / "examples" / "contoso-shoes" / "suite.yaml"
SCENARIOS = ["normal", "payments-slow", "payments-down", "worker-crash", "cpu-pressure"]


@pytest.fixture(scope="module")
def suite() -> Suite:
    """The example suite, plus a scenario running its (otherwise unused) `ramp` workload."""
    example = load_suite(EXAMPLE)
    peak = Scenario(workload="ramp", thresholds=("error_rate < 5%",))
    return example.model_copy(update={"scenarios": {**example.scenarios, "peak": peak}})


def rows(text: str, first: str) -> list[list[str]]:
    """The whitespace-split lines of `text` starting with `first` (table rows)."""
    return [line.split() for line in text.splitlines() if line.split()[:1] == [first]]


def test_steady_scenario_numbers(suite: Suite) -> None:
    text = render_plan(suite, ["normal"])
    assert text.startswith("Plan for suite contoso-shoes (1 worker)\n")
    assert "scenario normal: workload steady (constant-arrival-rate, open model)" in text
    assert re.search(r"duration\s+1m\n", text)
    assert re.search(r"iterations\s+3000 expected", text)
    assert re.search(r"max VUs\s+500", text)
    assert rows(text, "browse") == [["browse", "70", "70.0%", "2100"]]
    assert rows(text, "checkout") == [["checkout", "25", "25.0%", "750"]]
    assert rows(text, "order-fulfilment") == [["order-fulfilment", "5", "5.0%", "150"]]
    assert "    dropped_iterations == 0\n" in text
    assert "    error_rate < 20% over 5s, abort\n" in text
    assert "scenario peak" not in text


def test_ramp_stage_table_and_sparkline(suite: Suite) -> None:
    text = render_plan(suite, ["peak"])
    assert "scenario peak: workload ramp (ramping-arrival-rate, open model)" in text
    table = text.split("profile (linear between rows)\n")[1].split("\n  mix")[0].splitlines()
    assert [line.split() for line in table[:5]] == [
        ["at", "rate/s"],
        ["0s", "0"],
        ["30s", "80"],
        ["1m30s", "80"],
        ["1m40s", "0"],
    ]
    assert table[5].strip().startswith("|▁")
    assert "█" * 20 in table[5]
    assert "peak 80/s" in table[5]
    assert re.search(r"iterations\s+6400 expected", text)  # 1200 + 4800 + 400
    assert rows(text, "browse") == [["browse", "80", "80.0%", "5120"]]


def test_worker_split(suite: Suite) -> None:
    text = render_plan(suite, ["normal"], workers=4)
    assert "(4 workers)" in text
    assert rows(text, "0") == [["0", "125", "750"]]
    assert len([r for r in rows(text, "3") if r == ["3", "125", "750"]]) == 1
    data = plan_data(suite, ["normal"], workers=7)
    split = data["scenarios"][0]["workers"]
    assert sum(w["iterations"] for w in split) == 3000
    assert sum(w["max_vus"] for w in split) == 500
    assert [w["iterations"] for w in split] == [429, 429, 429, 429, 428, 428, 428]


def test_data_is_json_and_matches_the_schedules(suite: Suite) -> None:
    data = plan_data(suite)
    assert json.loads(json.dumps(data)) == data
    assert [s["name"] for s in data["scenarios"]] == [*SCENARIOS, "peak"]
    assert data["unused_workloads"] == []
    normal = data["scenarios"][0]
    assert normal["profile"] == [{"t": 0.0, "rate": 50.0}, {"t": 60.0, "rate": 50.0}]
    assert normal["expected_iterations"] == 3000
    assert {m["flow"]: m["expected_iterations"] for m in normal["mix"]} == {
        "browse": 2100,
        "checkout": 750,
        "order-fulfilment": 150,
    }
    assert len(normal["thresholds"]) == 9
    assert plan_data(load_suite(EXAMPLE))["unused_workloads"] == ["ramp"]


CLOSED = """
version: 1
name: closed
targets: {shop: "http://127.0.0.1:8000"}
flows:
  a: {target: shop, steps: [{name: home, request: GET /}]}
  b: {target: shop, steps: [{name: home, request: GET /}]}
workloads:
  users:
    executor: ramping-vus
    start_vus: 2
    stages: [{to: 10, over: 20s}, {to: 10, over: 40s}, {to: 0, over: 10s}]
    mix: {a: 3, b: 1}
scenarios:
  soak: {workload: users, description: users ramp up and hold}
"""


def test_closed_model_plan() -> None:
    suite = load_suite_text(CLOSED)
    text = render_plan(suite, workers=3)
    assert "scenario soak: workload users (ramping-vus, closed model)" in text
    assert "  users ramp up and hold\n" in text
    assert "iterations" not in text.split("mix")[0]  # unknowable for a closed model
    assert [r for r in rows(text, "20s")] == [["20s", "10"]]
    assert rows(text, "a") == [["a", "3", "75.0%"]]
    assert [rows(text, str(w)) for w in range(3)] == [[["0", "4"]], [["1", "3"]], [["2", "3"]]]
    assert "    (none)\n" in text
    scenario = plan_data(suite)["scenarios"][0]
    assert scenario["expected_iterations"] is None
    assert scenario["max_vus"] == 10
    assert scenario["profile"][0] == {"t": 0.0, "vus": 2.0}


def test_too_many_workers_for_max_vus() -> None:
    suite = load_suite_text(
        CLOSED.replace(
            "executor: ramping-vus\n    start_vus: 2\n"
            "    stages: [{to: 10, over: 20s}, {to: 10, over: 40s}, {to: 0, over: 10s}]",
            "executor: constant-arrival-rate\n    rate: 10/s\n    duration: 10s\n    max_vus: 2",
        )
    )
    text = render_plan(suite, workers=4)
    assert "workers (2): 4 requested, but max_vus 2 allows 2" in text
    assert len(plan_data(suite, workers=4)["scenarios"][0]["workers"]) == 2


def test_bad_arguments(suite: Suite) -> None:
    with pytest.raises(ValueError, match="unknown scenario nope; the suite has: normal, pay"):
        plan_data(suite, ["nope"])
    with pytest.raises(ValueError, match="workers must be at least 1"):
        render_plan(suite, workers=0)


def test_sparkline_levels(suite: Suite) -> None:
    ramp = schedule_for(suite.workloads["ramp"])
    line = sparkline(ramp, 10)
    assert len(line) == 10
    assert line[0] < line[2] < line[3] and line[4:9] == "█████"


def test_chaos_table_and_timeline(suite: Suite) -> None:
    text = render_plan(suite, ["payments-slow"])
    block = text.split("  chaos\n")[1].split("  thresholds\n")[0].splitlines()
    assert [line.split() for line in block[:2]] == [
        ["fault", "type", "target", "at", "for"],
        ["payments-slow", "latency", "payments-link", "10s", "15s"],
    ]
    assert block[2].split() == ["0s", "40s"]
    assert block[3] == "    payments-slow  " + "." * 10 + "#" * 15 + "." * 15  # 1 mark = 1s
    assert len(block) == 4
    assert "  chaos\n" not in render_plan(suite, ["normal"])


def test_chaos_data(suite: Suite) -> None:
    data = plan_data(suite, ["worker-crash", "normal"])
    crash, normal = data["scenarios"]
    assert crash["duration"] == 40.0
    assert crash["chaos"] == [
        {
            "fault": "worker-crash",
            "type": "kill",
            "target": "order-worker",
            "at": 10.0,
            "for": 15.0,
            "end": 25.0,
            "bar": "." * 10 + "#" * 15 + "." * 15,
        }
    ]
    assert normal["chaos"] == []


def test_overlapping_faults_in_start_order(suite: Suite) -> None:
    both = suite.scenarios["payments-slow"].model_copy(
        update={
            "chaos": (
                *suite.scenarios["cpu-pressure"].chaos,
                suite.scenarios["worker-crash"].chaos[0].model_copy(update={"at": 5.0}),
            )
        }
    )
    suite = suite.model_copy(update={"scenarios": {"both": both}})
    text = render_plan(suite)
    bars = [line.split() for line in text.splitlines() if line.endswith(".")]
    assert bars == [
        ["worker-crash", "." * 5 + "#" * 15 + "." * 20],
        ["cpu-pressure", "." * 10 + "#" * 15 + "." * 15],
    ]


@pytest.mark.parametrize(
    ("start", "end", "bar"),
    [(1.0, 2.0, ".#.."), (0.5, 0.6, "#..."), (2.5, 3.5, "..##"), (3.0, 3.9, "...#")],
)
def test_fault_bar_marks_every_touched_cell(start: float, end: float, bar: str) -> None:
    assert fault_bar(start, end, 4.0, width=4) == bar


def test_plan_and_run_use_the_same_worker_count_for_a_closed_model() -> None:
    """A closed model with 2 users cannot use 4 workers: `run` starts 2 (`workers_for`), and
    the plan shows those 2, not 4 of which two have no user."""
    suite = load_suite_text(
        CLOSED.replace(
            "executor: ramping-vus\n    start_vus: 2\n"
            "    stages: [{to: 10, over: 20s}, {to: 10, over: 40s}, {to: 0, over: 10s}]",
            "executor: constant-vus\n    vus: 2\n    duration: 10s",
        )
    )
    schedule = schedule_for(suite.workloads["users"])
    split = plan_data(suite, workers=4)["scenarios"][0]["workers"]
    assert len(split) == workers_for(schedule, 4) == 2
    assert [w["max_vus"] for w in split] == [1, 1]
    assert "workers (2): 4 requested, but the peak VUs 2 allows 2" in render_plan(suite, workers=4)


def test_plan_cli_defaults_to_the_workers_run_would_start(tmp_path: Path) -> None:
    """`contval plan` without --workers shows `contval run`'s default (one per core, capped)."""
    path = tmp_path / "suite.yaml"
    path.write_text(CLOSED)
    out = subprocess.run(
        [sys.executable, "-m", "contval", "plan", str(path), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    cores = len(os.sched_getaffinity(0))
    assert data["workers"] == cores
    assert len(data["scenarios"][0]["workers"]) == min(cores, 10)
