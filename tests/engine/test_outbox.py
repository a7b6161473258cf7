"""Workers never block their event loop on the controller (issue 16 §1).

A worker's per-second reports go through an outbox whose own thread writes the pipe: a
controller that stops reading (paused, swapped out, slow) stalls only that thread, and once
`MAX_BACKLOG` seconds wait the oldest are folded into later ones (snapshots are per-second
deltas: they add up exactly), so nothing counted is lost and memory stays bounded.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from contval.engine import messages as msg
from contval.engine.outbox import Outbox, fold
from contval.metrics import Histogram, Series, Snapshot
from contval.metrics.snapshot import SlotSnapshot
from tests.engine.target import Target
from tests.engine.test_run import CLI, constant_rate, load_started, one_step, write_suite

PAUSE_S = 3.0
BIG = "x" * 900  # a failed check's shown value: 20 distinct ones make a second's report ~20 KB


def _second(second: int, requests: int, latency_us: int) -> tuple[Snapshot, msg.WorkerStats]:
    failures = tuple((f"status == {n}", "200", f"{BIG}{n}", 1) for n in range(20))
    slot = SlotSnapshot(
        "f",
        "get",
        requests=requests,
        latency=Histogram.of_values([latency_us] * requests).encode(),
        failures=failures,
    )
    return Snapshot(second, (slot,)), msg.WorkerStats(1, 0.5 * second, 10.0, 0.25)


def test_fold_adds_two_seconds_exactly() -> None:
    older, newer = _second(3, 10, 1000), _second(4, 5, 2000)
    snapshot, stats = fold(older, newer)
    assert snapshot.second == 4
    (slot,) = snapshot.slots
    assert slot.requests == 15
    totals = Series([snapshot]).totals().slots[("f", "get")]
    assert totals.latency.count == 15
    assert totals.latency.percentile(50) == Histogram.of_values([1000]).percentile(50)
    assert stats.lag_ms == 2.0 and stats.active == 1 and stats.cpu == 0.25
    assert {f[2]: f[3] for f in slot.failures} == {f"{BIG}{n}": 2 for n in range(20)}


def test_a_controller_that_stops_reading_never_blocks_the_sender() -> None:
    """300 reports of ~20 KB each, 6 MB: far more than the pipe holds. Every one is queued
    while nobody reads (a send that waited for the pipe would never return); reading
    afterwards gets every request counted, in order, the oldest seconds folded into later
    ones beyond the backlog bound, and DONE last."""
    reader, writer = multiprocessing.Pipe(duplex=True)
    outbox = Outbox(writer, max_backlog=50)
    sent = 300 * 7

    def produce() -> None:
        for second in range(300):
            outbox.second(*_second(second, 7, 500 + second))
        outbox.send((msg.DONE, {"interrupted_iterations": 0, "stop_reason": None}))

    producer = threading.Thread(target=produce)
    producer.start()
    producer.join(timeout=60)
    assert not producer.is_alive()  # all queued with the reader asleep
    assert outbox.folded > 0  # the backlog bound was reached: the pipe was full
    received: list[Snapshot] = []
    while True:
        message = reader.recv()
        if message[0] == msg.DONE:
            break
        assert message[0] == msg.SECOND
        received.append(Snapshot.from_dict(message[1]))
        assert msg.WorkerStats.from_dict(message[2]).rss_mb == 10.0
    assert outbox.close(timeout=10)
    seconds = [s.second for s in received]
    assert seconds == sorted(seconds) and len(set(seconds)) == len(seconds)
    assert seconds[-1] == 299
    assert len(received) + outbox.folded == 300
    assert sum(slot.requests for s in received for slot in s.slots) == sent
    totals = Series(received).totals().slots[("f", "get")]
    assert totals.latency.count == sent


def test_a_paused_controller_costs_the_workers_nothing(tmp_path: Path, target: Target) -> None:
    """The real controller (`contval run`) is stopped with SIGSTOP for 3 s mid-run: the worker
    keeps its schedule (no late start, no dropped arrival, no lag, no added latency) and every
    request the server answered is in the final result. (A second's report is small, so the
    pipe alone would absorb 3 s of them; the test above fills it.)"""
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("300/s", "6s"))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*CLI, "run", str(suite), "--out", str(out), "--workers", "1", "--allow-ungated"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = load_started(out, proc)
    time.sleep(max(0.0, started + 1.0 - time.time()))  # a second into the load
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        time.sleep(PAUSE_S)  # the pause itself: nothing to wait for
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    assert proc.wait(timeout=60) == 0
    scenario = json.loads((out / "result.json").read_text())["scenarios"][0]
    totals = scenario["totals"]
    assert totals["iterations"] == 1800  # 300/s x 6 s, every arrival started
    # A worker blocked for the pause would start ~900 arrivals 0.1-3 s late; a busy shared
    # machine may delay a few by 10 ms on its own.
    assert totals["late_starts"] <= 18
    assert totals["dropped_iterations"] == 0
    assert totals["requests"] == target.seen.requests  # none lost on the way
    lags = [row["lag_ms"] for row in scenario["series"]]
    assert len(lags) == 6 and max(lags) < 100  # a blocked loop would lag by the pause: 3000
    latency = scenario["flows"]["f"]["steps"]["get"]["latency"]
    assert latency["count"] == 1800 and latency["max"] < 250
    generator = scenario["generator"]  # its own health, measured by the worker
    assert 0 < generator["cpu_max"] < 0.9 and generator["saturated"] is False
    assert generator["lag_max_ms"] == max(lags)
    assert all(0 < row["worker_cpu"] < 0.9 for row in scenario["series"][:5])
