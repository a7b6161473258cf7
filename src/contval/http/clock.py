"""The clock the client stamps completions with.

uvloop's `loop.time()` is libuv's cached, millisecond-resolution loop time: useless for loopback
latencies of ~100 µs. `time.monotonic()` reads the same CLOCK_MONOTONIC base at full resolution, and
is exactly `loop.time()` on the default asyncio loop, so values from either can be compared and
deadlines computed with it can be handed to `loop.call_at`.
"""

from time import monotonic as now

__all__ = ["now"]
