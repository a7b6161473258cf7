"""constant-arrival-rate: iterations start at a fixed rate for a fixed time (open model).

Arrival k is due at exactly k / rate, computed from k rather than accumulated, so no drift builds
up over a long run and any worker can compute its own arrivals without the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from contval.engine.schedules.open_model import OpenSchedule
from contval.spec.workloads import ConstantArrivalRate


@dataclass(frozen=True, slots=True)
class ConstantRate:
    """A `RateProfile` flat at `rate` arrivals per second over [0, duration]."""

    rate: float
    duration: float

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.duration <= 0:
            raise ValueError(f"rate and duration must be positive: {self.rate}, {self.duration}")

    def rate_at(self, t: float) -> float:
        return self.rate if 0 <= t <= self.duration else 0.0

    def total(self) -> float:
        return self.rate * self.duration

    def arrival_times(self, first: int, step: int, stop: int) -> Iterator[float]:
        rate = self.rate
        for k in range(first, stop, step):
            yield k / rate

    def points(self) -> tuple[tuple[float, float], ...]:
        return ((0.0, self.rate), (self.duration, self.rate))


def build(workload: ConstantArrivalRate) -> OpenSchedule:
    return OpenSchedule(ConstantRate(workload.rate, workload.duration), workload.max_vus)
