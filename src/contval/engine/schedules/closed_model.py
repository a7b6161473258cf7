"""The closed model (VU executors): a number of virtual users, each looping over iterations.

`ClosedSchedule` is the part the engine sees; the executor modules supply a `VuProfile` giving
the target number of users at each offset, and the iteration executors an `IterationBudget`: how
many iterations the users run in all, after which the run ends before its duration.
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
class IterationBudget:
    """A fixed number of iterations: `iterations` shared by all `vus` users, or (`per_vu`)
    `iterations` for each user. Split across workers exactly: the workers' parts add up to
    the whole, never the whole per worker."""

    vus: int
    iterations: int
    per_vu: bool

    def total(self) -> int:
        """Every iteration of the run, over all users and workers."""
        return self.vus * self.iterations if self.per_vu else self.iterations

    def worker_total(self, worker: int, workers: int) -> int:
        """This worker's part: its users' iterations (per VU), or its share of the pool."""
        if self.per_vu:
            return share(self.vus, worker, workers) * self.iterations
        return share(self.iterations, worker, workers)

    def user_index(self, worker: int, workers: int, user: int, done: int) -> int:
        """The global iteration index of the `done`-th iteration (0-based) of this worker's
        user number `user` (per VU). Global user g = worker + user × workers runs the indices
        g, g + vus, g + 2·vus, …: over all users, exactly 0 … total - 1, so the mix is exact."""
        return done * self.vus + worker + user * workers


@dataclass(frozen=True, slots=True)
class ClosedSchedule:
    """How many users should be looping at each offset of the run, in total and per worker;
    with a `budget`, also how many iterations they run in all (the run may end sooner)."""

    profile: VuProfile
    budget: IterationBudget | None = None
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

    def expected_iterations(self) -> int | None:
        """With a budget, exactly how many iterations the run asks for; else None (the count
        depends on the system's latency)."""
        return None if self.budget is None else self.budget.total()

    def worker_iterations(self, worker: int, workers: int) -> int | None:
        """This worker's part of `expected_iterations` (the parts add up to it)."""
        return None if self.budget is None else self.budget.worker_total(worker, workers)
