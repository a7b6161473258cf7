"""A worker's messages to its controller, written by a thread of their own.

The event loop that drives the load never writes to the controller's pipe: it hands each
message to the outbox (a deque append under a lock, never a wait) and a sender thread pickles
and writes it. A controller that stalls (paused, swapped out, busy with a slow second) blocks
only that thread; the load keeps its schedule.

Snapshots are per-second deltas, not cumulative: each holds what was recorded in its second
only, so two of them merge exactly (counters and histogram counts add). While the controller
is not reading, seconds queue up; beyond `MAX_BACKLOG` of them the oldest is folded into the
next one (`fold`), so a worker's memory stays bounded however long the controller is gone.
A folded second's data is reported in the later second: every request is still counted in
the run's totals and percentiles, only the per-second series of that worker loses resolution
for the seconds folded.
"""

from __future__ import annotations

import threading
from collections import deque
from multiprocessing.connection import Connection
from typing import Any

from contval.engine import messages as msg
from contval.metrics import Snapshot, merge

MAX_BACKLOG = 60
"""Seconds a worker keeps while its controller is not reading, before folding the oldest."""

Second = tuple[Snapshot, msg.WorkerStats]


def fold(older: Second, newer: Second) -> Second:
    """One second's report holding both: `older`'s data counted in `newer`'s second."""
    (old, old_stats), (new, new_stats) = older, newer
    merged = merge([Snapshot(new.second, old.slots), new])
    stats = msg.WorkerStats(
        new_stats.active,
        max(old_stats.lag_ms, new_stats.lag_ms),
        max(old_stats.rss_mb, new_stats.rss_mb),
        max(old_stats.cpu, new_stats.cpu),
    )
    return merged[0], stats


class Outbox:
    """Messages from one worker to its controller, in order, written by a sender thread."""

    def __init__(self, conn: Connection, max_backlog: int = MAX_BACKLOG) -> None:
        self._conn = conn
        self._max = max(1, max_backlog)
        self._lock = threading.Condition()
        self._queue: deque[tuple[str, Any]] = deque()  # ("second", Second) or ("raw", message)
        self._seconds = 0  # seconds in the queue
        self._closing = False
        self.folded = 0
        """Seconds folded into a later one because the controller was not reading."""
        self.broken = False
        """The pipe is gone (controller dead): further messages are dropped."""
        self._thread = threading.Thread(target=self._run, name="contval-outbox", daemon=True)
        self._thread.start()

    def second(self, snapshot: Snapshot, stats: msg.WorkerStats) -> None:
        """Queue one second's report; never waits for the controller."""
        with self._lock:
            self._queue.append(("second", (snapshot, stats)))
            self._seconds += 1
            if self._seconds > self._max:
                self._fold_oldest()
            self._lock.notify()

    def send(self, message: tuple[Any, ...]) -> None:
        """Queue any other message (DONE, FAILED), after every second queued before it."""
        with self._lock:
            self._queue.append(("raw", message))
            self._lock.notify()

    def close(self, timeout: float | None = None) -> bool:
        """Write what is queued, then stop the thread; False if it did not finish in time."""
        with self._lock:
            self._closing = True
            self._lock.notify()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _fold_oldest(self) -> None:
        """Merge the oldest queued second into the next queued second (lock held)."""
        items = list(self._queue)
        seconds = [i for i, (kind, _) in enumerate(items) if kind == "second"]
        first, second = seconds[0], seconds[1]
        items[second] = ("second", fold(items[first][1], items[second][1]))
        del items[first]
        self._queue = deque(items)
        self._seconds -= 1
        self.folded += 1

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._lock.wait()
                if not self._queue:
                    return
                kind, item = self._queue.popleft()
                if kind == "second":
                    self._seconds -= 1
            if self.broken:
                continue
            if kind == "second":
                snapshot, stats = item
                message: tuple[Any, ...] = (msg.SECOND, snapshot.to_dict(), stats.to_dict())
            else:
                message = item
            try:
                self._conn.send(message)
            except (OSError, ValueError):  # the controller is gone, or the pipe closed
                self.broken = True
