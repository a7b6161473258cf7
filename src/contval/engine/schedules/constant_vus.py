"""constant-vus: a fixed number of virtual users loop over iterations for a fixed time."""

from __future__ import annotations

from dataclasses import dataclass

from contval.engine.schedules.closed_model import ClosedSchedule
from contval.spec.workloads import ConstantVus


@dataclass(frozen=True, slots=True)
class ConstantUsers:
    """A `VuProfile` flat at `vus` over [0, duration]."""

    vus: int
    duration: float

    def vus_at(self, t: float) -> int:
        return self.vus if 0 <= t <= self.duration else 0

    def peak(self) -> int:
        return self.vus

    def points(self) -> tuple[tuple[float, float], ...]:
        return ((0.0, float(self.vus)), (self.duration, float(self.vus)))


def build(workload: ConstantVus) -> ClosedSchedule:
    return ClosedSchedule(ConstantUsers(workload.vus, workload.duration))
