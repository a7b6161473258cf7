"""ramping-vus: virtual users moving linearly through stages (closed model).

Between stage targets the number of users is the linear value rounded down, as k6 does: a ramp
from 0 to 10 over 10s has its first user at 1s, and reaches 10 only at the stage's end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from contval.engine.schedules.closed_model import ClosedSchedule
from contval.engine.schedules.ramp import Ramp
from contval.spec.workloads import RampingVus

ROUNDING_SLACK = 1e-9
"""Absorbs float error so 2.9999999999999996 users (an exact 3 computed in floats) is 3."""


@dataclass(frozen=True, slots=True)
class RampingUsers:
    """A `VuProfile` following a ramp of user counts, rounded down between breakpoints."""

    ramp: Ramp

    @property
    def duration(self) -> float:
        return self.ramp.duration

    def vus_at(self, t: float) -> int:
        return math.floor(self.ramp.value_at(t) + ROUNDING_SLACK)

    def peak(self) -> int:
        return round(max(self.ramp.values))

    def points(self) -> tuple[tuple[float, float], ...]:
        return self.ramp.points()


def build(workload: RampingVus) -> ClosedSchedule:
    stages = ((float(stage.to), stage.over) for stage in workload.stages)
    return ClosedSchedule(RampingUsers(Ramp.from_stages(workload.start_vus, stages)))
