"""The closed model (VU executors): a number of virtual users, each looping over iterations.

`ClosedSchedule` is the part the engine sees; the executor modules supply a `VuProfile` giving
the target number of users at each offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from contval.engine.schedules.workers import share


class VuProfile(Protocol):
    """The target number of virtual users over [0, duration]."""

    @property
    def duration(self) -> float: ...

    def vus_at(self, t: float) -> int: ...

    def peak(self) -> int: ...

    def points(self) -> tuple[tuple[float, float], ...]:
        """(t, VUs) at stage boundaries, from 0 to the duration."""
        ...


@dataclass(frozen=True, slots=True)
class ClosedSchedule:
    """How many users should be looping at each offset of the run, in total and per worker."""

    profile: VuProfile
    kind: Literal["closed"] = field(default="closed", init=False)

    @property
    def duration(self) -> float:
        return self.profile.duration

    def vus_at(self, t: float) -> int:
        """Target VUs at offset t (0 outside the run)."""
        return self.profile.vus_at(t)

    def worker_vus_at(self, t: float, worker: int, workers: int) -> int:
        """This worker's part of `vus_at(t)`; parts sum to it, and a ramp up by one user adds
        that user on exactly one worker (so no worker ever retires users during a ramp up)."""
        return share(self.vus_at(t), worker, workers)

    def max_vus(self) -> int:
        """The most users the run ever asks for (the peak over all stages)."""
        return self.profile.peak()

    def worker_max_vus(self, worker: int, workers: int) -> int:
        """The most users this worker ever runs (the split is monotone, so: the peak's part)."""
        return share(self.max_vus(), worker, workers)
