"""What a lost load worker costs a run that goes on without it (`on_worker_loss: continue`).

A worker drives a fixed share of its workload's schedule (its arrivals, or its part of the
virtual users); once it is lost, that share of the rest of the schedule is not driven, and is
not re-planned onto the survivors (they keep their own shares, so their load stays what the
plan said). `lost_share` says how much of the planned load that was, from the schedule alone
(pure: no clock, no I/O), so result.json can record it next to the measured figures.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Literal

from contval.engine import messages as msg
from contval.engine.schedules import OpenSchedule, Schedule, schedule_for

Policy = Literal["stop", "continue"]


@dataclass(frozen=True, slots=True)
class Loss:
    """One worker the run went on without (result.json `engine.lost_workers[]`)."""

    worker: int
    node_id: str
    host: str
    at_s: float  # when the controller noticed, seconds after the common start
    measured_to_s: int  # the worker's seconds before this one reached the results
    share: float  # of the workload's planned load, not driven from `measured_to_s` on
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "worker": self.worker,
            "node_id": self.node_id,
            "host": self.host,
            "at_s": round(self.at_s, 3),
            "measured_to_s": self.measured_to_s,
            "share": round(self.share, 4),
            "reason": self.reason,
        }


def policy(job: msg.WorkerJob) -> Policy:
    """The scenario's `on_worker_loss` (default `stop`)."""
    return job.suite.scenarios[job.scenario].on_worker_loss


def job_schedule(job: msg.WorkerJob) -> tuple[Schedule, float]:
    """The schedule the job's worker drives, and its offset from the common start (the
    workload's `start_time`), exactly as the worker picks them."""
    parts = job.suite.scenarios[job.scenario].parts()
    _, name, offset = next((p for p in parts if p[0] == job.part), parts[0])
    return schedule_for(job.suite.workloads[name]), offset


def lost_share(job: msg.WorkerJob, from_s: float) -> float:
    """The fraction of the job's workload's planned load (arrivals, or VU-seconds for the
    closed model) that worker `job.worker` was to drive from `from_s` seconds after the common
    start to the end of the schedule."""
    schedule, offset = job_schedule(job)
    whole = _area(schedule, 0.0)
    if whole <= 0:
        return 0.0
    return _fraction(schedule, job.worker, job.workers) * _area(schedule, from_s - offset) / whole


def _fraction(schedule: Schedule, worker: int, workers: int) -> float:
    """This worker's part of the schedule (round-robin arrivals, or its part of the VUs)."""
    if isinstance(schedule, OpenSchedule):
        total = schedule.expected_iterations()
        return schedule.worker_iterations(worker, workers) / total if total else 1 / workers
    peak = schedule.max_vus()
    return schedule.worker_max_vus(worker, workers) / peak if peak else 1 / workers


def _area(schedule: Schedule, start: float) -> float:
    """The integral of the profile (rate or VUs; linear between its points) from `start` on."""
    points = list(schedule.profile.points())
    start = max(0.0, start)
    area = 0.0
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t1 <= start or t1 <= t0:
            continue
        begin = max(t0, start)  # the segment's part after `start`
        first = v0 + (v1 - v0) * (begin - t0) / (t1 - t0)
        area += (first + v1) / 2 * (t1 - begin)
    return area


__all__ = ["Loss", "Policy", "job_schedule", "lost_share", "policy"]
