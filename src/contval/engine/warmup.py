"""What a worker (and its controller) does before the schedule starts, so the first seconds keep
time.

Measured on an open-model worker at 50,000 arrivals/s (bench/open_model.py, bench/lag_trace.py,
bench/README.md), these one-off costs used to land on the schedule and show as the run's worst
lag:

* **The file descriptor table grows.** Linux doubles a process's descriptor table when a new
  descriptor does not fit (past 64, 256, 512, ...), and a process with more than one thread
  (every worker: numpy's OpenBLAS thread from the first import, the outbox thread, a Ray
  actor's threads) then waits for an RCU grace period (`synchronize_rcu` in `expand_fdtable`):
  7-18 ms asleep in one `socket()` call while every arrival due meanwhile starts late. A worker
  opens its connections as virtual users first need them, so each doubling fell inside the
  run. `reserve_fds` grows the table once, before the load; the table never shrinks.
* **The first snapshot.** The first `Recorder.snapshot` of a process builds the histogram layout
  tables and runs the encoder cold: 1.5-6 ms on the event loop at the end of second 0 instead
  of 0.5-0.8. `warm_snapshot` pays that once on a throwaway recorder.
* **The controller's first second.** The controller builds the same layout tables the first time
  it reads a percentile: its second 0 took 2.1 ms of CPU against 0.75 ms for later seconds, on
  the worker's core when they share it (bench/open_model.py pins both to one). `warm_collection`
  pays that before the load, while the workers compile.
* **The first connections.** Each virtual user's first request found no open connection and
  opened one: at 50,000 arrivals/s the first arrivals opened 128 connections within 20 ms, each
  taking 5-6 ms to open on the busy loop, and second 0's worst lag was 6-13 ms while the other
  seconds' was 1.2-4.9 ms. `connections_ahead` counts the connections the arrivals of the first
  `PRECONNECT_LEAD` will need, per origin, and `preconnect` opens them just before the load
  (`PRECONNECT_AHEAD`), parked idle in the pool: nothing is sent on them, and they are idle no
  longer than a server's shortest keep-alive timeout (gunicorn's is 2 s).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import resource
from collections.abc import Callable, Iterable, Mapping

from contval.http import Client, now
from contval.metrics import Recorder
from contval.metrics.hdr import Histogram

SPARE_FDS = 64
"""Descriptors beyond the connections: the controller's pipe, the event loop's own, data files,
a proxy's tunnel, the TLS layer."""


def fds_needed(max_connections: int, targets: int) -> int:
    """Descriptors a worker may hold at once: a full pool per target, plus spares."""
    return max(1, max_connections) * max(1, targets) + SPARE_FDS


def reserve_fds(count: int) -> int:
    """Grow this process's descriptor table so descriptors below `count` fit without growing
    it again; returns the table size asked for (within the soft RLIMIT_NOFILE, 0 if none).

    `F_DUPFD` takes the lowest free descriptor at or above the one asked for, so no open
    descriptor is ever touched; the duplicate is closed at once, the grown table stays.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY:
        count = min(count, soft)
    highest = count - 1
    if highest < 3:
        return 0
    probe = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    try:
        try:
            spare = fcntl.fcntl(probe, fcntl.F_DUPFD_CLOEXEC, highest)
        except OSError:  # every descriptor from `highest` up is taken: the table is that big
            return count
        os.close(spare)
    finally:
        os.close(probe)
    return count


def warm_collection() -> None:
    """The controller's side of a second, once, on a throwaway histogram: decode, add, read a
    percentile (the layout tables, the decoder, numpy's first calls)."""
    sent = Histogram.of_values([1000])
    received = Histogram()
    received.add_encoded(sent.encode())
    received.percentile(99.0)


def warm_snapshot() -> None:
    """Run the snapshot path once on a throwaway recorder: layout tables, encoder, codec."""
    recorder = Recorder()
    slot = recorder.slot("warm-up", "warm-up")
    slot.request(0.001)
    slot.iteration(0.001)
    recorder.snapshot(0)


PRECONNECT_LEAD = 0.005
"""Seconds of the schedule's first arrivals given an open connection before the load. A pool
grows to about the iterations in flight, rate × an iteration's time, and against a fast server
an iteration holds its connection for a few milliseconds once the loop is busy: at 50,000
arrivals/s of a single GET (1 ms latency) the pool grew to about 190 connections, at 20,000/s of
a two-request flow to 100-165, opening 30-90 in one 20 ms window of a busy second when only 2
ms' worth (100 and 40) had been opened ahead (bench/lag_trace.py). Within `max_vus`, as the
pool is; each idle one costs the server a socket."""

PRECONNECT_AHEAD = 0.25
"""Seconds before the load's start that `preconnect` begins: time to open a few hundred
connections, and short enough for a server's idle timeout."""


def connections_ahead(
    arrivals: Iterable[float], origin_of: Callable[[int], str | None], lead: float
) -> dict[str, int]:
    """Connections per origin for the arrivals due before `lead` (offsets ascending; arrival
    i's first request goes to `origin_of(i)`, None: not known before it runs)."""
    counts: dict[str, int] = {}
    for i, offset in enumerate(arrivals):
        if offset >= lead:
            break
        origin = origin_of(i)
        if origin is not None:
            counts[origin] = counts.get(origin, 0) + 1
    return counts


async def preconnect(client: Client, counts: Mapping[str, int]) -> int:
    """Open `counts[origin]` connections to each origin (within the pool's limit) and park
    them; returns how many opened. One that fails is left to the requests to report."""
    opened = await asyncio.gather(
        *(client.pool(origin).preconnect(n) for origin, n in counts.items())
    )
    return sum(opened)


async def preconnect_before(client: Client, counts: Mapping[str, int], start: float) -> int:
    """`preconnect`, begun `PRECONNECT_AHEAD` before `start` (a `now()` time)."""
    wait = start - PRECONNECT_AHEAD - now()
    if wait > 0:
        await asyncio.sleep(wait)
    return await preconnect(client, counts)
