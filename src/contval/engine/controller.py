"""What the pipeline needs of a load controller, whichever engine runs the workers.

`LocalController` (processes on this host) implements it; a cluster controller (Ray actors on
many hosts) is to implement the same, so nothing above the engine knows which one runs. The
engine-neutral types (`RunOutcome`, `SecondStats`, the callbacks) live in `engine.local` today
and are re-exported here for code written against the interface.
"""

from __future__ import annotations

import threading
from typing import Protocol

from contval.engine.local import OnSecond, OnTick, RunOutcome, SecondStats, WorkerFailed

__all__ = ["Controller", "OnSecond", "OnTick", "RunOutcome", "SecondStats", "WorkerFailed"]


class Controller(Protocol):
    """Starts workers, drives one scenario's load and merges their per-second snapshots."""

    outcome: RunOutcome
    lock: threading.Lock  # held while `outcome.series` changes (readers in other threads)

    def start(self) -> None:
        """Start every worker and wait until each is ready (`WorkerFailed` when one is not)."""

    @property
    def start_time(self) -> float:
        """The common start of the load on the controller's monotonic clock."""

    def run(self, on_second: OnSecond, on_tick: OnTick | None = None) -> RunOutcome:
        """Drive the load until every worker is done; merged seconds go to `on_second`."""

    def stop(self, reason: str) -> None:
        """Tell every worker to stop now (abort threshold, interrupt, failure)."""

    def close(self) -> None:
        """Release every worker; safe after a failed start."""
