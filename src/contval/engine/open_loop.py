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
        for i, offset in enumerate(self.arrivals):
            if self.stopped:
                return
            due = self.start + offset
            wait = due - now()
            if wait > SLEEP_MIN:
                await asyncio.sleep(wait)
                if self.stopped:
                    return
            flow = self.pick(self.index(i))
            slot = flow_slots.get(flow)
            if slot is None:
                slot = flow_slots[flow] = self.recorder.slot(flow)
            if len(self.active) >= self.max_active:
                slot.dropped()
                continue
            lateness = now() - due
            if lateness > LATE_AFTER:
                slot.late()
            self.lag = max(self.lag, lateness)
            task = self.launch(flow, due)
            self.active.add(task)
            task.add_done_callback(self.active.discard)
