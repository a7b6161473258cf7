"""The local controller: runs a scenario on N worker processes on this machine and merges
their per-second snapshots into one series as the run goes.

A second is complete when every live worker has reported it; only complete seconds reach the
caller's `on_second`, so abort checks and the progress line never see a partial second.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from contval.engine import messages as msg
from contval.engine.warmup import warm_collection
from contval.engine.worker import worker_main
from contval.metrics import Series, Snapshot, merge

START_DELAY = 0.3  # seconds between "all ready" and the common start, so all start together
READY_TIMEOUT = 60.0
SATURATION_LAG_MS = 500.0
"""The generator is saturated when, in any second, an arrival that found a free virtual user
started more than this late (open model): its own CPU, not the system, delayed the load, and
every latency it timed from the schedule includes that delay. Dropped arrivals (no free user)
are the system's doing and never count here. Half a second is far above the lag of a healthy
generator (well under 10 ms) and of a machine's hiccups, yet a fraction of any run's length."""


class WorkerFailed(Exception):
    """A worker could not start or died; the message carries its own explanation."""


@dataclass
class SecondStats:
    """The generator's figures for one merged second."""

    second: int
    active: int = 0
    lag_ms: float = 0.0
    rss_mb: float = 0.0  # the largest worker's
    cpu: float = 0.0  # the busiest worker's share of a core

    def absorb(self, other: SecondStats | msg.WorkerStats) -> None:
        """Fold another worker's (or workload's) figures for the same second into these."""
        self.active += other.active
        self.lag_ms = max(self.lag_ms, other.lag_ms)
        self.rss_mb = max(self.rss_mb, other.rss_mb)
        self.cpu = max(self.cpu, other.cpu)


@dataclass(frozen=True, slots=True)
class Saturation:
    """The generator fell behind its schedule with virtual users free: the measurement failed,
    not the system (exit 3). The first second it was seen, and how late starts were then."""

    second: int
    lag_ms: float
    bound_ms: float = SATURATION_LAG_MS

    def reason(self) -> str:
        return (
            f"generator saturated: arrivals started {self.lag_ms:.0f} ms behind schedule in "
            f"second {self.second} with virtual users free (bound {self.bound_ms:.0f} ms); "
            "give the load generator more CPU or workers, or lower the rate"
        )


@dataclass
class RunOutcome:
    series: Series
    stats: list[SecondStats] = field(default_factory=list)
    stop_reason: str | None = None  # why the run stopped early (abort, interrupt), or None
    stopped_at: float | None = None  # seconds after the common start when a stop was sent
    saturated: Saturation | None = None  # the generator fell behind: the measurement failed
    interrupted_iterations: int = 0
    failures: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    """Workers lost mid-run that the run went on without (`on_worker_loss: continue`): what
    was measured is judged, and the scenario is marked incomplete (stop `worker_lost`)."""
    started_at: float = 0.0  # wall clock
    elapsed: float = 0.0


def load_seconds(duration: float, outcome: RunOutcome) -> int:
    """The whole seconds of the load window: the schedule's, or up to the second in which the
    run was stopped (abort, interrupt, saturation). Seconds after it only drain iterations in
    flight (`Series.fold_after`); every rate of the run is per second of this window."""
    end = math.ceil(duration)
    if outcome.stopped_at is not None:
        end = min(end, math.floor(outcome.stopped_at) + 1)
    return max(1, end)


OnSecond = Callable[[Series, Snapshot, SecondStats], str | None]
OnTick = Callable[[float], None]
TICK = 0.05  # seconds: how late a timeline event may fire at most (plus the callback's time)
"""Called for each complete second; returning a reason stops the run (an abort threshold)."""


@dataclass
class _Peer:
    index: int
    conn: Connection
    process: Any
    last: int = -1  # last second reported
    done: bool = False


class LocalController:
    def __init__(self, jobs: list[msg.WorkerJob]) -> None:
        self.jobs = jobs
        self.peers: list[_Peer] = []
        self.pending: dict[int, list[tuple[Snapshot, msg.WorkerStats]]] = {}
        self.outcome = RunOutcome(Series())
        self._next_second = 0
        self._stop_sent = False
        self._start_at = 0.0
        self._on_tick: OnTick | None = None
        self.lock = threading.Lock()  # held while the series changes (readers in other threads)

    def start(self) -> None:
        """Spawn the workers and wait until each has compiled its program and is ready."""
        context = multiprocessing.get_context("spawn")
        for job in self.jobs:
            parent, child = context.Pipe(duplex=True)
            process = context.Process(target=worker_main, args=(job, child), daemon=True)
            process.start()
            child.close()
            self.peers.append(_Peer(job.worker, parent, process))
        warm_collection()  # while the workers compile: not in the load's first second
        deadline = time.monotonic() + READY_TIMEOUT
        waiting = {p.index for p in self.peers}
        while waiting:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerFailed(
                    f"workers {sorted(waiting)} were not ready in {READY_TIMEOUT:g}s"
                )
            for conn in wait([p.conn for p in self.peers if p.index in waiting], remaining):
                peer = next(p for p in self.peers if p.conn is conn)
                message = self._recv(peer)
                if message is None or message[0] == msg.FAILED:
                    raise WorkerFailed(message[1] if message else f"worker {peer.index} died")
                if message[0] == msg.READY:
                    waiting.discard(peer.index)

    @property
    def start_time(self) -> float:
        """The common start of the load (monotonic clock), once `run` has begun."""
        return self._start_at

    def run(self, on_second: OnSecond, on_tick: OnTick | None = None) -> RunOutcome:
        """Start the load and collect until every worker is done. `on_tick(offset)` is called
        at least every TICK seconds with the time since the common start (chaos timelines)."""
        start_at = time.monotonic() + START_DELAY
        self._start_at = start_at
        self._on_tick = on_tick
        self.outcome.started_at = time.time() + START_DELAY
        for peer in self.peers:
            peer.conn.send((msg.START, start_at))
        try:
            self._collect(on_second)
        except KeyboardInterrupt:
            self.stop("interrupted")
            self._collect(lambda series, snapshot, stats: None)
        self.outcome.elapsed = max(0.0, time.monotonic() - start_at)
        return self.outcome

    def stop(self, reason: str) -> None:
        if self._stop_sent:
            return
        self._stop_sent = True
        self.outcome.stop_reason = self.outcome.stop_reason or reason
        if self._start_at:
            self.outcome.stopped_at = max(0.0, time.monotonic() - self._start_at)
        for peer in self.peers:
            if not peer.done:
                with contextlib.suppress(OSError):
                    peer.conn.send((msg.STOP, reason))

    def _collect(self, on_second: OnSecond) -> None:
        while not all(p.done for p in self.peers):
            live = [p.conn for p in self.peers if not p.done]
            for conn in wait(live, timeout=TICK):
                peer = next(p for p in self.peers if p.conn is conn)
                self._handle(peer, self._recv(peer))
            if self._on_tick is not None:
                self._on_tick(time.monotonic() - self._start_at)
            self._release(on_second)
        self._release(on_second, final=True)

    def _recv(self, peer: _Peer) -> tuple[Any, ...] | None:
        try:
            message: tuple[Any, ...] = peer.conn.recv()
        except (EOFError, OSError):
            return None
        return message

    def _handle(self, peer: _Peer, message: tuple[Any, ...] | None) -> None:
        if message is None:
            peer.done = True
            if not self._stop_sent:
                self.outcome.failures.append(f"worker {peer.index} exited unexpectedly")
            return
        kind = message[0]
        if kind == msg.SECOND:
            snapshot = Snapshot.from_dict(message[1])
            stats = msg.WorkerStats.from_dict(message[2])
            self.pending.setdefault(snapshot.second, []).append((snapshot, stats))
            peer.last = max(peer.last, snapshot.second)
        elif kind == msg.DONE:
            peer.done = True
            self.outcome.interrupted_iterations += int(message[1]["interrupted_iterations"])
        elif kind == msg.FAILED:
            peer.done = True
            self.outcome.failures.append(f"worker {peer.index}: {message[1]}")

    def _release(self, on_second: OnSecond, final: bool = False) -> None:
        """Hand every complete second to the caller, in order."""
        live = [p.last for p in self.peers if not p.done]
        complete = max(self.pending, default=-1) if final or not live else min(live)
        while self._next_second <= complete:
            second = self._next_second
            self._next_second += 1
            parts = self.pending.pop(second, [])
            stats = SecondStats(second)
            for _, worker_stats in parts:
                stats.absorb(worker_stats)
            merged = merge(s for s, _ in parts) or [Snapshot(second)]
            with self.lock:
                self.outcome.series.add(merged[0])
                self.outcome.stats.append(stats)
                reason = on_second(self.outcome.series, merged[0], stats)
            if self.outcome.saturated is None and stats.lag_ms > SATURATION_LAG_MS:
                self.outcome.saturated = Saturation(second, stats.lag_ms)
                reason = reason or self.outcome.saturated.reason()
            if reason and not self._stop_sent:
                self.stop(reason)

    def close(self) -> None:
        for peer in self.peers:
            peer.process.join(timeout=5)
            if peer.process.is_alive():
                peer.process.kill()
                peer.process.join()
            peer.conn.close()
