"""The per-second series of a run and the totals over the whole run or any window of it.

Workers' snapshots are merged per second as they arrive (`Series.add`); whole-run totals are
kept incrementally so they are always ready (progress line, end-of-run table, abort checks).
Totals for a window [t0, t1) are computed from the stored snapshots, decoding only the slots
and histograms a caller asks for; sliding windows add the second entering and subtract the one
leaving, so evaluating "every 10-second window" of an hour-long run stays linear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from contval.metrics.hdr import Histogram
from contval.metrics.snapshot import (
    Breakdown,
    Failure,
    Key,
    SlotSnapshot,
    Snapshot,
    merge_failures,
    merge_slots,
)

KeyFilter = Callable[[Key], bool]
_NO_SLOTS: Final[Mapping[Key, SlotSnapshot]] = MappingProxyType({})
_ZERO_ERRORS = (0,) * 13


@dataclass(frozen=True, slots=True)
class Counters:
    """Plain counts for a slot or a group of slots."""

    requests: int = 0
    errors: tuple[int, ...] = _ZERO_ERRORS
    checks_passed: int = 0
    checks_failed: int = 0
    iterations: int = 0
    dropped_iterations: int = 0
    late_starts: int = 0
    not_reached: int = 0

    @classmethod
    def of(cls, s: SlotSnapshot) -> Counters:
        return cls(
            s.requests,
            s.errors,
            s.checks_passed,
            s.checks_failed,
            s.iterations,
            s.dropped_iterations,
            s.late_starts,
            s.not_reached,
        )

    @property
    def error_count(self) -> int:
        return sum(self.errors)

    def _combine(self, other: Counters, sign: int) -> Counters:
        return Counters(
            self.requests + sign * other.requests,
            tuple(a + sign * b for a, b in zip(self.errors, other.errors, strict=True)),
            self.checks_passed + sign * other.checks_passed,
            self.checks_failed + sign * other.checks_failed,
            self.iterations + sign * other.iterations,
            self.dropped_iterations + sign * other.dropped_iterations,
            self.late_starts + sign * other.late_starts,
            self.not_reached + sign * other.not_reached,
        )

    def __add__(self, other: Counters) -> Counters:
        return self._combine(other, 1)

    def __sub__(self, other: Counters) -> Counters:
        return self._combine(other, -1)


@dataclass(slots=True)
class TimingTotals:
    """Accumulated timing breakdown of one (flow, step): see `snapshot.Breakdown`."""

    responses: int = 0
    waiting: float = 0.0
    receiving: float = 0.0
    bytes_sent: int = 0
    bytes_received: int = 0
    opened: int = 0
    connect: Histogram = field(default_factory=Histogram)
    tls: Histogram = field(default_factory=Histogram)

    def add(self, b: Breakdown, histograms: bool, sign: int = 1) -> None:
        self.responses += sign * b.responses
        self.waiting += sign * b.waiting
        self.receiving += sign * b.receiving
        self.bytes_sent += sign * b.bytes_sent
        self.bytes_received += sign * b.bytes_received
        self.opened += sign * b.opened
        if histograms and sign > 0:
            self.connect.add_encoded(b.connect)
            self.tls.add_encoded(b.tls)
        elif histograms:
            self.connect.subtract_encoded(b.connect)
            self.tls.subtract_encoded(b.tls)


@dataclass(slots=True)
class SlotTotals:
    """Accumulated counters and histograms of one (flow, step)."""

    counters: Counters = field(default_factory=Counters)
    latency: Histogram = field(default_factory=Histogram)
    duration: Histogram = field(default_factory=Histogram)
    failures: tuple[Failure, ...] = ()
    failures_other: int = 0
    """The most frequent distinct failed checks (at most `MAX_FAILURES`) and the rest's count."""
    timing: TimingTotals = field(default_factory=TimingTotals)

    def add(self, s: SlotSnapshot, histograms: bool = True) -> None:
        self.counters = self.counters + Counters.of(s)
        if histograms:
            self.latency.add_encoded(s.latency)
            self.duration.add_encoded(s.duration)
        if s.breakdown is not None:
            self.timing.add(s.breakdown, histograms)
        if s.failures or s.failures_other:
            self.failures, self.failures_other = merge_failures(
                ((self.failures, self.failures_other), (s.failures, s.failures_other))
            )

    def subtract(self, s: SlotSnapshot, histograms: bool = True) -> None:
        if s.failures or s.failures_other:  # approximate once some went to "other"
            gone = {(c, e, a): n for c, e, a, n in s.failures}
            kept = ((c, e, a, n - gone.get((c, e, a), 0)) for c, e, a, n in self.failures)
            self.failures = tuple(f for f in kept if f[3] > 0)
            self.failures_other = max(0, self.failures_other - s.failures_other)
        self.counters = self.counters - Counters.of(s)
        if histograms:
            self.latency.subtract_encoded(s.latency)
            self.duration.subtract_encoded(s.duration)
        if s.breakdown is not None:
            self.timing.add(s.breakdown, histograms, sign=-1)


@dataclass(slots=True)
class Totals:
    """Totals over the seconds [start, end), per (flow, step)."""

    start: int
    end: int
    slots: dict[Key, SlotTotals] = field(default_factory=dict)

    @property
    def seconds(self) -> int:
        return self.end - self.start

    def select(self, flow: str | None = None, step: str | None = None) -> list[SlotTotals]:
        """Slots in scope: all (flow None), one flow's (step None), or one step ("" = flow)."""
        return [
            t
            for (f, s), t in self.slots.items()
            if (flow is None or f == flow) and (step is None or s == step)
        ]

    def counters(self, flow: str | None = None, step: str | None = None) -> Counters:
        total = Counters()
        for t in self.select(flow, step):
            total = total + t.counters
        return total


class Series:
    """Merged per-second snapshots of one run, plus running whole-run totals."""

    def __init__(self, snapshots: Iterable[Snapshot] = ()) -> None:
        self._seconds: dict[int, dict[Key, SlotSnapshot]] = {}
        self._totals: dict[Key, SlotTotals] = {}
        self._first: int | None = None  # kept as seconds arrive: read every second, O(1)
        self._last: int | None = None
        self.amended = 0
        """Bumped whenever a second already seen changes (a second worker's part of it, the
        draining seconds folded): a `RunningWindow` then rebuilds rather than trust its sums."""
        for snap in snapshots:
            self.add(snap)

    def add(self, snapshot: Snapshot) -> None:
        """Merge one worker's snapshot in; workers may report the same second in any order."""
        second = snapshot.second
        per_key = self._seconds.get(second)
        if per_key is None:
            per_key = self._seconds[second] = {}
            if self._last is not None and second < self._last:
                self.amended += 1  # a gap filled behind the newest second
        else:
            self.amended += 1
        if self._first is None or second < self._first:
            self._first = second
        if self._last is None or second > self._last:
            self._last = second
        for slot in snapshot.slots:
            old = per_key.get(slot.key)
            per_key[slot.key] = slot if old is None else merge_slots([old, slot])
            self._totals.setdefault(slot.key, SlotTotals()).add(slot)

    @property
    def start(self) -> int:
        return 0 if self._first is None else self._first

    @property
    def end(self) -> int:
        """One past the last second seen: the run so far covers [start, end)."""
        return 0 if self._last is None else self._last + 1

    def fold_after(self, end: int) -> None:
        """Attribute what was recorded at or after second `end` to second `end - 1`.

        After the schedule ends, the seconds that follow only drain the iterations in flight:
        they are not seconds of load (judged alone they read as a collapse in throughput),
        but what they recorded was sent during the load, so it stays in the run, in its last
        second: a stall at the end cannot hide by finishing late. Totals are unchanged; only
        O(draining seconds) snapshots move.
        """
        last = max(end, self.start + 1) - 1
        late = sorted(second for second in self._seconds if second > last)
        if not late:
            return
        into = self._seconds.setdefault(last, {})
        self._last = last
        self.amended += 1
        for second in late:
            for key, slot in self._seconds.pop(second).items():
                old = into.get(key)
                into[key] = slot if old is None else merge_slots([old, slot])

    def slot_keys(self) -> list[Key]:
        return sorted(self._totals)

    def snapshots(self) -> list[Snapshot]:
        return [
            Snapshot(second, tuple(per_key[k] for k in sorted(per_key)))
            for second, per_key in sorted(self._seconds.items())
        ]

    def second(self, second: int) -> Mapping[Key, SlotSnapshot]:
        """The merged slots of one second (empty if nothing was recorded then); read-only."""
        return self._seconds.get(second, _NO_SLOTS)

    def totals(self) -> Totals:
        """The whole run so far. Shares the running accumulators: treat as read-only."""
        return Totals(self.start, self.end, self._totals)

    def window(
        self, t0: int, t1: int, keys: KeyFilter | None = None, histograms: bool = True
    ) -> Totals:
        """Totals for the seconds [t0, t1), optionally only some slots or no histograms."""
        totals = Totals(t0, t1)
        for second in range(t0, t1):
            self._apply(totals, second, keys, histograms, add=True)
        return totals

    def sliding(
        self, size: int, keys: KeyFilter | None = None, histograms: bool = True
    ) -> Iterator[Totals]:
        """Every full window of `size` seconds, one second apart, oldest first.

        Yields the same object, updated in place: read it before advancing the iterator.
        """
        if size < 1:
            raise ValueError("window size must be at least one second")
        start, end = self.start, self.end
        if end - start < size:
            return
        totals = self.window(start, start + size, keys, histograms)
        yield totals
        for t0 in range(start + 1, end - size + 1):
            self._apply(totals, t0 - 1, keys, histograms, add=False)
            self._apply(totals, t0 + size - 1, keys, histograms, add=True)
            totals.start, totals.end = t0, t0 + size
            yield totals

    def _apply(
        self, totals: Totals, second: int, keys: KeyFilter | None, histograms: bool, add: bool
    ) -> None:
        for key, slot in self._seconds.get(second, {}).items():
            if keys is not None and not keys(key):
                continue
            target = totals.slots.setdefault(key, SlotTotals())
            if add:
                target.add(slot, histograms)
            else:
                target.subtract(slot, histograms)


class RunningWindow:
    """Totals over a window of one series, kept across calls and moved forward: only the
    seconds that leave and enter it are applied, so a window read every second (an abort
    threshold's last D seconds, or its phase so far) costs what one second costs, not what
    the window holds. Equal to `Series.window` over the same seconds, slot for slot: a slot
    leaves when the last second that had it leaves.

    A running series adds each second once, complete (every live worker reported it), so the
    window only moves; should a second it holds change (`Series.amended`), it is rebuilt.
    """

    __slots__ = ("_amended", "_present", "histograms", "keys", "totals")

    def __init__(self, keys: KeyFilter | None = None, histograms: bool = True) -> None:
        self.keys = keys
        self.histograms = histograms
        self.totals = Totals(0, 0)
        self._present: dict[Key, int] = {}  # seconds in the window that have each slot
        self._amended = -1  # the series' `amended` when last moved

    def move(self, series: Series, t0: int, t1: int) -> Totals:
        """The totals over [t0, t1) (the object is updated in place on the next call)."""
        totals = self.totals
        fresh = series.amended != self._amended
        if fresh or t0 < totals.start or t1 < totals.end or t0 >= totals.end or t0 > t1:
            # a kept second changed, the window moved back, or nothing is kept: build afresh
            self._amended = series.amended
            totals.slots.clear()
            self._present.clear()
            totals.start = totals.end = t0
        for second in range(totals.start, t0):
            self._apply(series, second, add=False)
        for second in range(totals.end, t1):
            self._apply(series, second, add=True)
        totals.start, totals.end = t0, t1
        return totals

    def _apply(self, series: Series, second: int, add: bool) -> None:
        slots, present, keys = self.totals.slots, self._present, self.keys
        for key, slot in series.second(second).items():
            if keys is not None and not keys(key):
                continue
            if add:
                slots.setdefault(key, SlotTotals()).add(slot, self.histograms)
                present[key] = present.get(key, 0) + 1
            elif present[key] == 1:
                del slots[key], present[key]
            else:
                slots[key].subtract(slot, self.histograms)
                present[key] -= 1
