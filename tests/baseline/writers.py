"""Child-process writers for the store's concurrency and crash tests (importable by spawn)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import overload

from contval.baseline.records import RunMeta, WindowRecord
from contval.baseline.store import HistoryStore
from contval.metrics import Histogram

LATENCY = Histogram.of_values([1000 + 17 * i for i in range(500)]).encode()


def meta(**changes: object) -> RunMeta:
    fields: dict[str, object] = {
        "suite": "shop",
        "scenario": "normal",
        "fingerprint": "f" * 16,
        "started_at": "2026-11-26T15:30:00.000+00:00",
    }
    fields.update(changes)
    return RunMeta(**fields)  # type: ignore[arg-type]


def window(i: int, flow: str = "browse") -> WindowRecord:
    return WindowRecord(flow, f"step {i % 7}", 10 * i, 10 * i + 10, 100, i % 3, 50, LATENCY)


def write_many(path: Path, tag: str, count: int, start: Event) -> None:
    """Record `count` runs of 20 windows each, as fast as possible, once `start` is set."""
    store = HistoryStore(path, busy_timeout_ms=1)
    start.wait(30)
    for i in range(count):
        store.record_run(meta(label=f"{tag}-{i}"), [window(j) for j in range(20)])
    store.close()


class Stalling(Sequence[WindowRecord]):
    """Windows that hang the writer at item `stall` (inside its transaction) until killed."""

    def __init__(self, total: int, stall: int, reached: Event) -> None:
        self.total, self.stall, self.reached = total, stall, reached

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> WindowRecord: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[WindowRecord]: ...
    def __getitem__(self, index: int | slice) -> WindowRecord | Sequence[WindowRecord]:
        if isinstance(index, slice):
            raise TypeError("no slices")
        if index >= self.total:
            raise IndexError(index)
        if index == self.stall:
            self.reached.set()
            time.sleep(3600)
        return window(index)


def write_then_stall(path: Path, done_first: Event, reached: Event) -> None:
    """Record one whole run, then stall half-way through a second, bigger one."""
    store = HistoryStore(path)
    store.record_run(meta(label="whole"), [window(j) for j in range(30)])
    done_first.set()
    store.record_run(meta(label="partial"), Stalling(40_000, 20_000, reached))
