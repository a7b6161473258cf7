"""Which flow each iteration runs: a deterministic interleaving with exact proportions.

Random choice would make a 70/25/5 mix come out as 68/27/5 in a short run and differ between
runs; instead the weights are turned into integers and laid out once as a fair sequence. It
repeats every `period` picks and each period holds every flow exactly its integer weight times,
so *every* window of `period` consecutive picks is exact; inside it, every flow's count after n
picks is within one of n × its share (so under two over any window), where smooth weighted
round-robin can drift past one. Picking is then a table lookup by global iteration index, so
workers need no coordination.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Mapping, Sequence
from fractions import Fraction

MAX_PERIOD = 100_000
"""Longest exact cycle. Weights whose exact integer form needs more (e.g. 1/3 written as
0.333333) are apportioned to this many slots, off by at most 1e-5 of a pick per pick."""


class Mix:
    """Flow names with relative weights (> 0); `pick(k)` is the flow of global iteration k."""

    __slots__ = ("_counts", "_flows", "_shares", "_table")

    def __init__(self, weights: Mapping[str, float]) -> None:
        if not weights:
            raise ValueError("a mix needs at least one flow")
        bad = {name: w for name, w in weights.items() if not (w > 0 and math.isfinite(w))}
        if bad:
            raise ValueError(f"mix weights must be positive and finite: {bad}")
        self._flows = tuple(weights)
        total = math.fsum(weights.values())
        self._shares = {name: w / total for name, w in weights.items()}
        self._counts = _integer_weights([weights[name] for name in self._flows])
        self._table = _fair_sequence(self._counts)

    @property
    def flows(self) -> tuple[str, ...]:
        return self._flows

    @property
    def period(self) -> int:
        """Picks after which the sequence repeats; each flow appears `weights()` times in it."""
        return len(self._table)

    def weights(self) -> dict[str, int]:
        """The integer weights the sequence realises (the user's, reduced, or apportioned)."""
        return dict(zip(self._flows, self._counts, strict=True))

    def pick(self, k: int) -> str:
        """The flow for global iteration index k (k ≥ 0)."""
        return self._flows[self._table[k % len(self._table)]]

    def shares(self) -> dict[str, float]:
        """Each flow's fraction of iterations, from the weights as written."""
        return dict(self._shares)

    def counts(self, n: int, start: int = 0) -> dict[str, int]:
        """Exactly how many of the picks start … start+n-1 go to each flow."""
        if n < 0 or start < 0:
            raise ValueError(f"n and start must be non-negative, not {n}, {start}")
        cycles, rest = divmod(n, self.period)
        tally = [cycles * c for c in self._counts]
        for k in range(start, start + rest):
            tally[self._table[k % self.period]] += 1
        return dict(zip(self._flows, tally, strict=True))


def _integer_weights(weights: Sequence[float]) -> list[int]:
    """The smallest integers in the exact ratio of the weights as written (70.5 → 141 against
    25 → 50), or, when those sum past MAX_PERIOD, the nearest apportionment of MAX_PERIOD."""
    fractions = [Fraction(repr(w)) for w in weights]
    scale = math.lcm(*(f.denominator for f in fractions))
    ints = [int(f * scale) for f in fractions]
    common = math.gcd(*ints)
    ints = [i // common for i in ints]
    if sum(ints) <= MAX_PERIOD:
        return ints
    return _apportion(weights, MAX_PERIOD)


def _apportion(weights: Sequence[float], slots: int) -> list[int]:
    """Largest-remainder apportionment of `slots`, every flow keeping at least one slot."""
    if len(weights) > slots:
        raise ValueError(f"a mix of more than {slots} flows is not supported")
    total = math.fsum(weights)
    quotas = [w / total * slots for w in weights]
    ints = [max(1, math.floor(q)) for q in quotas]
    order = sorted(range(len(weights)), key=lambda i: ints[i] - quotas[i])
    for i in order[: slots - sum(ints)]:
        ints[i] += 1
    while sum(ints) > slots:  # only after raising tiny quotas to 1; take from the big ones
        i = max((j for j in range(len(ints)) if ints[j] > 1), key=lambda j: ints[j] - quotas[j])
        ints[i] -= 1
    return ints


def _fair_sequence(counts: Sequence[int]) -> array[int]:
    """One period in which flow i appears counts[i] times, each appearance inside its fair
    window: the j-th (1-based) falls in [⌊(j-1)·S/w⌋, ⌈j·S/w⌉). Earliest-deadline-first fills
    every slot and meets every window when the shares sum to 1 (Pfair scheduling, Baruah et
    al. 1996), which is what bounds the lag of every flow below one pick."""
    total = sum(counts)
    ready: list[tuple[int, int]] = []  # (deadline, flow) of each flow's next appearance
    waiting = [(0, i) for i in range(len(counts))]  # (release, flow)
    taken = [0] * len(counts)
    table = array("I")
    for slot in range(total):
        while waiting and waiting[0][0] <= slot:
            _, flow = heapq.heappop(waiting)
            heapq.heappush(ready, (-(-(taken[flow] + 1) * total // counts[flow]), flow))
        if not ready:
            raise AssertionError(f"no flow ready in slot {slot} of {counts}")  # never: see above
        _, flow = heapq.heappop(ready)
        table.append(flow)
        taken[flow] += 1
        if taken[flow] < counts[flow]:
            heapq.heappush(waiting, (taken[flow] * total // counts[flow], flow))
    return table
