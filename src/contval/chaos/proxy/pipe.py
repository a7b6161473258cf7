"""One direction of a relayed connection: write through, or hold pieces until they are due.

The fast path is a single `transport.write`. Only when a shaping toxic is active do pieces wait
in an ordered queue served by one timer. The queue counts as backpressure (reading from the
source pauses above a high-water mark), exactly like a full socket buffer on the other side, so
a slow or throttled link slows the sender instead of growing the proxy's memory.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

# Due times use the precise monotonic clock: uvloop's loop.time() is cached per iteration in
# whole milliseconds, which would release bytes up to a millisecond before their delay is over.
clock = time.monotonic

HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024

# Reasons for pausing the source, as bits: either one keeps it paused.
DEST_FULL = 1
QUEUE_FULL = 2
CONNECTING = 4  # the upstream side is not connected yet
GONE = 8  # the destination went away: nothing more can be delivered


class Pipe:
    """Bytes from `src` to `dest`, in order, possibly delayed; EOF forwarded after the data."""

    __slots__ = (
        "_ended",
        "_loop",
        "_on_end",
        "_paused",
        "_queued",
        "_timer",
        "close_when_drained",
        "dest",
        "eof",
        "last_due",
        "queue",
        "src",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop, on_end: Callable[[], None]) -> None:
        self._loop = loop
        self._on_end = on_end
        self.src: asyncio.Transport | None = None
        self.dest: asyncio.Transport | None = None
        self.queue: deque[tuple[float, bytes]] = deque()
        self._queued = 0
        self._timer: asyncio.TimerHandle | None = None
        self.last_due = 0.0
        self.eof = False
        self.close_when_drained = False
        self._ended = False
        self._paused = 0

    @property
    def holding(self) -> bool:
        """Whether bytes are waiting: new bytes must queue behind them to keep the order."""
        return bool(self.queue)

    @property
    def ended(self) -> bool:
        """EOF (or close) has been delivered to the destination."""
        return self._ended

    def write_now(self, data: bytes) -> None:
        """Forward now, or queue behind held bytes so the order is kept."""
        if self.queue or self.dest is None:
            self.push(clock(), data)
        else:
            self.dest.write(data)

    def push(self, due: float, data: bytes) -> None:
        """Hold `data` until `due` (never before anything already queued)."""
        due = max(due, self.last_due)
        self.last_due = due
        self.queue.append((due, data))
        self._queued += len(data)
        if self._queued > HIGH_WATER:
            self.pause(QUEUE_FULL)
        if self._timer is None:
            self._arm(due)

    def connected(self, dest: asyncio.Transport) -> None:
        """The destination exists now: bytes that came before it go out first."""
        self.dest = dest
        if self.queue and self._timer is None:
            self._flush()

    def _flush(self, force: bool = False) -> None:
        self._timer = None
        if self.dest is None:
            return  # not connected yet: `connected` flushes
        now = clock()
        queue = self.queue
        dest = self.dest
        while queue and (force or queue[0][0] <= now):
            _, data = queue.popleft()
            self._queued -= len(data)
            if not dest.is_closing():
                dest.write(data)
        if queue:
            self._arm(queue[0][0])
        elif self.eof or self.close_when_drained:
            self._end()
        if self._queued < LOW_WATER:
            self.resume(QUEUE_FULL)

    def _arm(self, due: float) -> None:
        """Wake at `due`; a timer firing a little early simply re-arms for the rest."""
        self._timer = self._loop.call_later(max(0.0, due - clock()), self._flush)

    def release(self) -> None:
        """Deliver everything held now: the toxic that held it is gone."""
        if self._timer is not None:
            self._timer.cancel()
        self._flush(force=True)

    def discard(self) -> None:
        """Drop held bytes: the connection is being torn down."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.queue.clear()
        self._queued = 0

    def source_eof(self) -> None:
        """The source half-closed: pass the EOF on once the held bytes are out."""
        self.eof = True
        if not self.queue:
            self._end()

    def finish(self) -> None:
        """The source is gone: deliver what is held, then close the destination."""
        self.close_when_drained = True
        if not self.queue:
            self._end()

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        dest = self.dest
        if dest is not None and not dest.is_closing():
            if self.close_when_drained:
                dest.close()
            elif dest.can_write_eof():
                dest.write_eof()
        self._on_end()

    def pause(self, reason: int) -> None:
        """Stop reading from the source (dest buffer full or too much held)."""
        if not self._paused and self.src is not None and not self.src.is_closing():
            self.src.pause_reading()
        self._paused |= reason

    def resume(self, reason: int) -> None:
        """Read again once no reason to pause is left."""
        if not self._paused & reason:
            return
        self._paused &= ~reason
        if not self._paused and self.src is not None and not self.src.is_closing():
            self.src.resume_reading()
