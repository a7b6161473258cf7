"""The timing breakdown: recorded per response, snapshotted, merged across workers exactly,
summed over windows and summarized in ms, through the same path latencies take."""

from __future__ import annotations

import json
from dataclasses import dataclass

from contval.metrics import Recorder, Series, Snapshot, merge, summarize
from contval.metrics.snapshot import Breakdown


@dataclass
class Reply:
    """What `Slot.timing` reads of a response."""

    sent_at: float
    first_byte_at: float
    completed_at: float
    bytes_sent: int
    bytes_received: int
    setup: tuple[float, float] | None = None


def record(recorder: Recorder, replies: list[Reply], second: int) -> Snapshot:
    slot = recorder.slot("f", "get")
    for reply in replies:
        slot.request(reply.completed_at - reply.sent_at)
        slot.timing(reply)
    return recorder.snapshot(second)


NEW = Reply(0.0, 0.004, 0.005, 100, 40, setup=(0.002, 0.010))
REUSED = Reply(1.0, 1.002, 1.0025, 100, 40)
PLAIN_NEW = Reply(2.0, 2.001, 2.002, 100, 40, setup=(0.003, 0.0))


def test_a_slot_sums_per_response_and_keeps_connection_setup_in_histograms() -> None:
    snap = record(Recorder(), [NEW, REUSED, REUSED, PLAIN_NEW], 0)
    (slot,) = snap.slots
    b = slot.breakdown
    assert b is not None
    assert (b.responses, b.opened, b.reused) == (4, 2, 2)
    assert (b.bytes_sent, b.bytes_received) == (400, 160)
    assert abs(b.waiting - (0.004 + 0.002 + 0.002 + 0.001)) < 1e-9
    assert abs(b.receiving - (0.001 + 0.0005 + 0.0005 + 0.001)) < 1e-9
    assert b.connect is not None and b.tls is not None
    assert record(Recorder(), [], 1).slots == ()  # nothing timed: no breakdown, no slot


def test_snapshots_round_trip_and_old_ones_have_no_breakdown() -> None:
    snap = record(Recorder(), [NEW, REUSED], 0)
    again = Snapshot.from_dict(json.loads(json.dumps(snap.to_dict())))
    assert again == snap
    old = snap.to_dict()
    del old["slots"][0]["breakdown"]
    assert Snapshot.from_dict(old).slots[0].breakdown is None


def test_workers_merge_to_what_one_recorder_would_have_seen() -> None:
    one = record(Recorder(), [NEW, REUSED, REUSED, PLAIN_NEW], 3)
    parts = [record(Recorder(), [NEW, REUSED], 3), record(Recorder(), [REUSED, PLAIN_NEW], 3)]
    (merged,) = merge(parts)
    a, b = merged.slots[0].breakdown, one.slots[0].breakdown
    assert isinstance(a, Breakdown) and isinstance(b, Breakdown)
    assert (a.responses, a.opened, a.bytes_sent, a.bytes_received, a.tls) == (
        b.responses,
        b.opened,
        b.bytes_sent,
        b.bytes_received,
        b.tls,
    )
    assert abs(a.waiting - b.waiting) < 1e-12


def test_the_summary_is_in_ms_and_windows_subtract_what_leaves() -> None:
    series = Series()
    recorder = Recorder()
    series.add(record(recorder, [NEW, REUSED], 0))
    series.add(record(recorder, [REUSED, REUSED], 1))
    timing = summarize(series.totals())["f"].steps["get"].timing
    assert timing is not None
    assert (timing.responses, timing.connections_new, timing.connections_reused) == (4, 1, 3)
    assert timing.waiting is not None and abs(timing.waiting - (0.004 + 0.006) / 4 * 1000) < 1e-6
    assert timing.connect.count == 1 and timing.connect.p50 is not None
    assert 1.9 <= timing.connect.p50 <= 2.1 and timing.tls.p50 is not None
    assert 9.9 <= timing.tls.p50 <= 10.1
    (window,) = [w for w in series.sliding(1) if w.start == 1]
    late = summarize(window)["f"].steps["get"].timing
    assert late is not None and (late.responses, late.connections_new) == (2, 0)
    assert late.connect.count == 0 and late.bytes_received == 80
