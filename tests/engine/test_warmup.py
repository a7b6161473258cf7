"""A worker pays its one-off costs before the schedule starts (issue 16: worst lag < 5 ms).

Growing the descriptor table in a threaded process waits for an RCU grace period (7-18 ms
measured); a worker reserves the table for every connection it may open before its load.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contval.engine import messages as msg
from contval.engine.local import LocalController
from contval.engine.schedules import OpenSchedule, schedule_for
from contval.engine.warmup import (
    PRECONNECT_LEAD,
    SPARE_FDS,
    connections_ahead,
    fds_needed,
    reserve_fds,
)
from contval.spec import load_suite
from tests.engine.target import Target
from tests.engine.test_run import constant_rate, one_step, run, write_suite

ROOT = Path(__file__).resolve().parents[2]


def _fd_size(pid: int | str = "self") -> int:
    """The size of a process's descriptor table (slots, not open descriptors)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("FDSize:"):
            return int(line.split()[1])
    raise AssertionError("no FDSize in /proc status")


def _open_fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


def _python(code: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    return done.stdout.split()


def test_fds_needed_is_a_full_pool_per_target_plus_spares() -> None:
    assert fds_needed(200, 1) == 200 + SPARE_FDS
    assert fds_needed(1000, 3) == 3000 + SPARE_FDS
    assert fds_needed(0, 0) == 1 + SPARE_FDS


def test_a_fresh_process_table_grows_and_no_descriptor_is_left_open() -> None:
    code = """if True:
        import os
        from contval.engine.warmup import reserve_fds
        from tests.engine.test_warmup import _fd_size
        before, fds = _fd_size(), sorted(os.listdir("/proc/self/fd"))
        asked = reserve_fds(1000)
        after = sorted(os.listdir("/proc/self/fd"))
        print(before, asked, _fd_size(), fds == after)
    """
    before, asked, after, same = _python(code)
    assert int(before) < 1000
    assert int(asked) == 1000
    assert int(after) >= 1000
    assert same == "True"


def test_an_open_descriptor_where_the_table_ends_is_left_alone() -> None:
    with open(os.devnull, "rb") as source:
        highest = 4000
        while highest in _open_fds():
            highest += 1
        os.dup2(source.fileno(), highest)
        try:
            identity = os.fstat(highest).st_ino
            before = _open_fds()
            reserve_fds(highest + 1)
            assert _open_fds() == before  # nothing opened, nothing closed
            assert os.fstat(highest).st_ino == identity
            assert _fd_size() >= highest + 1
        finally:
            os.close(highest)


def test_the_table_stays_within_the_soft_limit() -> None:
    code = """if True:
        import resource
        from contval.engine.warmup import reserve_fds
        from tests.engine.test_warmup import _fd_size
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))
        print(reserve_fds(100_000), _fd_size())
    """
    asked, size = _python(code)
    assert int(asked) == 128  # not the 100,000 asked for, and no error
    assert 128 <= int(size) < 100_000


@pytest.mark.parametrize(
    "warm",
    [
        "warm_snapshot",  # the worker's first snapshot (layout tables, the encoder)
        "warm_collection",  # the controller's first percentile (layout tables, the decoder)
    ],
)
def test_the_first_second_is_paid_before_the_load(warm: str) -> None:
    code = f"""if True:
        from contval.engine.warmup import {warm}
        from contval.metrics import hdr
        print(hdr._layout.cache_info().currsize)
        {warm}()
        print(hdr._layout.cache_info().currsize)
    """
    assert _python(code) == ["0", "1"]


def test_a_controller_warms_its_collection_while_the_workers_compile(
    tmp_path: Path, target: Target
) -> None:
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("10/s", "1s"))
    code = f"""if True:
        from contval.engine import messages as msg
        from contval.engine.local import LocalController
        from contval.metrics import hdr
        from contval.spec import load_suite
        controller = LocalController([msg.jobs_for(load_suite({str(suite)!r}), "main", 1)[0]])
        before = hdr._layout.cache_info().currsize
        controller.start()  # workers READY, nothing sent yet
        print(before, hdr._layout.cache_info().currsize)
        controller.stop("test over")
        controller.close()
    """
    assert _python(code) == ["0", "1"]
    assert target.seen.requests == 0  # before the load


def test_a_worker_reserves_its_connections_before_the_load(tmp_path: Path, target: Target) -> None:
    suite = write_suite(
        tmp_path, target.url, one_step("/ok"), constant_rate("100/s", "1s", max_vus=700)
    )
    controller = LocalController([msg.jobs_for(load_suite(suite), "main", 1)[0]])
    controller.start()  # every worker compiled and READY: nothing sent yet
    try:
        assert _fd_size(controller.peers[0].process.pid) >= fds_needed(700, 1)
    finally:
        controller.stop("test over")
        controller.close()


def test_the_first_arrivals_connections_are_counted_per_origin() -> None:
    arrivals = [0.0, 0.0004, 0.0008, 0.0012, 0.0016, 0.0020, 0.0024]
    origins = ["http://a", "http://b", None, "http://a", "http://a", "http://b", "http://b"]
    counts = connections_ahead(iter(arrivals), origins.__getitem__, 0.002)
    assert counts == {"http://a": 3, "http://b": 1}  # None: a URL known only when it runs
    assert connections_ahead(iter(arrivals), origins.__getitem__, 0.0) == {}


def test_an_open_schedule_at_20000_per_second_opens_100_connections_ahead(
    tmp_path: Path, target: Target
) -> None:
    suite = load_suite(
        write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("20000/s", "1s"))
    )
    schedule = schedule_for(suite.workloads["load"])
    assert isinstance(schedule, OpenSchedule)
    counts = connections_ahead(schedule.arrivals(0, 1), lambda i: "x", PRECONNECT_LEAD)
    assert counts == {"x": 100}
    # two workers share the arrivals, and so the connections
    halves = [connections_ahead(schedule.arrivals(w, 2), lambda i: "x", 0.005) for w in (0, 1)]
    assert halves == [{"x": 50}, {"x": 50}]


def test_a_worker_opens_its_first_connections_before_the_load(
    tmp_path: Path, target: Target
) -> None:
    # 5,000 arrivals/s: 25 are due in the first 5 ms, so 25 connections are open before the
    # first request (and the preflight's own, which it closed); opened on demand, the first
    # request would find 1-3.
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("5000/s", "1s"))
    code, result, output = run(suite, tmp_path / "out", "--workers", "1")
    assert code == 0, output
    assert result["scenarios"][0]["totals"]["errors"] == 0
    assert target.seen.paths["/ok"] == 5000
    assert target.seen.connections_at_first is not None
    assert target.seen.connections_at_first >= 1 + 25
    assert target.seen.connections <= 1 + 200  # max_vus bounds the pool as before
