"""Pure schedules of the executors: what rate, or how many users, at each moment of a run.

Data and arithmetic only (no clock, no I/O), so plans are printed and tested without running
anything, and every worker derives its exact share of a schedule from (worker, workers) alone.
Open-model executors give an `OpenSchedule` (arrival offsets), closed-model ones a
`ClosedSchedule` (target VUs over time, and for the iteration executors an iteration budget);
`Mix` decides which flow each iteration runs.
"""

from __future__ import annotations

from typing import assert_never

from contval.engine.schedules import (
    constant_arrival_rate,
    constant_vus,
    iterations,
    ramping_arrival_rate,
    ramping_vus,
)
from contval.engine.schedules.closed_model import ClosedSchedule, IterationBudget, VuProfile
from contval.engine.schedules.describe import Schedule, describe, sample, value_at
from contval.engine.schedules.mix import Mix
from contval.engine.schedules.open_model import OpenSchedule, RateProfile
from contval.engine.schedules.workers import share
from contval.spec.workloads import (
    AnyWorkload,
    ConstantArrivalRate,
    ConstantVus,
    PerVuIterations,
    RampingArrivalRate,
    RampingVus,
    SharedIterations,
)

__all__ = [
    "ClosedSchedule",
    "IterationBudget",
    "Mix",
    "OpenSchedule",
    "RateProfile",
    "Schedule",
    "VuProfile",
    "describe",
    "sample",
    "schedule_for",
    "share",
    "value_at",
    "workers_for",
]


def workers_for(schedule: Schedule, wanted: int) -> int:
    """How many workers a run of `schedule` uses when `wanted` are asked for: every worker
    needs at least one virtual user of its own, so never more than the peak VUs (closed) or
    `max_vus` (open). `contval run` starts this many and `contval plan` shows this many."""
    cap = schedule.max_vus if isinstance(schedule, OpenSchedule) else schedule.max_vus()
    return max(1, min(wanted, cap))


def schedule_for(workload: AnyWorkload) -> Schedule:
    """The schedule of a suite workload, by its executor."""
    match workload:
        case ConstantArrivalRate():
            return constant_arrival_rate.build(workload)
        case RampingArrivalRate():
            return ramping_arrival_rate.build(workload)
        case ConstantVus():
            return constant_vus.build(workload)
        case RampingVus():
            return ramping_vus.build(workload)
        case SharedIterations() | PerVuIterations():
            return iterations.build(workload)
        case _:
            assert_never(workload)
