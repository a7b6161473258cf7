"""The iteration executors' driver: all users start at once and run a fixed number of
iterations (this worker's part of the budget), until it is spent or `max_duration` is reached.

A user whose iterations are done stops and is not replaced. At `max_duration` no iteration
starts any more (those in hand finish, within the worker's grace), and every iteration of the
budget that never started is counted as dropped on the flow the mix gave it, as k6 counts them
in `dropped_iterations`: the run is complete, and the shortfall is in its error rate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from contval.engine.closed_loop import ClosedLoop
from contval.engine.schedules import IterationBudget
from contval.http import now


class IterationLoop(ClosedLoop):
    """A `ClosedLoop` (so the worker drains and cancels it alike) with an iteration budget."""

    def __init__(
        self,
        budget: IterationBudget,
        users: int,
        duration: float,
        pick: Callable[[int], str],
        worker: int,
        workers: int,
        start: float,
        run: Callable[[str, float], Awaitable[bool]],
        drop: Callable[[str], None],
    ) -> None:
        super().__init__(lambda t: users, duration, pick, worker, workers, start, run)
        self.budget = budget
        self.user_count = users
        self.total = budget.worker_total(worker, workers)
        self.drop = drop
        self.closed = False  # no iteration starts once set (max_duration reached)
        self.done = [0] * users  # per user: iterations started (per-vu)
        self.unstarted: int | None = None  # set at max_duration: the budget never started

    def _take(self, user: int) -> int | None:
        """The global index of `user`'s next iteration, or None when its budget is spent."""
        if self.closed or self.iterations >= self.total:
            return None
        budget = self.budget
        if budget.per_vu:
            done = self.done[user]
            if done >= budget.iterations:
                return None
            self.done[user] = done + 1
            return budget.user_index(self.worker, self.workers, user, done)
        return self.worker + self.iterations * self.workers  # the pool: this worker's share

    async def _user(self, number: int) -> None:
        end = self.start + self.duration
        run = self.run_iteration
        pick = self.pick
        take = self._take
        while not self.stopped:
            due = now()
            if due >= end:
                return
            k = take(number)
            if k is None:
                return
            self.iterations += 1
            self.active += 1
            try:
                await run(pick(k), due)
            finally:
                self.active -= 1

    async def run(self) -> None:
        """Start every user at the common start, then wait until all are done or
        `max_duration` is reached."""
        await asyncio.sleep(max(0.0, self.start - now()))
        self.users = [asyncio.create_task(self._user(n)) for n in range(self.user_count)]
        remaining = self.start + self.duration - now()
        if self.users and remaining > 0:
            await asyncio.wait(self.users, timeout=remaining)
        self.closed = True
        if self.stopped:
            return  # stopped early (abort, interrupt): nothing is dropped, the run is cut short
        self.unstarted = self.total - self.iterations
        for k in self._unstarted_indices():
            self.drop(self.pick(k))

    def _unstarted_indices(self) -> list[int]:
        """The global indices of this worker's iterations that never started."""
        budget = self.budget
        if not budget.per_vu:
            first = self.iterations
            return [self.worker + i * self.workers for i in range(first, self.total)]
        return [
            budget.user_index(self.worker, self.workers, user, j)
            for user, done in enumerate(self.done)
            for j in range(done, budget.iterations)
        ]
