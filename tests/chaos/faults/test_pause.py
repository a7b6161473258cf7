"""pause against real processes: a ticking child stops ticking, then ticks again."""

from __future__ import annotations

from pathlib import Path

from contval.chaos import proc
from contval.chaos.faults.pause import PauseFault
from tests.chaos.faults.helpers import Ticker
from tests.contoso_shoes.conftest import start_system, stop_system


def test_pause_then_resume(ticker: Ticker, tmp_path: Path) -> None:
    pidfile = tmp_path / "t.pid"
    pidfile.write_text(str(ticker.pid))
    fault = PauseFault(target=proc.ProcessTarget(pidfile=pidfile))
    assert fault.undo() == {
        "kind": "sigcont",
        "pid": ticker.pid,
        "starttime": ticker.ref.starttime,
    }
    fault.inject()
    verified = fault.verify()
    assert verified.ok
    assert verified.detail == f"PID {ticker.pid} is stopped (state T)"
    assert not ticker.advancing(within=0.3)
    fault.revert()
    reverted = fault.verify_reverted()
    assert reverted.ok
    assert reverted.detail.startswith(f"PID {ticker.pid} runs again (state ")
    assert ticker.advancing()


def test_revert_before_inject_touches_nothing(ticker: Ticker, tmp_path: Path) -> None:
    fault = PauseFault(target=proc.ProcessTarget(match=f"{ticker.file}"))
    fault.revert()
    assert fault.verify_reverted().detail == "nothing was paused"
    assert proc.state_of(ticker.ref) != "T"


def test_pause_the_shop_worker(tmp_path: Path) -> None:
    system = start_system(tmp_path / "shop")
    try:
        worker = system.pid("worker")
        target = proc.ProcessTarget(state_file=system.dir / "state.json", key="worker")
        fault = PauseFault(target=target)
        fault.inject()
        assert fault.verify().ok
        assert proc.state_of(proc.ref_of(worker)) == "T"
        fault.revert()
        assert fault.verify_reverted().ok
        assert proc.state_of(proc.ref_of(worker)) != "T"
        assert system.pid("worker") == worker  # a pause is not a crash: no restart
    finally:
        stop_system(system)
