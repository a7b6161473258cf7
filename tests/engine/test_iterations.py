"""shared-iterations and per-vu-iterations: exact budgets as data, then at a real server."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from contval.engine.iterations_loop import IterationLoop
from contval.engine.plan import plan_data, render_plan
from contval.engine.schedules import ClosedSchedule, IterationBudget, Mix, schedule_for
from contval.spec import load_suite
from contval.spec.workloads import Workload
from tests.engine.target import Target
from tests.engine.test_run import run

WORKLOAD: TypeAdapter[Any] = TypeAdapter(Workload)


def schedule(**fields: Any) -> ClosedSchedule:
    built = schedule_for(WORKLOAD.validate_python({"mix": {"f": 1}, **fields}))
    assert isinstance(built, ClosedSchedule)
    return built


@given(
    vus=st.integers(1, 40),
    iterations=st.integers(1, 200),
    workers=st.integers(1, 12),
    per_vu=st.booleans(),
)
def test_budget_split_is_exact_and_covers_every_index_once(
    vus: int, iterations: int, workers: int, per_vu: bool
) -> None:
    budget = IterationBudget(vus, max(iterations, vus), per_vu)
    workers = min(workers, vus)  # `workers_for`: each worker has a user of its own
    parts = [budget.worker_total(w, workers) for w in range(workers)]
    assert sum(parts) == budget.total()
    if per_vu:
        users = [vus // workers + (1 if w < vus % workers else 0) for w in range(workers)]
        indices = [
            budget.user_index(w, workers, u, j)
            for w in range(workers)
            for u in range(users[w])
            for j in range(budget.iterations)
        ]
    else:
        indices = [w + i * workers for w in range(workers) for i in range(parts[w])]
    assert sorted(indices) == list(range(budget.total()))


def test_schedules_are_pure_data() -> None:
    shared = schedule(executor="shared-iterations", vus=3, iterations=10, max_duration="30s")
    assert shared.expected_iterations() == 10 and shared.duration == 30.0
    assert [shared.worker_iterations(w, 2) for w in range(2)] == [5, 5]
    assert [shared.worker_max_vus(w, 2) for w in range(2)] == [2, 1]
    per_vu = schedule(executor="per-vu-iterations", vus=3, iterations=4)
    assert per_vu.expected_iterations() == 12 and per_vu.duration == 600.0  # k6's 10m
    assert [per_vu.worker_iterations(w, 2) for w in range(2)] == [8, 4]
    assert schedule(executor="constant-vus", vus=2, duration="1s").expected_iterations() is None


def test_fewer_shared_iterations_than_vus_is_a_located_error(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, "http://127.0.0.1:1", "vus: 3, iterations: 2", "vus: 1")
    proc = subprocess.run(
        [sys.executable, "-m", "contval", "validate", str(suite)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert f"{suite}:17:5: iterations (2) must be at least vus (3)" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def write_suite(directory: Path, url: str, shared: str, per_vu: str) -> Path:
    path = directory / "suite.yaml"
    path.write_text(f"""version: 1
name: iterations
targets:
  app: {url}
flows:
  f:
    target: app
    steps: [{{name: get, request: GET /ok, check: {{status: 200}}}}]
  g:
    target: app
    steps: [{{name: get, request: GET /bad-json, check: {{status: 200}}}}]
  h:
    target: app
    steps: [{{name: get, request: GET /slow, check: {{status: 200}}}}]
workloads:
  shared:
    {{executor: shared-iterations, {shared}, mix: {{f: 1, g: 1}}}}
  per-vu:
    {{executor: per-vu-iterations, {per_vu}, mix: {{h: 1}}}}
scenarios:
  shared: {{workload: shared}}
  per-vu: {{workload: per-vu}}
pipeline: {{cooldown: 0s}}
""")
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_exact_iterations_reach_the_server(tmp_path: Path, target: Target, workers: int) -> None:
    """10 shared by 3 VUs, and 4 for each of 3 VUs: the server sees exactly 10 and 12, the mix
    exactly 5/5, whether one worker runs them or two split them."""
    suite = write_suite(tmp_path, target.url, "vus: 3, iterations: 10", "vus: 3, iterations: 4")
    plan = plan_data(load_suite(suite), workers=workers)["scenarios"]
    assert [s["expected_iterations"] for s in plan] == [10, 12]
    code, result, output = run(suite, tmp_path / "out", "--workers", str(workers))
    assert code == 0, output
    assert target.seen.paths == Counter({"/ok": 5, "/bad-json": 5, "/slow": 12})
    shared, per_vu = result["scenarios"]
    assert result["complete"] is True
    for scenario, total in ((shared, 10), (per_vu, 12)):
        assert scenario["complete"] is True and scenario["stop_reason"] is None
        assert scenario["planned_iterations"] == total
        assert scenario["totals"]["iterations"] == total
        assert scenario["totals"]["dropped_iterations"] == 0
    assert shared["duration_s"] <= 3  # done long before max_duration (10m)


def test_max_duration_reports_the_unstarted_iterations_as_dropped(
    tmp_path: Path, target: Target
) -> None:
    """One VU, 30 iterations of a 200 ms route, at most 1s: about 5 run, the rest are dropped
    (k6's dropped_iterations), counted on their flows, and the run is complete."""
    target.behaviour.delay = 0.200
    suite = write_suite(
        tmp_path, target.url, "vus: 1, iterations: 1", "vus: 1, iterations: 30, max_duration: 1s"
    )
    code, result, output = run(suite, tmp_path / "out", "--workers", "1", "--scenario", "per-vu")
    assert code == 0, output
    scenario = result["scenarios"][0]
    sent = target.seen.paths["/slow"]
    assert 2 <= sent <= 6
    assert scenario["complete"] is True and result["complete"] is True
    assert scenario["planned_iterations"] == 30
    assert scenario["totals"]["iterations"] == sent
    assert scenario["totals"]["dropped_iterations"] == 30 - sent
    assert scenario["flows"]["h"]["dropped_iterations"] == 30 - sent
    assert "dropped" in output


def test_plan_prints_the_budget(tmp_path: Path) -> None:
    suite = load_suite(
        write_suite(
            tmp_path, "http://127.0.0.1:1", "vus: 3, iterations: 10", "vus: 3, iterations: 4"
        )
    )
    text = render_plan(suite, workers=2)
    assert "iterations  10 in all; shared by 3 VUs; at most 10m" in text
    assert "iterations  12 in all; 4 for each of 3 VUs; at most 10m" in text
    data = plan_data(suite, workers=2)["scenarios"]
    assert [w["iterations"] for w in data[0]["workers"]] == [5, 5]
    assert [w["iterations"] for w in data[1]["workers"]] == [8, 4]
    assert data[1]["budget"] == {"vus": 3, "iterations": 4, "per_vu": True}


async def _noop(flow: str, due: float) -> bool:
    return True


def test_iteration_loop_stops_at_its_budget() -> None:
    """Without a server: 7 of a 7-iteration pool over 3 users, and the mix sees 0 … 6 once."""
    import asyncio

    from contval.http import now

    seen: list[int] = []
    mix = Mix({"f": 1})

    def pick(k: int) -> str:
        seen.append(k)
        return mix.pick(k)

    async def main() -> IterationLoop:
        loop = IterationLoop(IterationBudget(3, 7, False), 3, 5.0, pick, 0, 1, now(), _noop, print)
        await loop.run()
        return loop

    loop = asyncio.run(main())
    assert sorted(seen) == list(range(7)) and loop.unstarted == 0


def test_the_documented_workloads_are_the_ones_run_here() -> None:
    """docs/suite.md's iteration executors: the same numbers the tests above run and count."""
    docs = (Path(__file__).parents[2] / "docs" / "suite.md").read_text()
    assert (
        "smoke:    {executor: shared-iterations, vus: 3, iterations: 10, mix: {browse: 1}}" in docs
    )
    assert (
        "per-user: {executor: per-vu-iterations, vus: 3, iterations: 4, mix: {checkout: 1}}" in docs
    )
