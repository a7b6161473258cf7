"""The open-model driver: iterations start when the schedule says, whatever the system does.

Each iteration is handed the time it was *due*, so the flow runner times requests from the
schedule and a stalled server shows up in the latencies instead of silently slowing the load
(coordinated omission). An arrival that finds every virtual user busy is dropped and counted;
one that starts more than LATE_AFTER behind schedule is counted as late, and the worst delay
per second is reported as the generator's own lag.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from contval.http import now
from contval.metrics import Recorder, Slot

LATE_AFTER = 0.010  # seconds behind schedule before a start counts as late
SLEEP_MIN = 0.0005  # arrivals closer than this are started without yielding to a timer
YIELD_EVERY = 32  # arrivals started back to back before yielding once to the event loop


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
        launch: Callable[[str, float], asyncio.Task[bool]],
    ) -> None:
        self.arrivals = arrivals
        self.pick = pick  # global arrival index → flow
        self.index = index  # local arrival number → global arrival index
        self.start = start
        self.max_active = max_active
        self.recorder = recorder
        self.launch = launch
        self.active: set[asyncio.Task[bool]] = set()
        self.lag = 0.0  # worst lateness since last read (seconds)
        self.stopped = False

    def take_lag(self) -> float:
        lag, self.lag = self.lag, 0.0
        return lag

    async def run(self) -> None:
        flow_slots: dict[str, Slot] = {}
        pick = self.pick
        index = self.index
        launch = self.launch
        active = self.active
        add = active.add
        discard = active.discard
        max_active = self.max_active
        start = self.start
        burst = 0
        for i, offset in enumerate(self.arrivals):
            if self.stopped:
                return
            due = start + offset
            t = now()
            wait = due - t
            if wait > SLEEP_MIN:
                burst = 0
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
                    await asyncio.sleep(0)
                    if self.stopped:
                        return
                    t = now()
            flow = pick(index(i))
            slot = flow_slots.get(flow)
            if slot is None:
                slot = flow_slots[flow] = self.recorder.slot(flow)
            if len(active) >= max_active:
                slot.dropped()
                continue
            lateness = t - due
            if lateness > LATE_AFTER:
                slot.late()
            self.lag = max(self.lag, lateness)
            task = launch(flow, due)
            add(task)
            task.add_done_callback(discard)
