"""ramping-arrival-rate: an arrival rate moving linearly through stages (open model).

With a piecewise-linear rate r(t), the expected count N(t) = ∫r is piecewise quadratic. Arrival k
is due where N first exceeds k, found per stage in closed form, so arrivals are exact, cost O(1)
each (a forward walk over stages), and any worker computes its own without the others. Stages at
rate 0 hold no arrivals: the next one is due where the rate becomes positive again.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from contval.engine.schedules.open_model import OpenSchedule
from contval.engine.schedules.ramp import Ramp
from contval.spec.workloads import RampingArrivalRate


@dataclass(frozen=True, slots=True)
class RampingRate:
    """A `RateProfile` linear between breakpoints; `counts[i]` is N at breakpoint i."""

    ramp: Ramp
    counts: tuple[float, ...]

    @classmethod
    def from_ramp(cls, ramp: Ramp) -> RampingRate:
        counts = [0.0]
        for i in range(len(ramp.times) - 1):
            span = ramp.times[i + 1] - ramp.times[i]
            counts.append(counts[-1] + (ramp.values[i] + ramp.values[i + 1]) / 2 * span)
        return cls(ramp, tuple(counts))

    @property
    def duration(self) -> float:
        return self.ramp.duration

    def rate_at(self, t: float) -> float:
        return self.ramp.value_at(t)

    def total(self) -> float:
        return self.counts[-1]

    def count_until(self, t: float) -> float:
        """N(t): the expected number of arrivals in [0, t)."""
        t = min(max(t, 0.0), self.duration)
        times = self.ramp.times
        i = min(bisect_right(times, t), len(times) - 1) - 1
        s = t - times[i]
        r0 = self.ramp.values[i]
        slope = (self.ramp.values[i + 1] - r0) / (times[i + 1] - times[i])
        return self.counts[i] + r0 * s + slope * s * s / 2

    def arrival_times(self, first: int, step: int, stop: int) -> Iterator[float]:
        counts = self.counts
        stage = 0
        for k in range(first, stop, step):
            while counts[stage + 1] <= k:  # stop ≤ total, so the walk stays inside the run
                stage += 1
            yield self._solve(stage, k - counts[stage])

    def _solve(self, stage: int, y: float) -> float:
        """The offset in `stage` where N has grown by y since the stage began.

        Solves r0·s + a·s²/2 = y as s = 2y / (r0 + √(r0² + 2ay)): no cancellation when a < 0 or
        r0 is large, and it reduces to y / r0 on flat stages and √(2y/a) from rate 0.
        """
        t0, t1 = self.ramp.times[stage], self.ramp.times[stage + 1]
        r0, r1 = self.ramp.values[stage], self.ramp.values[stage + 1]
        if y <= 0:
            return t0
        slope = (r1 - r0) / (t1 - t0)
        s = 2 * y / (r0 + math.sqrt(max(0.0, r0 * r0 + 2 * slope * y)))
        return min(t0 + s, math.nextafter(t1, -math.inf))

    def points(self) -> tuple[tuple[float, float], ...]:
        return self.ramp.points()


def build(workload: RampingArrivalRate) -> OpenSchedule:
    stages = ((stage.to, stage.over) for stage in workload.stages)
    ramp = Ramp.from_stages(workload.start_rate, stages)
    return OpenSchedule(RampingRate.from_ramp(ramp), workload.max_vus)
