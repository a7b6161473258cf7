"""Workloads side by side in one scenario: one controller per workload, driven together.

Each workload of a scenario (its own and those `alongside` it) runs on controllers of its own
(its own workers, its own per-second series), so every workload is measured and judged alone;
`SideBySide` drives them at once and presents them as one `Controller`: the scenario's series is
the per-second merge of theirs, a stop stops them all, and an abort of any stops every one.

Each workload's schedule starts at its `start_time` after the common start (the worker offsets
it), so the seconds of every workload line up with the scenario's: second s of each is merged
into second s of the whole. A second of the whole is complete when every workload has reported
it or has finished.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from contval.engine.controller import Controller
from contval.engine.local import TICK, OnSecond, OnTick, RunOutcome, SecondStats
from contval.metrics import Series, Snapshot, merge

_DONE = -1  # a workload's run returned: no more seconds from it


@dataclass
class Part:
    """One workload of the scenario and the controller that runs it."""

    name: str
    controller: Controller
    last: int = -1  # the last second it reported
    done: bool = False
    error: BaseException | None = None
    pending: dict[int, tuple[Snapshot, SecondStats]] = field(default_factory=dict)


class SideBySide:
    """A `Controller` over several, one per workload (see the module docstring)."""

    def __init__(self, parts: Sequence[tuple[str, Controller]]) -> None:
        if not parts:
            raise ValueError("side by side needs at least one workload")
        self.parts = [Part(name, controller) for name, controller in parts]
        self.outcome = RunOutcome(Series())
        self.lock = threading.Lock()
        self._inbox: queue.Queue[tuple[int, int, Snapshot | None, SecondStats | None]] = (
            queue.Queue()
        )
        self._stop_reason: str | None = None
        self._next = 0

    def start(self) -> None:
        for part in self.parts:
            part.controller.start()

    @property
    def start_time(self) -> float:
        started = [p.controller.start_time for p in self.parts if p.controller.start_time]
        return min(started) if started else 0.0

    def part_outcomes(self) -> dict[str, RunOutcome]:
        """Each workload's own outcome (its own series), by name."""
        return {p.name: p.controller.outcome for p in self.parts}

    def run(self, on_second: OnSecond, on_tick: OnTick | None = None) -> RunOutcome:
        threads = [
            threading.Thread(target=self._drive, args=(i,), name=f"side-by-side-{p.name}")
            for i, p in enumerate(self.parts)
        ]
        for thread in threads:
            thread.start()
        try:
            while not all(p.done for p in self.parts):
                try:
                    index, second, snapshot, stats = self._inbox.get(timeout=TICK)
                except queue.Empty:
                    index = None
                if index is not None:
                    self._take(index, second, snapshot, stats)
                if on_tick is not None and len(self.parts) == sum(
                    1 for p in self.parts if p.controller.start_time
                ):
                    on_tick(time.monotonic() - self.start_time)
                self._release(on_second)
            self._release(on_second, final=True)
        finally:
            for thread in threads:
                thread.join()
        self._summarise()
        failed = next((p for p in self.parts if p.error is not None), None)
        if failed is not None and failed.error is not None:
            raise failed.error
        return self.outcome

    def _drive(self, index: int) -> None:
        """One workload's controller, on its own thread; its seconds go to the inbox."""
        part = self.parts[index]

        def on_second(series: Series, snapshot: Snapshot, stats: SecondStats) -> str | None:
            self._inbox.put((index, snapshot.second, snapshot, stats))
            return None  # aborts are judged on the whole, in `run`, and sent with `stop`

        try:
            outcome = part.controller.run(on_second)
            if outcome.stop_reason and self._stop_reason is None:
                # it stopped itself (a worker lost, its generator saturated): so do the others
                self.stop(f"workload {part.name}: {outcome.stop_reason}")
        except BaseException as exc:  # re-raised on the caller's thread, after the others end
            part.error = exc
            self.stop(f"workload {part.name} failed: {exc}")
        finally:
            self._inbox.put((index, _DONE, None, None))

    def _take(
        self, index: int, second: int, snapshot: Snapshot | None, stats: SecondStats | None
    ) -> None:
        part = self.parts[index]
        if second == _DONE:
            part.done = True
        elif snapshot is not None and stats is not None:
            part.pending[second] = (snapshot, stats)
            part.last = max(part.last, second)

    def _release(self, on_second: OnSecond, final: bool = False) -> None:
        """Merge and hand on every second all running workloads have reported, in order."""
        live = [p.last for p in self.parts if not p.done]
        reported = max((max(p.pending, default=-1) for p in self.parts), default=-1)
        complete = reported if final or not live else min(live)
        while self._next <= complete:
            second = self._next
            self._next += 1
            got = [p.pending.pop(second) for p in self.parts if second in p.pending]
            stats = SecondStats(second)
            for _, part_stats in got:
                stats.absorb(part_stats)
            merged = merge(s for s, _ in got) or [Snapshot(second)]
            with self.lock:
                self.outcome.series.add(merged[0])
                self.outcome.stats.append(stats)
                reason = on_second(self.outcome.series, merged[0], stats)
            if reason:
                self.stop(reason)

    def _summarise(self) -> None:
        """The whole run's outcome from its workloads' (the series is already merged)."""
        outcomes = [p.controller.outcome for p in self.parts]
        out = self.outcome
        out.stop_reason = self._stop_reason or next(
            (o.stop_reason for o in outcomes if o.stop_reason), None
        )
        stopped = [o.stopped_at for o in outcomes if o.stopped_at is not None]
        out.stopped_at = min(stopped) if stopped else None
        out.saturated = next((o.saturated for o in outcomes if o.saturated), None)
        out.interrupted_iterations = sum(o.interrupted_iterations for o in outcomes)
        out.failures = [f"{p.name}: {f}" for p in self.parts for f in p.controller.outcome.failures]
        out.lost = [f"{p.name}: {lost}" for p in self.parts for lost in p.controller.outcome.lost]
        started = [o.started_at for o in outcomes if o.started_at]
        out.started_at = min(started) if started else 0.0
        out.elapsed = max((o.elapsed for o in outcomes), default=0.0)

    def stop(self, reason: str) -> None:
        if self._stop_reason is None:
            self._stop_reason = reason
        for part in self.parts:
            part.controller.stop(reason)

    def close(self) -> None:
        for part in self.parts:
            part.controller.close()
