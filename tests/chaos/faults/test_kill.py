"""kill against real processes: a Python child, and the reference shop's supervised worker."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from contval.chaos import proc
from contval.chaos.faults.base import FaultError, Verification
from contval.chaos.faults.kill import KillFault, parse_signal
from tests.chaos.faults.helpers import Ticker
from tests.contoso_shoes.conftest import System, start_system, stop_system


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    system = start_system(tmp_path_factory.mktemp("shop"))
    yield system
    stop_system(system)


def test_sigkill_by_pidfile_then_honest_no_restart(ticker: Ticker, tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    pidfile.write_text(f"{ticker.pid}\n")
    fault = KillFault(target=proc.ProcessTarget(pidfile=pidfile), restart_wait=0.3)
    assert fault.undo()["kind"] == "noop"
    fault.inject()
    verified = fault.verify()
    assert verified == proc_gone(ticker.pid, "SIGKILL")
    assert ticker.process.wait(timeout=5) == -signal.SIGKILL
    fault.revert()
    reverted = fault.verify_reverted()
    assert reverted.ok
    assert reverted.detail.startswith("not restarted within 0.3s: nothing to revert")


def proc_gone(pid: int, name: str) -> Verification:
    return Verification(True, f"PID {pid} is gone after {name}")


def test_sigterm_by_match(tmp_path: Path) -> None:
    tag = f"contval-kill-test-{uuid.uuid4().hex}"
    child = Ticker(tmp_path, tag)
    try:
        fault = KillFault(target=proc.ProcessTarget(match=tag), signal="TERM")
        fault.inject()
        assert fault.verify() == proc_gone(child.pid, "SIGTERM")
        assert child.process.wait(timeout=5) == -signal.SIGTERM
    finally:
        child.stop()


def test_match_must_be_unique(tmp_path: Path) -> None:
    tag = f"contval-twice-{uuid.uuid4().hex}"
    # Each ticker ticks into its own file, so both are awaited until they really run (the
    # second used to share the first's file and could be matched before it had started).
    (tmp_path / "second").mkdir()
    children = [Ticker(tmp_path, tag), Ticker(tmp_path / "second", tag)]
    try:
        fault = KillFault(target=proc.ProcessTarget(match=tag))
        with pytest.raises(FaultError, match=f"kill: 2 processes match '{tag}'"):
            fault.inject()
        assert all(proc.is_alive(child.ref) for child in children)
        with pytest.raises(FaultError, match=f"kill: 0 processes match '{tag}x'"):
            KillFault(target=proc.ProcessTarget(match=tag + "x")).inject()
    finally:
        for child in children:
            child.stop()


def test_non_fatal_signal_is_verified_as_delivered(tmp_path: Path) -> None:
    marker = tmp_path / "got-usr1"
    code = (
        "import signal, sys, time, pathlib\n"
        "signal.signal(signal.SIGUSR1, lambda *a: pathlib.Path(sys.argv[1]).write_text('yes'))\n"
        "print('ready', flush=True)\n"
        "while True: time.sleep(0.02)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(marker)], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        pidfile = tmp_path / "c.pid"
        pidfile.write_text(str(child.pid))
        fault = KillFault(target=proc.ProcessTarget(pidfile=pidfile), signal=signal.SIGUSR1)
        fault.inject()
        assert fault.verify().detail == f"SIGUSR1 delivered to PID {child.pid}"
        assert proc.wait_until(marker.exists, 5)
        assert marker.read_text() == "yes"
        assert fault.verify_reverted().detail == f"PID {child.pid} still runs (SIGUSR1)"
    finally:
        child.kill()
        child.wait()


def test_target_errors_are_clear(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_text('{"worker": {"pid": null}}')
    target = proc.ProcessTarget(state_file=state, key="worker")
    with pytest.raises(FaultError, match=r"worker.pid is None, not a running process"):
        KillFault(target=target).inject()
    with pytest.raises(FaultError, match=r"pidfile .*missing.pid: No such file"):
        KillFault(target=proc.ProcessTarget(pidfile=tmp_path / "missing.pid")).inject()
    with pytest.raises(ValueError, match="exactly one of pidfile, state_file, match"):
        proc.ProcessTarget()
    assert parse_signal("kill") == signal.SIGKILL == parse_signal(9)
    with pytest.raises(ValueError, match="unknown signal 'SIGNOPE'"):
        parse_signal("SIGNOPE")


def test_kill_the_shop_worker_and_its_supervisor_restarts_it(shop: System) -> None:
    old = shop.pid("worker")
    fault = KillFault(target=proc.ProcessTarget(state_file=shop.dir / "state.json", key="worker"))
    fault.inject()
    assert fault.verify() == proc_gone(old, "SIGKILL")
    fault.revert()
    reverted = fault.verify_reverted()
    new = shop.pid("worker")
    assert new != old
    assert reverted.ok
    assert reverted.detail == f"restarted by its supervisor: PID {new} runs"
    assert shop.state["worker"]["restarts"] >= 1
