"""The guard: SIGKILL of the controller mid-fault reverts everything within 5 s; "done" does not."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contval.chaos import proc
from contval.chaos.guard import start_guard
from contval.chaos.ledger import Ledger
from tests.chaos.faults.helpers import (
    RealProxy,
    Ticker,
    real_proxy,
    state_dir,
    stress_ng_installed,
    ticker,
    wait_for,
)

__all__ = ["real_proxy", "state_dir", "stress_ng_installed", "ticker"]

CONTROLLER = Path(__file__).parent / "faults" / "controller.py"


_controllers: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _kill_leftover_controllers() -> Iterator[None]:
    """A test that fails before its SIGKILL must not leave a controller (and its guard) behind."""
    yield
    while _controllers:
        controller = _controllers.pop()
        if controller.poll() is None:
            controller.kill()
            controller.wait(timeout=10)


def run_controller(
    run_id: str, mode: str, arg: int | str
) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    controller = subprocess.Popen(
        [sys.executable, str(CONTROLLER), run_id, mode, str(arg)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    _controllers.append(controller)
    assert controller.stdout is not None
    line = controller.stdout.readline()
    assert line, f"controller exited with {controller.wait()}"
    return controller, json.loads(line)


def test_sigkill_of_the_controller_reverts_within_5s(
    ticker: Ticker, state_dir: Path, stress_ng_installed: None
) -> None:
    controller, report = run_controller("run-k", "hang", ticker.pid)
    assert report["verified"] == [True, True]
    pause_undo, stress_undo = report["undo"]
    assert pause_undo == {"kind": "sigcont", "pid": ticker.pid, "starttime": ticker.ref.starttime}
    stress = proc.ProcessRef(stress_undo["pid"], stress_undo["starttime"])
    assert proc.state_of(ticker.ref) == "T"
    assert len(proc.group_members(stress.pid)) == 2
    ledger = Ledger()
    assert len(ledger.entries("run-k")) == 2

    controller.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    controller.wait(timeout=5)
    wait_for(lambda: proc.state_of(ticker.ref) not in ("T", None), 5, "SIGCONT from the guard")
    wait_for(lambda: not proc.group_members(stress.pid), 5, "stress-ng to be gone")
    wait_for(lambda: not ledger.entries("run-k"), 5, "the ledger to be empty")
    assert time.monotonic() - killed_at < 5
    assert ticker.advancing()
    log = (state_dir / "guard" / "run-k.log").read_text()
    assert "controller of run run-k died: reverting its faults" in log
    assert f"reverted freeze: SIGCONT sent to PID {ticker.pid}: it runs again" in log


def test_sigkill_mid_proxy_fault_leaves_a_clean_link(real_proxy: RealProxy) -> None:
    controller, report = run_controller("run-p", "proxy", real_proxy.control)
    assert report["verified"] == [True]
    [undo] = report["undo"]
    assert undo["kind"] == "proxy-toxic"
    assert real_proxy.round_trip() >= 0.3
    controller.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    controller.wait(timeout=5)
    wait_for(lambda: not Ledger().entries("run-p"), 5, "the guard to delete the toxic")
    assert time.monotonic() - killed_at < 5
    assert real_proxy.round_trip() < 0.2


def test_done_means_the_guard_exits_and_touches_nothing(ticker: Ticker) -> None:
    ledger = Ledger()
    os.kill(ticker.pid, signal.SIGSTOP)
    try:
        entry = ledger.write(
            "run-d",
            "freeze",
            "pause",
            "t",
            {"kind": "sigcont", "pid": ticker.pid, "starttime": ticker.ref.starttime},
        )
        guard = start_guard("run-d", ledger)
        assert proc.is_alive(proc.ref_of(guard.pid))
        assert os.getsid(guard.pid) == guard.pid  # its own session: Ctrl-C does not reach it
        guard.done()
        assert guard.returncode == 0
        time.sleep(0.2)
        assert proc.state_of(ticker.ref) == "T"
        assert ledger.entries("run-d") == [entry]
    finally:
        os.kill(ticker.pid, signal.SIGCONT)


def test_eof_without_done_reverts_only_its_own_run(ticker: Ticker) -> None:
    ledger = Ledger()
    os.kill(ticker.pid, signal.SIGSTOP)
    try:
        undo = {"kind": "sigcont", "pid": ticker.pid, "starttime": ticker.ref.starttime}
        other = ledger.write("run-other", "freeze", "pause", "t", undo)
        ledger.write("run-e", "freeze", "pause", "t", undo)
        guard = start_guard("run-e", ledger)
        os.close(guard._fd)  # type: ignore[arg-type]  # the controller "dies"
        guard._fd = None
        assert guard.wait(timeout=10) == 0
        assert proc.state_of(ticker.ref) != "T"
        assert ledger.entries() == [other]
    finally:
        os.kill(ticker.pid, signal.SIGCONT)


def _descendants(pid: int) -> list[int]:
    """Every live process below pid, found through /proc's parent links (what a runner that
    kills a process tree walks)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def test_the_guard_is_not_in_the_controllers_process_tree(
    ticker: Ticker, state_dir: Path, stress_ng_installed: None
) -> None:
    """A CI runner that cancels a job by killing the process tree (every descendant of the
    step's shell) must not take the guard with it: the guard is detached (double fork) into a
    session of its own, a child of init, so it outlives the tree and reverts the pause."""
    controller, report = run_controller("run-tree", "hang", ticker.pid)
    assert report["verified"] == [True, True]
    guards = [p for p in _all_pids() if "contval.chaos.guard" in proc.cmdline(p)]
    guard = next(p for p in guards if "run-tree" in proc.cmdline(p))
    tree = _descendants(controller.pid)
    assert guard not in tree
    assert os.getsid(guard) == guard and os.getpgid(guard) != os.getpgid(controller.pid)
    for pid in [controller.pid, *tree]:
        # a descendant may end by itself between the listing and the kill (the guard's
        # intermediate fork exits as it detaches): it is then no longer in the tree, as the
        # CI runner would find it
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    controller.wait(timeout=5)
    wait_for(lambda: proc.state_of(ticker.ref) not in ("T", None), 5, "SIGCONT from the guard")
    assert time.monotonic() - killed_at < 5
    wait_for(lambda: not Ledger().entries("run-tree"), 5, "the ledger to be empty")
    assert ticker.advancing()


def _all_pids() -> list[int]:
    return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit()]
