"""The open-model driver: iterations start when the schedule says, whatever the system does.

Each iteration is handed the time it was *due*, so the flow runner times requests from the
schedule and a stalled server shows up in the latencies instead of silently slowing the load
(coordinated omission). An arrival started before it was due is handed the time it was started
instead: the loop starts arrivals due within SLEEP_MIN without a timer, and the event loop's
timers have millisecond granularity and may fire early, so at 1,000 arrivals/s about a third of
them started 0.46 ms early on average (at 10,000/s 45 % of them, 0.26 ms early); timed from
their due time, each of those requests looked up to that much faster than it was. An arrival
that finds every virtual user busy is dropped and counted; one that starts more than LATE_AFTER
behind schedule is counted as late, and the worst delay per second is reported as the
generator's own lag.

Virtual users are long-lived tasks, created on demand up to `max_active` and parked on a future
while idle; an arrival wakes one (LIFO, so the warmest connection is reused). Creating a task
per arrival, as this driver once did, cost about a third of a core at 30,000 arrivals/s (a
coroutine, a task, its registration and two done callbacks each time); handing an arrival to a
parked user costs one future.

The users are created before the first arrival is due (up to `PARKED_AT_START`), not by the
first arrivals: at 50,000 arrivals/s, creating and first running ~100 users inside the first
milliseconds of the schedule made second 0 the run's worst lag (4.2-4.8 ms; 1.7-2.9 ms with the
users parked beforehand, bench/open_model.py --lags).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable, Iterable

from contval.http import now
from contval.metrics import Recorder, Slot

LATE_AFTER = 0.010  # seconds behind schedule before a start counts as late
SLEEP_MIN = 0.0005  # arrivals closer than this are started without yielding to a timer
YIELD_EVERY = 32  # arrivals started back to back before yielding once to the event loop
PARKED_AT_START = 512
"""Virtual users created and parked before the first arrival (at most `max_active`); any more
are created on demand. A parked user is a task and a future (about 2 KB)."""

Arrival = tuple[str, float]  # (flow, due)


class OpenLoop:
    """Start the arrivals of one worker; at most `max_active` iterations at once."""

    def __init__(
        self,
        arrivals: Iterable[float],
        pick: Callable[[int], str],
        index: Callable[[int], int],
        start: float,
        max_active: int,
        recorder: Recorder,
        run: Callable[[str, float], Awaitable[bool]],
        *,
        only: str | None = None,
    ) -> None:
        self.arrivals = arrivals
        self.pick = pick  # global arrival index → flow
        self.index = index  # local arrival number → global arrival index
        self.only = only
        """The flow of every arrival when the mix has one (no pick per arrival)."""
        self.start = start
        self.max_active = max(1, max_active)
        self.recorder = recorder
        self.run_iteration = run
        self.users: list[asyncio.Task[None]] = []
        self.active = 0  # users inside an iteration
        self.lag = 0.0  # worst lateness since last read (seconds)
        self.stopped = False
        self._idle: list[asyncio.Future[Arrival]] = []  # parked users, the last one warmest
        self._quiet: asyncio.Future[None] | None = None  # `drain` waiting for active == 0
        self.on_boundary: Callable[[float], float] | None = None
        """Called before starting an arrival due at or after the next second boundary, with its
        due time; closes the seconds that end by then and returns the next boundary (the
        worker's per-second reports), so an arrival never runs in the second before its due
        time. Called with -inf first, for the first boundary."""

    def flow_of(self, i: int) -> str:
        """The flow of this worker's arrival `i`, as `run` picks it (inlined there)."""
        return self.only if self.only is not None else self.pick(self.index(i))

    def take_lag(self) -> float:
        lag, self.lag = self.lag, 0.0
        return lag

    async def _user(self, first: Arrival | None) -> None:
        """One virtual user: run the arrival it was created for (None: created before the
        schedule starts), then park until the next."""
        loop = asyncio.get_running_loop()
        idle = self._idle
        run = self.run_iteration
        if first is None:
            parked: asyncio.Future[Arrival] = loop.create_future()
            idle.append(parked)
            first = await parked
        flow, due = first
        while True:
            try:
                await run(flow, due)
            except Exception:
                # The runner records failures and never raises; should it, this user is gone
                # and another may take its place (the task keeps the exception for `cancel`).
                self.users.remove(asyncio.current_task())  # type: ignore[arg-type]
                raise
            finally:
                self.active -= 1
                if not self.active and self._quiet is not None and not self._quiet.done():
                    self._quiet.set_result(None)
            waiter: asyncio.Future[Arrival] = loop.create_future()
            idle.append(waiter)
            flow, due = await waiter

    async def _park_users(self) -> None:
        """Create the users before the first arrival is due (up to `PARKED_AT_START`)."""
        spawn = asyncio.get_running_loop().create_task
        for _ in range(min(self.max_active, PARKED_AT_START)):
            self.users.append(spawn(self._user(None)))
        await asyncio.sleep(0)  # each runs to its future and parks there

    async def run(self) -> None:
        flow_slots: dict[str, Slot] = {}
        pick = self.pick
        index = self.index
        only = self.only
        idle = self._idle
        users = self.users
        spawn = asyncio.get_running_loop().create_task
        user = self._user
        max_active = self.max_active
        start = self.start
        lag = 0.0
        burst = 0
        on_boundary = self.on_boundary
        boundary = math.inf if on_boundary is None else on_boundary(-math.inf)
        await self._park_users()
        for i, offset in enumerate(self.arrivals):
            if self.stopped:
                return
            due = start + offset
            t = now()
            wait = due - t
            if wait > SLEEP_MIN:
                burst = 0
                lag = self._keep_lag(lag)
                await asyncio.sleep(wait)
                if self.stopped:
                    return
                t = now()
            else:
                burst += 1
                if burst >= YIELD_EVERY:
                    # Behind schedule: let the iterations in flight progress (and free their
                    # virtual users) instead of dropping every arrival of the backlog.
                    burst = 0
                    lag = self._keep_lag(lag)
                    await asyncio.sleep(0)
                    if self.stopped:
                        return
                    t = now()
            if due >= boundary and on_boundary is not None:
                lag = self._keep_lag(lag)  # the lag so far belongs to the second closing
                boundary = on_boundary(due)
            flow = only if only is not None else pick(index(i))
            lateness = t - due
            # Started early (due within SLEEP_MIN, or a timer that fired before its time): timed
            # from now, not from the later due time, which would shorten its latency.
            if idle:
                idle.pop().set_result((flow, due if due <= t else t))
            elif len(users) < max_active:
                users.append(spawn(user((flow, due if due <= t else t))))
            else:
                self._slot(flow_slots, flow).dropped()
                continue
            self.active += 1
            lag = max(lag, lateness)
            if lateness > LATE_AFTER:
                self._slot(flow_slots, flow).late()
        self._keep_lag(lag)

    def _keep_lag(self, lag: float) -> float:
        """Fold the lag `run` tracks locally into the worst since the last `take_lag`; 0.0."""
        self.lag = max(self.lag, lag)
        return 0.0

    def _slot(self, slots: dict[str, Slot], flow: str) -> Slot:
        slot = slots.get(flow)
        if slot is None:
            slot = slots[flow] = self.recorder.slot(flow)
        return slot

    async def drain(self) -> None:
        """Until no iteration is in flight (the schedule is over; users stay parked)."""
        while self.active:
            self._quiet = asyncio.get_running_loop().create_future()
            await self._quiet

    async def cancel(self) -> None:
        """End every user: those in an iteration are cancelled mid-way, parked ones at once."""
        self.stopped = True
        for task in self.users:
            task.cancel()
        for task in self.users:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
