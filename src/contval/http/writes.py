"""Requests written together once per event-loop pass, instead of one at a time.

A request written to a loopback socket wakes the server's process there and then, inside the
`write` system call: the sender pays for the server's wake-up (`perf` on a worker at 15,000
browse iterations/s: 14 % of its CPU in `sock_def_readable`, waking nginx on the other core).
Requests that the same pass of the event loop decided to send are held until the pass ends and
written back to back: the first write wakes the server, the rest find it awake. On the
reference shop's browse flow at 15,000 iterations/s this took the worker from 47-52 to 41-44 µs
of CPU per iteration (bench/README.md).

A held request waits for the rest of the pass (the other callbacks that are ready), not for a
timer: at low load that is microseconds. The breakdown's "sent" time is still read when the
write returns. A request still held when its connection closes (a FIN, a reset) was never
sent, so the failure is an `UnsentError`, which the pool may retry whatever the method; one
ended by a TLS alert fails as TLS and is not retried (see `Connection._lost`).
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Held(Protocol):
    """A connection with a request held for the next flush."""

    def write_held(self) -> None:
        """Write the held request, if the connection still has one."""


class Writes:
    """The requests held during one event-loop pass; one per event loop (a Client's pools share
    one)."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held: list[Held] = []

    def hold(self, conn: Held, loop: asyncio.AbstractEventLoop) -> None:
        """Write `conn`'s request at the end of this pass (`loop`: the connection's)."""
        held = self._held
        if not held:
            loop.call_soon(self._flush)
        held.append(conn)

    def _flush(self) -> None:
        held = self._held
        self._held = []
        for conn in held:
            conn.write_held()
