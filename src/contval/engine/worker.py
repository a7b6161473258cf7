"""One worker process: compiles the suite, drives its share of the schedule on uvloop, and sends
the controller a snapshot of its metrics every second, through an outbox whose own thread writes
the pipe (`contval.engine.outbox`): the event loop never waits for the controller.

The controller owns signals: a worker ignores SIGINT (Ctrl-C reaches the whole process group)
and stops when told to, so an interrupted run still reports the seconds it measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

from contval.engine import messages as msg
from contval.engine.closed_loop import ClosedLoop
from contval.engine.iterations_loop import IterationLoop
from contval.engine.open_loop import OpenLoop
from contval.engine.outbox import Outbox
from contval.engine.schedules import ClosedSchedule, Mix, OpenSchedule, schedule_for
from contval.engine.warmup import (
    PRECONNECT_LEAD,
    connections_ahead,
    fds_needed,
    preconnect_before,
    reserve_fds,
    warm_snapshot,
)
from contval.flows import FlowRunner, compile_program
from contval.http import Client, ClientOptions, now
from contval.metrics import Recorder


def worker_main(job: msg.WorkerJob, conn: Connection) -> None:
    """Process entry point (spawned): never lets an exception escape without telling why."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker = None
    try:
        import uvloop

        worker = Worker(job, conn)
        uvloop.run(worker.main())
    except Exception:
        failed = (msg.FAILED, traceback.format_exc())
        outbox = worker.outbox if worker is not None else None
        if outbox is not None:  # after what it queued, by the thread that owns the pipe
            outbox.send(failed)
            outbox.close()
        else:
            with contextlib.suppress(OSError):
                conn.send(failed)
    finally:
        conn.close()


class Worker:
    def __init__(self, job: msg.WorkerJob, conn: Connection) -> None:
        self.job = job
        self.conn = conn
        self.recorder = Recorder()
        self.stop_reason: str | None = None
        self.outbox: Outbox | None = None  # from the start of the load
        self._stopped = asyncio.Event()

    async def main(self) -> None:
        job = self.job
        suite = job.suite
        scenario = suite.scenarios[job.scenario]
        parts = scenario.parts()
        _, name, offset = next((p for p in parts if p[0] == job.part), parts[0])
        workload = suite.workloads[name]
        schedule = schedule_for(workload)
        mix = Mix(dict(workload.mix))
        program = compile_program(
            suite,
            overrides=dict(job.overrides),
            worker=job.worker,
            workers=job.workers,
            seed=job.seed,
            tables=dict(job.tables),
        )
        if isinstance(schedule, OpenSchedule):
            cap = schedule.worker_max_vus(job.worker, job.workers)
        else:
            cap = max(1, schedule.max_vus())
        client = Client(ClientOptions(max_connections=max(1, cap)))
        runner = program.bind(client, self.recorder, debug_http=job.debug_http)
        origins = {name: flow.first_origin for name, flow in program.flows.items()}
        # one-off costs paid here, not on the schedule (contval.engine.warmup)
        reserve_fds(fds_needed(cap, len(suite.targets)))
        warm_snapshot()
        loop = asyncio.get_running_loop()
        loop.add_reader(self.conn.fileno(), self._on_message)
        gc.freeze()  # the suite and compiled program live all run: no collection walks them again
        self.conn.send((msg.READY,))
        start = await self._wait_start()
        self.outbox = Outbox(self.conn)
        try:
            if start is not None:
                await self._drive(schedule, mix, runner, start, offset, client, origins)
        finally:
            loop.remove_reader(self.conn.fileno())
            await client.close()
        self.outbox.close()  # every second and DONE written (the controller may be slow)

    def _on_message(self) -> None:
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            message = (msg.STOP, "controller gone")
        if message[0] == msg.START:
            self._start_at = float(message[1])
            self._started.set()
        elif message[0] == msg.STOP:
            self.stop_reason = str(message[1])
            self._stopped.set()
            self._started.set()

    async def _wait_start(self) -> float | None:
        self._started = asyncio.Event()
        self._start_at = 0.0
        await self._started.wait()
        return None if self._stopped.is_set() else self._start_at

    async def _drive(
        self,
        schedule: Any,
        mix: Mix,
        runner: FlowRunner,
        start: float,
        offset: float,
        client: Client,
        origins: dict[str, str | None],
    ) -> None:
        """Seconds count from the common `start`; the schedule from `start + offset` (a
        workload's `start_time`), so workloads side by side share their seconds. An open
        schedule's first connections are opened just before it begins (`preconnect_before`);
        `origins`: each flow's first origin."""
        job = self.job
        begin = start + offset
        outbox = self.outbox
        assert outbox is not None
        warming: asyncio.Task[int] | None = None
        if isinstance(schedule, OpenSchedule):
            arrivals = OpenLoop(
                schedule.arrivals(job.worker, job.workers),
                mix.pick,
                lambda i: job.worker + i * job.workers,
                begin,
                schedule.worker_max_vus(job.worker, job.workers),
                self.recorder,
                runner.run,
                only=mix.flows[0] if len(mix.flows) == 1 else None,
            )
            counts = connections_ahead(
                schedule.arrivals(job.worker, job.workers),
                lambda i: origins.get(arrivals.flow_of(i)),
                PRECONNECT_LEAD,
            )
            warming = asyncio.create_task(preconnect_before(client, counts, begin))
            driver: OpenLoop | ClosedLoop = arrivals
        elif isinstance(schedule, ClosedSchedule) and schedule.budget is not None:
            recorder = self.recorder
            driver = IterationLoop(
                schedule.budget,
                schedule.worker_max_vus(job.worker, job.workers),
                schedule.duration,
                mix.pick,
                job.worker,
                job.workers,
                begin,
                runner.run,
                lambda flow: recorder.slot(flow).dropped(),
            )
        else:
            assert isinstance(schedule, ClosedSchedule)
            driver = ClosedLoop(
                lambda t: schedule.worker_vus_at(t, job.worker, job.workers),
                schedule.duration,
                mix.pick,
                job.worker,
                job.workers,
                begin,
                runner.run,
            )
        seconds = _Seconds(start, self.recorder, outbox, driver)
        if isinstance(driver, OpenLoop):
            driver.on_boundary = seconds.before
        ticker = asyncio.create_task(self._tick(seconds))
        driving = asyncio.create_task(driver.run())
        stopped = asyncio.create_task(self._stopped.wait())
        await asyncio.wait({driving, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not self._stopped.is_set():  # schedule over: let iterations in flight finish
            drained = asyncio.create_task(_drain(driver))
            await asyncio.wait(
                {drained, stopped}, timeout=job.grace, return_when=asyncio.FIRST_COMPLETED
            )
            drained.cancel()
        driver.stopped = True
        driving.cancel()
        interrupted = driver.active  # iterations in flight, cut short now
        await asyncio.gather(driving, return_exceptions=True)
        await driver.cancel()
        if warming is not None:
            warming.cancel()
            await asyncio.gather(warming, return_exceptions=True)
        stopped.cancel()
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        # What the ticker has not taken yet belongs to the second it was waiting to close, not
        # to the clock's: a drain that ends just past a boundary, before the ticker woke for it,
        # once put a whole second of this worker one second late ([1000, 1000, 500] at 1000/s
        # on two workers).
        outbox.second(self.recorder.snapshot(seconds.open), msg.WorkerStats(0, 0.0))
        outbox.send(
            (msg.DONE, {"interrupted_iterations": interrupted, "stop_reason": self.stop_reason})
        )

    async def _tick(self, seconds: _Seconds) -> None:
        """Close each second at its boundary (unless an arrival due there closed it first)."""
        while True:
            wait = seconds.boundary - now()
            if wait > 0:
                await asyncio.sleep(wait)
            if seconds.boundary - now() <= _TIMER_SLACK:  # not closed meanwhile by an arrival
                seconds.close()


_TIMER_SLACK = 0.001
"""The event loop's timers have millisecond granularity and may fire up to 1 ms early."""


class _Seconds:
    """The worker's per-second reports: each second's snapshot, queued with the generator's own
    figures for that second (in flight, lag, memory, CPU).

    A second is closed by the ticker at its boundary, or, first, by an open-model arrival due at
    or after the boundary (`OpenLoop.on_boundary`): timers due at the same instant fire in no set
    order, and an arrival that ran before the ticker had its requests counted in the second
    before its due time (a side workload's first request, due at its `start_time`, answered
    within 0.5 ms on a connection opened ahead, landed in the scenario's second 0, outside the
    workload's own seconds).
    """

    def __init__(
        self, start: float, recorder: Recorder, outbox: Outbox, driver: OpenLoop | ClosedLoop
    ) -> None:
        self.start = start
        self.open = 0
        """The second the next close snapshots: what is recorded from now on belongs there."""
        self._recorder = recorder
        self._outbox = outbox
        self._driver = driver
        self._cpu_at, self._wall_at = time.process_time(), now()

    @property
    def boundary(self) -> float:
        """When the open second ends (a `now()` time)."""
        return self.start + self.open + 1

    def close(self) -> None:
        driver = self._driver
        lag = driver.take_lag() if isinstance(driver, OpenLoop) else 0.0
        cpu, wall = time.process_time(), now()
        elapsed = wall - self._wall_at
        busy = round((cpu - self._cpu_at) / elapsed, 3) if elapsed > 0 else 0.0
        self._cpu_at, self._wall_at = cpu, wall
        stats = msg.WorkerStats(driver.active, round(lag * 1000, 3), msg.rss_mb(), busy)
        self._outbox.second(self._recorder.snapshot(self.open), stats)
        self.open += 1

    def before(self, due: float) -> float:
        """Close every second that ends at or before `due`; returns the next boundary."""
        while due >= self.boundary:
            self.close()
        return self.boundary


async def _drain(driver: OpenLoop | ClosedLoop) -> None:
    """Until every iteration in flight has finished (closed model: every user has stopped)."""
    if isinstance(driver, OpenLoop):
        await driver.drain()
        return
    users = {u for u in driver.users if not u.done()}
    if users:
        await asyncio.wait(users)
