"""What a worker process and the controller say to each other over their pipe (plain tuples
of builtins, so they pickle cheaply): the controller starts and stops; workers report seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from contval.flows.feeders import Table, read_table
from contval.spec import Suite

READY = "ready"  # worker → controller: compiled, connected, waiting for the start time
START = "start"  # controller → worker: (START, start_at monotonic seconds)
SECOND = "second"  # worker → controller: (SECOND, snapshot dict, WorkerStats dict)
DONE = "done"  # worker → controller: (DONE, summary dict) after its last SECOND
FAILED = "failed"  # worker → controller: (FAILED, message) — setup failed
STOP = "stop"  # controller → worker: (STOP, reason) stop now: abort threshold or interrupt


@dataclass(frozen=True, slots=True)
class WorkerStats:
    """Per-second figures that are not per-flow metrics: the generator's own health."""

    active: int = 0  # iterations in flight at the end of the second
    lag_ms: float = 0.0  # worst start delay behind schedule in the second (open model)
    rss_mb: float = 0.0  # the worker's resident memory: flat over a long run, or a leak
    cpu: float = 0.0  # share of one core the worker process used in the second (1.0: a full core)

    def to_dict(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "lag_ms": self.lag_ms,
            "rss_mb": self.rss_mb,
            "cpu": self.cpu,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerStats:
        return cls(
            int(data["active"]),
            float(data["lag_ms"]),
            float(data.get("rss_mb", 0.0)),
            float(data.get("cpu", 0.0)),
        )


def rss_mb() -> float:
    """This process's resident set size in MB (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return round(pages * PAGE_SIZE / 1_000_000, 1)


PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True, slots=True)
class WorkerJob:
    """Everything a worker needs to start, shipped whole: the loaded, validated suite (`--target`
    overrides applied) and the contents of its data files. A worker never reads the suite's
    files, so it needs no file system in common with the controller (a remote node has none)."""

    suite: Suite
    scenario: str
    overrides: tuple[tuple[str, str], ...]
    worker: int
    workers: int
    tables: tuple[tuple[str, Table], ...] = ()
    seed: int | None = None
    grace: float = 30.0
    debug_http: int = 0
    """`--debug-http N`: this worker prints its first N request/response pairs (worker 0)."""
    part: str | None = None
    """Which of the scenario's workloads this worker runs (`Scenario.parts`): None, its own;
    else the name of one run `alongside` it, on workers of its own."""


def load_tables(suite: Suite) -> tuple[tuple[str, Table], ...]:
    """Every feeder file's rows, read once by the controller for every worker."""
    return tuple((name, read_table(spec)) for name, spec in suite.data.items())


def jobs_for(
    suite: Suite,
    scenario: str,
    workers: int,
    overrides: tuple[tuple[str, str], ...] = (),
    seed: int | None = None,
    grace: float = 30.0,
    debug_http: int = 0,
    part: str | None = None,
) -> list[WorkerJob]:
    """One job per worker, all sharing one read of the data files."""
    tables = load_tables(suite)
    return [
        WorkerJob(
            suite,
            scenario,
            overrides,
            w,
            workers,
            tables,
            seed,
            grace,
            debug_http if w == 0 else 0,
            part,
        )
        for w in range(workers)
    ]
