"""shared-iterations and per-vu-iterations: a fixed number of iterations (closed model).

`vus` users start at once and stay for at most `max_duration`; the `IterationBudget` says how many
iterations they run in all. The run ends when the budget is spent, so `max_duration` is an upper
bound on the schedule's duration, not its length.
"""

from __future__ import annotations

from contval.engine.schedules.closed_model import ClosedSchedule, IterationBudget
from contval.engine.schedules.constant_vus import ConstantUsers
from contval.spec.workloads import PerVuIterations, SharedIterations


def build(workload: SharedIterations | PerVuIterations) -> ClosedSchedule:
    per_vu = isinstance(workload, PerVuIterations)
    budget = IterationBudget(workload.vus, workload.iterations, per_vu)
    return ClosedSchedule(ConstantUsers(workload.vus, workload.max_duration), budget)
