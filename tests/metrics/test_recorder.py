"""The recorder: slots, counters, interval snapshots, and a footprint flat in the count."""

from __future__ import annotations

import ctypes

import pytest

from contval.metrics import ErrorClass, Histogram, Recorder, SlotSnapshot, Snapshot


def _slot(snap: Snapshot, flow: str, step: str) -> SlotSnapshot:
    return next(s for s in snap.slots if (s.flow, s.step) == (flow, step))


def test_slot_is_resolved_once_and_step_none_means_the_flow() -> None:
    rec = Recorder()
    assert rec.slot("browse", "list") is rec.slot("browse", "list")
    assert rec.slot("browse") is rec.slot("browse", "")
    assert rec.slot("browse", None).step == ""


def test_records_latency_errors_checks_iterations_and_drops() -> None:
    rec = Recorder()
    step = rec.slot("checkout", "place order")
    flow = rec.slot("checkout")
    for us in range(1, 10_001):
        step.request(us / 1e6)
    step.error(ErrorClass.TIMEOUT, 2.0)
    step.error(ErrorClass.REFUSED)
    step.error(ErrorClass.HTTP_STATUS, 0.005)
    step.check(True)
    step.check(False)
    flow.iteration(1.5)
    flow.dropped()
    flow.late()
    snap = rec.snapshot(0)
    s = _slot(snap, "checkout", "place order")
    assert s.requests == 10_003
    assert s.errors[ErrorClass.TIMEOUT] == 1
    assert s.errors[ErrorClass.REFUSED] == 1
    assert s.errors[ErrorClass.HTTP_STATUS] == 1
    assert (s.checks_passed, s.checks_failed) == (1, 1)
    assert s.latency is not None
    latency = Histogram.decode(s.latency)
    assert latency.count == 10_002  # the refused request carries no latency
    assert latency.percentile(50) == pytest.approx(5000, rel=1e-3)
    f = _slot(snap, "checkout", "")
    assert (f.iterations, f.dropped_iterations, f.late_starts) == (1, 1, 1)
    assert f.latency is None
    assert f.duration is not None
    assert Histogram.decode(f.duration).max() == pytest.approx(1_500_000, rel=1e-3)


def test_snapshot_resets_the_interval_and_skips_idle_slots() -> None:
    rec = Recorder()
    slot = rec.slot("browse", "list")
    rec.slot("idle", "never")
    slot.request(0.010)
    first = rec.snapshot(0)
    assert [s.key for s in first.slots] == [("browse", "list")]
    second = rec.snapshot(1)
    assert second == Snapshot(second=1, slots=())
    slot.request(0.020)
    third = rec.snapshot(2)
    assert third.slots[0].requests == 1
    assert third.slots[0].latency is not None
    assert Histogram.decode(third.slots[0].latency).count == 1


def test_snapshots_are_plain_serialisable_data() -> None:
    import json

    rec = Recorder()
    rec.slot("a", "b").request(0.001)
    rec.slot("a", "b").error(ErrorClass.MALFORMED)
    snap = rec.snapshot(3)
    data = json.loads(json.dumps(snap.to_dict()))
    assert Snapshot.from_dict(data) == snap


def _footprint(rec: Recorder) -> tuple[int, int]:
    """Bytes of histogram counters and number of Python-level attributes held by the slots."""
    slots = list(rec._slots.values())
    counters = 0
    for slot in slots:
        for hdr in (slot._lat, slot._dur):
            if hdr is not None:
                counters += ctypes.sizeof(hdr.counts)
    return counters, sum(len(slot.errors) for slot in slots) + len(slots)


@pytest.mark.slow
def test_memory_is_flat_over_ten_million_values() -> None:
    rec = Recorder()
    slot = rec.slot("soak", "get")
    request = slot.request
    for i in range(1000):
        request((i % 5000) / 1e6)
    before = _footprint(rec)
    for i in range(10_000_000 - 1000):
        request((i % 5000 + 1) * 1e-6)
    assert _footprint(rec) == before
    snap = rec.snapshot(0)
    assert snap.slots[0].requests == 10_000_000
    assert snap.slots[0].latency is not None
    assert Histogram.decode(snap.slots[0].latency).count == 10_000_000
    assert _footprint(rec) == before
