"""When each piece of a chunk may leave: latency, jitter, slicing and bandwidth as pure arithmetic.

Kept apart from the sockets so the timing rules (order kept, jitter bounded, pacing) are plain
functions of (data, toxics, now) that are easy to read and to test without a network.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from contval.chaos.proxy.toxics import BANDWIDTH, LATENCY, SLICER, Toxic

Schedule = list[tuple[float, bytes]]

# Bandwidth releases at most this share of a second's budget at once, so pacing looks smooth.
_PACE_SLICES = 50
_MIN_PACE_PIECE = 512


def _split(data: bytes, size: int) -> list[bytes]:
    if len(data) <= size:
        return [data]
    return [data[i : i + size] for i in range(0, len(data), size)]


def shape(
    data: bytes,
    toxics: Sequence[Toxic],
    start: float,
    last_due: float,
    uniform: Callable[[float, float], float] = random.uniform,
) -> Schedule:
    """Due times for the pieces of `data` arriving at `start`, never before `last_due`.

    Latency delays the whole chunk by delay ± jitter (never negative); a slicer cuts it into
    `size`-byte pieces `delay` apart; bandwidth paces pieces so that each leaves once its bytes
    fit the rate. Due times never decrease, so the byte order is kept whatever the jitter.
    """
    delay = 0.0
    slice_size = 0
    gap = 0.0
    rate = 0.0
    for toxic in toxics:
        params = toxic.params
        if toxic.type == LATENCY:
            jitter = params["jitter"]
            offset = uniform(-jitter, jitter) if jitter else 0.0
            delay += max(0.0, params["delay"] + offset)
        elif toxic.type == SLICER:
            size = int(params["size"])
            slice_size = size if not slice_size else min(slice_size, size)
            gap = max(gap, params["delay"])
        elif toxic.type == BANDWIDTH:
            rate = params["rate"] if not rate else min(rate, params["rate"])
    pieces = [data]
    if slice_size:
        pieces = _split(data, slice_size)
    if rate:
        pace = max(_MIN_PACE_PIECE, int(rate / _PACE_SLICES))
        pieces = [small for piece in pieces for small in _split(piece, pace)]
    due = max(start + delay, last_due)
    schedule: Schedule = []
    for index, piece in enumerate(pieces):
        if index and gap:
            due += gap
        if rate:
            due += len(piece) / rate
        schedule.append((due, piece))
    return schedule
