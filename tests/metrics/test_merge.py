"""Merging snapshots across workers is exact: N recorders merged equal one recorder."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from contval.metrics import (
    ErrorClass,
    Histogram,
    Recorder,
    Series,
    SlotSnapshot,
    Snapshot,
    merge,
)

Event = tuple[int, str, str, int, int]  # second, flow, step, latency µs, error class or -1


def _events(seed: int, n: int) -> list[Event]:
    rng = random.Random(seed)
    keys = [("browse", "list"), ("browse", "details"), ("checkout", "pay")]
    return [
        (
            rng.randrange(4),
            *rng.choice(keys),
            int(rng.expovariate(1 / 20_000)) + 1,
            rng.choice([-1, -1, -1, int(ErrorClass.TIMEOUT), int(ErrorClass.REFUSED)]),
        )
        for _ in range(n)
    ]


def _record(events: list[Event]) -> list[Snapshot]:
    """One worker: feed the events second by second, snapshotting at each second's end."""
    rec = Recorder()
    snaps = []
    for second in range(4):
        for sec, flow, step, us, err in events:
            if sec != second:
                continue
            slot = rec.slot(flow, step)
            if err == ErrorClass.REFUSED:
                slot.error(ErrorClass.REFUSED)
            elif err >= 0:
                slot.error(ErrorClass(err), us / 1e6)
            else:
                slot.request(us / 1e6)
            slot.check(err < 0)
        snaps.append(rec.snapshot(second))
    return snaps


def _decoded(snaps: list[Snapshot]) -> dict[tuple[int, str, str], tuple[object, ...]]:
    """Snapshots as comparable data: counters plus decoded histogram counts."""
    out: dict[tuple[int, str, str], tuple[object, ...]] = {}
    for snap in snaps:
        for s in snap.slots:
            lat = Histogram.decode(s.latency).counts.tolist() if s.latency else None
            out[(snap.second, s.flow, s.step)] = (
                s.requests,
                s.errors,
                s.checks_passed,
                s.checks_failed,
                lat,
            )
    return out


def test_merge_of_workers_equals_one_recorder_seeing_everything() -> None:
    events = _events(1, 3000)
    shards = [events[i::3] for i in range(3)]
    merged = merge(s for shard in shards for s in _record(shard))
    assert _decoded(merged) == _decoded(_record(events))


def test_series_totals_equal_one_recorder_and_order_does_not_matter() -> None:
    events = _events(2, 2000)
    single = Series(_record(events))
    parts = [s for i in range(4) for s in _record(events[i::4])]
    random.Random(5).shuffle(parts)
    many = Series(parts)
    for key in single.slot_keys():
        one, other = single.totals().slots[key], many.totals().slots[key]
        assert one.counters == other.counters
        assert one.latency == other.latency
    assert _decoded(many.snapshots()) == _decoded(single.snapshots())


slot_snapshots = st.builds(
    lambda req, errs, lat: SlotSnapshot(
        flow="f",
        step="s",
        requests=req,
        errors=tuple(errs),
        latency=Histogram.of_values(lat).encode(),
    ),
    st.integers(0, 1000),
    st.lists(st.integers(0, 50), min_size=6, max_size=6),
    st.lists(st.integers(1, 10_000_000), max_size=20),
)
worker_snapshots = st.builds(
    lambda second, slot: Snapshot(second=second, slots=(slot,)),
    st.integers(0, 2),
    slot_snapshots,
)


def _counts(snaps: list[Snapshot]) -> dict[int, tuple[int, tuple[int, ...], list[int]]]:
    out = {}
    for snap in snaps:
        for s in snap.slots:
            lat = Histogram.decode(s.latency).counts.tolist() if s.latency else []
            out[snap.second] = (s.requests, s.errors, lat)
    return out


@settings(max_examples=40, deadline=None)
@given(st.lists(worker_snapshots, max_size=4), st.lists(worker_snapshots, max_size=4))
def test_merge_is_commutative(a: list[Snapshot], b: list[Snapshot]) -> None:
    assert _counts(merge(a + b)) == _counts(merge(b + a))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(worker_snapshots, max_size=3),
    st.lists(worker_snapshots, max_size=3),
    st.lists(worker_snapshots, max_size=3),
)
def test_merge_is_associative(a: list[Snapshot], b: list[Snapshot], c: list[Snapshot]) -> None:
    left = merge(merge(a + b) + c)
    right = merge(a + merge(b + c))
    assert _counts(left) == _counts(right) == _counts(merge(a + b + c))
