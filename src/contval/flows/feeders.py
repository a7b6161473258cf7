"""Data feeders: CSV rows handed to iterations, one row per feeder per iteration.

Rows are read and partitioned at compile time (immutable, per worker); the cursor lives in the
runner. Worker `w` of `W` owns rows `w, w+W, ...`, so sequential and unique feeders never hand
the same row to two workers. A worker whose share is empty (more workers than rows) falls back
to all rows for `sequential` (repeats are then unavoidable) and is exhausted at once for `unique`.
`random` draws from all rows with the runner's seeded RNG.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from contval.spec import CsvFeeder
from contval.spec.feeders import open_feeder

Row = tuple[str, ...]
Order = Literal["sequential", "random", "unique"]


class FeederExhausted(Exception):
    """A `unique` feeder has handed out every row this worker owns."""

    def __init__(self, feeder: str) -> None:
        super().__init__(f"data feeder `{feeder}` has no unused rows left")
        self.feeder = feeder


@dataclass(frozen=True, slots=True)
class FeederData:
    """One feeder's columns and this worker's rows."""

    name: str
    order: Order
    columns: tuple[str, ...]
    rows: tuple[Row, ...]


Table = tuple[tuple[str, ...], tuple[Row, ...]]
"""A feeder file's header and every row: read once by the controller, shipped to each worker."""


def read_table(spec: CsvFeeder) -> Table:
    """Every row of the CSV; the header names the columns.

    Opened as validation opens it (a regular file, never blocking on a FIFO or a device), so a
    file swapped after validation is refused rather than read.
    """
    with open_feeder(Path(spec.csv)) as handle:
        reader = csv.reader(handle)
        header = tuple(column.strip() for column in next(reader, ()))
        width = len(header)
        rows = tuple(tuple((row + [""] * width)[:width]) for row in reader if row)
    return header, rows


def share_of(name: str, spec: CsvFeeder, table: Table, worker: int, workers: int) -> FeederData:
    """This worker's share of a feeder's rows (no file access: workers may be on other hosts)."""
    header, rows = table
    if spec.order == "random":
        share = rows
    else:
        share = rows[worker::workers] if workers > 1 else rows
        if not share and spec.order == "sequential":
            share = rows
    return FeederData(name, spec.order, header, tuple(share))


def read_feeder(name: str, spec: CsvFeeder, worker: int, workers: int) -> FeederData:
    """Read the CSV and keep this worker's share."""
    return share_of(name, spec, read_table(spec), worker, workers)


class Feeder:
    """The mutable cursor over one feeder's rows, owned by one runner (one event loop)."""

    __slots__ = ("_data", "_next", "_rng")

    def __init__(self, data: FeederData, rng: random.Random) -> None:
        self._data = data
        self._rng = rng
        self._next = 0

    def row(self) -> Row:
        """The next row by the feeder's order; `FeederExhausted` when `unique` runs out."""
        rows = self._data.rows
        order = self._data.order
        if order == "random":
            if not rows:
                raise FeederExhausted(self._data.name)
            return rows[self._rng.randrange(len(rows))]
        index = self._next
        if index >= len(rows):
            if order == "unique" or not rows:
                raise FeederExhausted(self._data.name)
            index = 0
        self._next = index + 1
        return rows[index]
