"""The open model (arrival-rate executors): iterations are due at planned times, whatever the
system's latency, so a slow server cannot slow the load down (no coordinated omission).

`OpenSchedule` is the part the engine sees; the executor modules supply a `RateProfile`, which
knows the shape of the rate and turns arrival indices into offsets in closed form.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from contval.engine.schedules.workers import check_worker, share

COUNT_TOLERANCE = 1e-9
"""Relative slack when the expected count lands on an integer: 50/s × 60s must be 3000 arrivals
even when the product comes out as 3000.0000000000005 in floating point."""


class RateProfile(Protocol):
    """The shape of an arrival rate over [0, duration]."""

    @property
    def duration(self) -> float: ...

    def rate_at(self, t: float) -> float: ...

    def total(self) -> float:
        """The integral of the rate over the run: the expected number of arrivals."""
        ...

    def arrival_times(self, first: int, step: int, stop: int) -> Iterator[float]:
        """Offsets of arrivals first, first + step, … (< stop), ascending."""
        ...

    def points(self) -> tuple[tuple[float, float], ...]:
        """(t, rate) at stage boundaries, from 0 to the duration."""
        ...


def whole_count(expected: float) -> int:
    """How many arrivals k = 0, 1, … have k < expected (with float slack at integers)."""
    if expected <= 0:
        return 0
    return max(0, math.ceil(expected - COUNT_TOLERANCE * max(1.0, expected)))


@dataclass(frozen=True, slots=True)
class OpenSchedule:
    """When iterations are due, and how many may run at once (`max_vus`, across all workers).

    Arrival k (0-based) is due when the expected count N(t) first exceeds k; for a constant rate
    that is k / rate. Worker w of W takes the arrivals with k % W == w, so W workers together
    run exactly the single-worker schedule, interleaved rather than in blocks.
    """

    profile: RateProfile
    max_vus: int
    kind: Literal["open"] = field(default="open", init=False)

    def __post_init__(self) -> None:
        if self.max_vus < 1:
            raise ValueError(f"max_vus must be at least 1, not {self.max_vus}")

    @property
    def duration(self) -> float:
        return self.profile.duration

    def rate_at(self, t: float) -> float:
        """Arrivals per second at offset t (0 outside the run)."""
        return self.profile.rate_at(t)

    def expected_iterations(self) -> int:
        """The exact number of arrivals `arrivals()` yields over all workers."""
        return whole_count(self.profile.total())

    def worker_iterations(self, worker: int, workers: int) -> int:
        """How many arrivals worker `worker` of `workers` yields."""
        return share(self.expected_iterations(), worker, workers)

    def arrivals(self, worker: int = 0, workers: int = 1) -> Iterator[float]:
        """Ascending offsets (seconds from the run start, all < duration) of this worker's
        arrivals: global indices worker, worker + workers, …"""
        check_worker(worker, workers)
        return self.profile.arrival_times(worker, workers, self.expected_iterations())

    def worker_max_vus(self, worker: int, workers: int) -> int:
        """This worker's part of `max_vus`; the parts sum to `max_vus`.

        Every worker gets arrivals, so every worker needs at least one VU: more workers than
        `max_vus` is refused rather than silently exceeding the user's cap. Run with
        `min(workers, max_vus)` workers instead.
        """
        check_worker(worker, workers)
        if workers > self.max_vus:
            raise ValueError(
                f"{workers} workers cannot share max_vus {self.max_vus}: each needs at least "
                f"one VU; use at most {self.max_vus} workers"
            )
        return share(self.max_vus, worker, workers)
