"""The open loop's virtual users exist before its first arrival (issue 16: worst lag < 5 ms).

Every arrival here is already due (the schedule started a second ago), so the loop never sleeps
on a timer: what it does is decided by the arrivals alone, not by the clock.
"""

from __future__ import annotations

import asyncio

import pytest

from contval.engine import open_loop
from contval.engine.open_loop import PARKED_AT_START, OpenLoop
from contval.http import now
from contval.metrics import Recorder


def _loop(offsets: list[float], max_active: int, ran: list[float]) -> OpenLoop:
    async def run(flow: str, due: float) -> bool:
        ran.append(due)
        return True

    return OpenLoop(
        offsets, lambda i: "f", lambda i: i, now() - 1.0, max_active, Recorder(), run, only="f"
    )


def test_users_are_parked_before_the_first_arrival() -> None:
    async def main() -> tuple[int, int, int]:
        loop = _loop([], 200, [])
        await loop.run()  # no arrival at all: only the users it made ready
        parked = (len(loop.users), len(loop._idle), loop.active)
        await loop.cancel()
        assert all(task.done() for task in loop.users)
        return parked

    assert asyncio.run(main()) == (200, 200, 0)


def test_arrivals_go_to_parked_users_and_none_is_created_for_them() -> None:
    ran: list[float] = []

    async def main() -> tuple[int, int]:
        loop = _loop([0.0, 0.001, 0.002], 5, ran)
        await loop.run()
        await loop.drain()
        counts = (len(loop.users), len(loop._idle))
        await loop.cancel()
        return counts

    assert asyncio.run(main()) == (5, 5)
    assert len(ran) == 3


def test_more_users_than_parked_at_start_are_made_on_demand(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(open_loop, "PARKED_AT_START", 2)
    ran: list[float] = []
    gate: list[asyncio.Future[None]] = []
    recorder = Recorder()

    async def main() -> tuple[int, int, int]:
        async def held(flow: str, due: float) -> bool:
            ran.append(due)
            waiter = asyncio.get_running_loop().create_future()
            gate.append(waiter)
            await waiter  # every iteration stays in flight: each arrival needs its own user
            return True

        loop = OpenLoop(
            [0.0] * 6, lambda i: "f", lambda i: i, now() - 1.0, 4, recorder, held, only="f"
        )
        await loop.run()
        await asyncio.sleep(0)  # the users made on demand start their iteration
        counts = (len(loop.users), loop.active, len(ran))
        for waiter in gate:
            waiter.set_result(None)
        await loop.drain()
        await loop.cancel()
        return counts

    # 2 parked, 2 more on demand (max_active 4), the last 2 arrivals dropped
    assert asyncio.run(main()) == (4, 4, 4)
    assert recorder.slot("f").dropped_iterations == 2


def test_parked_at_start_never_exceeds_max_active() -> None:
    async def main() -> int:
        loop = _loop([], 3, [])
        await loop.run()
        count = len(loop.users)
        await loop.cancel()
        return count

    assert asyncio.run(main()) == 3
    assert PARKED_AT_START >= 3


def test_an_arrival_started_before_it_is_due_is_timed_from_its_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Arrivals due within SLEEP_MIN start at once (here: all of them, due 5 s from now): their
    requests must be timed from when they started, never from the later due time, which would
    take up to SLEEP_MIN (or a timer's early firing) off every latency."""
    monkeypatch.setattr(open_loop, "SLEEP_MIN", 10.0)
    handed: list[tuple[float, float]] = []  # (the time the iteration is timed from, now)

    async def run(flow: str, due: float) -> bool:
        handed.append((due, now()))
        return True

    async def main() -> float:
        start = now() + 5.0
        loop = OpenLoop([0.0, 0.5], lambda i: "f", lambda i: i, start, 4, Recorder(), run, only="f")
        before = now()
        await loop.run()
        await loop.drain()
        await loop.cancel()
        return before

    before = asyncio.run(main())
    assert len(handed) == 2
    for begin, at_run in handed:
        assert before <= begin <= at_run  # the start, not the due time 5 s later


def test_a_late_arrival_is_still_timed_from_its_due_time() -> None:
    handed: list[float] = []

    async def run(flow: str, due: float) -> bool:
        handed.append(due)
        return True

    async def main() -> float:
        start = now() - 1.0  # every arrival is a second late: coordinated omission counts it
        loop = OpenLoop(
            [0.0, 0.25], lambda i: "f", lambda i: i, start, 4, Recorder(), run, only="f"
        )
        await loop.run()
        await loop.drain()
        await loop.cancel()
        return start

    start = asyncio.run(main())
    assert handed == [start, start + 0.25]


def test_an_arrival_due_at_a_second_boundary_starts_after_that_second_is_closed() -> None:
    # Timers due at the same instant fire in no set order: the worker's ticker could close a
    # second after an arrival due at its end had already run (and been counted in it). The loop
    # closes the seconds an arrival's due time has reached before it starts it, and no other.
    closes: list[tuple[int, float]] = []  # (second closed, due offset of the arrival closing it)
    ran: list[tuple[float, int]] = []  # (due offset, seconds closed when its iteration ran)
    start = now() - 3.0  # every arrival is already due: no timer decides the order

    def on_boundary(due: float) -> float:
        while due >= start + len(closes) + 1:
            closes.append((len(closes), round(due - start, 3)))
        return start + len(closes) + 1

    async def run(flow: str, due: float) -> bool:
        ran.append((round(due - start, 3), len(closes)))
        return True

    async def main() -> None:
        offsets = [0.5, 0.999, 1.0, 1.5, 2.0, 2.5]
        loop = OpenLoop(offsets, lambda i: "f", lambda i: i, start, 10, Recorder(), run)
        loop.on_boundary = on_boundary
        await loop.run()
        await loop.drain()
        await loop.cancel()

    asyncio.run(main())
    assert closes == [(0, 1.0), (1, 2.0)]  # each by the first arrival due at its end
    assert len(ran) == 6
    for offset, closed in ran:
        assert closed >= int(offset)  # due in second s: seconds 0..s-1 were closed first
