"""The lost share of a worker the run went on without (`on_worker_loss: continue`): pure
arithmetic on the schedule, so no cluster is needed here (the loss itself is tested on a real
Ray cluster in tests/engine/ray/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contval.engine import messages as msg
from contval.engine.ray_loss import job_schedule, lost_share, policy
from contval.spec import load_suite
from tests.engine.test_run import constant_rate, one_step, write_suite

RAMP = """    executor: ramping-arrival-rate
    start_rate: 0/s
    stages: [{to: 100/s, over: 10s}]
    max_vus: 50
    mix: {f: 1}
"""
USERS = """    executor: constant-vus
    vus: 3
    duration: 10s
    mix: {f: 1}
"""


def _jobs(tmp_path: Path, workload: str, workers: int, extra: str = "") -> list[msg.WorkerJob]:
    suite = write_suite(tmp_path, "http://127.0.0.1:9", one_step("/"), workload)
    suite.write_text(suite.read_text() + extra)
    return msg.jobs_for(load_suite(suite), "main", workers)


def test_a_constant_rate_loses_the_workers_share_of_the_rest(tmp_path: Path) -> None:
    jobs = _jobs(tmp_path, constant_rate("100/s", "10s"), 4)
    assert policy(jobs[0]) == "stop"  # the default
    assert lost_share(jobs[1], 0) == pytest.approx(0.25)
    assert lost_share(jobs[1], 6) == pytest.approx(0.25 * 0.4)
    assert lost_share(jobs[1], 10) == 0.0 and lost_share(jobs[1], 12) == 0.0


def test_a_ramp_weighs_the_rest_by_its_rate(tmp_path: Path) -> None:
    jobs = _jobs(tmp_path, RAMP, 2)
    # rate t*10/s: 500 arrivals in all, 375 from t = 5 on
    assert lost_share(jobs[0], 5) == pytest.approx(0.5 * 375 / 500)


def test_closed_model_shares_follow_the_users(tmp_path: Path) -> None:
    jobs = _jobs(tmp_path, USERS, 2)  # 3 users: 2 on worker 0, 1 on worker 1
    assert lost_share(jobs[0], 0) == pytest.approx(2 / 3)
    assert lost_share(jobs[1], 5) == pytest.approx(1 / 3 * 0.5)


def test_a_late_workload_counts_from_its_own_start(tmp_path: Path) -> None:
    extra = "    start_time: 4s\n    on_worker_loss: continue\n"
    jobs = _jobs(tmp_path, constant_rate("10/s", "10s"), 1, extra)
    assert policy(jobs[0]) == "continue"
    assert job_schedule(jobs[0])[1] == 4.0
    assert lost_share(jobs[0], 2) == pytest.approx(1.0)  # before it started: all of it
    assert lost_share(jobs[0], 9) == pytest.approx(0.5)
