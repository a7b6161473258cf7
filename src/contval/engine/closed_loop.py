"""The closed-model driver: a number of virtual users, each looping over iterations.

The number of users follows the schedule; a controller adds users at once and retires surplus
ones after their current iteration (as k6 does), so iterations are never cut short by a ramp.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from contval.http import now

CONTROL_EVERY = 0.1  # seconds between re-reading the schedule's target VUs


class ClosedLoop:
    def __init__(
        self,
        target: Callable[[float], int],
        duration: float,
        pick: Callable[[int], str],
        worker: int,
        workers: int,
        start: float,
        run: Callable[[str, float], Awaitable[bool]],
    ) -> None:
        self.target = target  # offset → this worker's VUs
        self.duration = duration
        self.pick = pick
        self.worker = worker
        self.workers = workers
        self.start = start
        self.run_iteration = run
        self.users: list[asyncio.Task[None]] = []
        self.retire: set[int] = set()
        self.iterations = 0
        self.active = 0
        self.stopped = False

    async def _user(self, number: int) -> None:
        end = self.start + self.duration
        retire = self.retire
        run = self.run_iteration
        pick = self.pick
        worker = self.worker
        workers = self.workers
        while not self.stopped and number not in retire:
            due = now()  # one clock read: the end check and the iteration's due time
            if due >= end:
                return
            k = worker + self.iterations * workers  # this worker's share of the global sequence
            self.iterations += 1
            self.active += 1
            try:
                await run(pick(k), due)
            finally:
                self.active -= 1

    async def run(self) -> None:
        """Steer the number of users until the duration is over; users then finish the
        iteration in hand and stop by themselves (the worker bounds that with its grace)."""
        end = self.start + self.duration
        while not self.stopped and now() < end:
            self._steer(self.target(now() - self.start))
            await asyncio.sleep(min(CONTROL_EVERY, max(0.0, end - now())))

    def _steer(self, wanted: int) -> None:
        running = [n for n, u in enumerate(self.users) if not u.done() and n not in self.retire]
        for n in running[wanted:]:
            self.retire.add(n)
        for _ in range(wanted - len(running)):
            self.users.append(asyncio.create_task(self._user(len(self.users))))

    async def cancel(self) -> None:
        self.stopped = True
        for user in self.users:
            user.cancel()
        for user in self.users:
            with contextlib.suppress(asyncio.CancelledError):
                await user
