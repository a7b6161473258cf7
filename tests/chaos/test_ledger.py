"""The ledger: written before inject, gone after revert, and `recover` for what a crash left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import pytest

from contval.chaos import proc
from contval.chaos.faults.base import Verification
from contval.chaos.faults.pause import PauseFault
from contval.chaos.ledger import Ledger, LedgerEntry, default_dir, recover, revert_entry
from contval.chaos.recover import main as recover_main
from contval.chaos.session import FaultSession
from tests.chaos.faults.helpers import (
    Ticker,
    dead_pid,
    state_dir,
    stress_ng_installed,
    ticker,
)
from tests.chaos.test_guard import _kill_leftover_controllers, run_controller

__all__ = ["_kill_leftover_controllers", "state_dir", "stress_ng_installed", "ticker"]


def left_behind(ledger: Ledger, fault: str, undo: Mapping[str, Any]) -> LedgerEntry:
    """An entry as a controller that has since died would have left it."""
    dead = dead_pid()
    entry = ledger.write("crashed-run", fault, "test", "t", undo)
    entry = replace(entry, controller_pid=dead.pid, controller_starttime=dead.starttime)
    (ledger.dir / f"{entry.id}.json").write_text(json.dumps(asdict(entry)))
    return entry


class SpyPause(PauseFault):
    """Records what the ledger held at the moment of inject."""

    seen: list[LedgerEntry]

    def inject(self) -> None:
        self.seen = Ledger().entries()
        super().inject()


def test_default_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert default_dir() == Path(os.environ["CONTVAL_STATE_DIR"]) / "ledger"
    monkeypatch.delenv("CONTVAL_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_dir() == tmp_path / "xdg" / "contval" / "ledger"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_dir() == tmp_path / "home" / ".local" / "state" / "contval" / "ledger"


def test_entry_written_before_inject_and_removed_after_revert(ticker: Ticker) -> None:
    ledger = Ledger()
    spy = SpyPause(target=proc.ProcessTarget(match=str(ticker.file)))
    with FaultSession("run-1", ledger=ledger, guard=False) as session:
        session.inject("freeze", spy, target="ticker")
        [entry] = spy.seen
        assert entry.run_id == "run-1"
        assert (entry.fault, entry.type, entry.target) == ("freeze", "pause", "ticker")
        assert entry.controller_pid == os.getpid()
        assert dict(entry.undo) == {
            "kind": "sigcont",
            "pid": ticker.pid,
            "starttime": ticker.ref.starttime,
        }
        on_disk = json.loads((ledger.dir / f"{entry.id}.json").read_text())
        assert on_disk["undo"]["pid"] == ticker.pid
        assert ledger.entries() == [entry]
    assert ledger.entries() == []
    assert list(ledger.dir.iterdir()) == []


def test_recover_resumes_a_paused_process_left_by_a_crash(ticker: Ticker) -> None:
    controller, report = run_controller("run-c", "crash", ticker.pid)
    assert controller.wait(timeout=10) == 0
    assert report["verified"] == [True]
    assert proc.state_of(ticker.ref) == "T"
    assert not ticker.advancing(within=0.2)
    [result] = recover()
    assert result.ok
    assert result.detail == f"SIGCONT sent to PID {ticker.pid}: it runs again"
    assert ticker.advancing()
    assert Ledger().entries() == []
    assert recover() == []


def test_recover_kills_a_left_behind_stress_ng(stress_ng_installed: None) -> None:
    child = subprocess.Popen(
        ["stress-ng", "--cpu", "1", "--cpu-load", "20", "--timeout", "30s", "--quiet"],
        process_group=0,
    )
    ref = proc.ref_of(child.pid)
    try:
        assert proc.wait_until(lambda: len(proc.group_members(ref.pid)) == 2, 5)
        ledger = Ledger()
        left_behind(ledger, "cpu", {"kind": "kill", "pid": ref.pid, "starttime": ref.starttime})
        [result] = recover()
        assert result.ok
        assert result.detail == f"no process left in stress-ng process group {ref.pid}"
        child.wait(timeout=5)  # ended long before its own 30 s timeout
        assert proc.group_members(ref.pid) == []
        assert ledger.entries() == []
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def test_pid_reuse_is_never_signalled(ticker: Ticker) -> None:
    ledger = Ledger()
    wrong = ticker.ref.starttime - 1
    os.kill(ticker.pid, signal.SIGSTOP)
    try:
        entry = left_behind(
            ledger, "freeze", {"kind": "sigcont", "pid": ticker.pid, "starttime": wrong}
        )
        result = revert_entry(entry)
        assert result.ok
        assert result.detail == f"PID {ticker.pid} is gone or reused: nothing left stopped"
        assert proc.state_of(ticker.ref) == "T"  # not ours to resume
        killer = left_behind(ledger, "cpu", {"kind": "kill", "pid": ticker.pid, "starttime": wrong})
        assert revert_entry(killer).ok
        assert proc.is_alive(ticker.ref)  # not ours to kill
    finally:
        os.kill(ticker.pid, signal.SIGCONT)


def test_recover_leaves_live_runs_alone_unless_all(ticker: Ticker) -> None:
    ledger = Ledger()
    undo = {"kind": "noop", "reason": "a kill cannot be undone"}
    mine = ledger.write("live-run", "crash", "kill", "t", undo)
    assert recover() == []
    assert ledger.entries() == [mine]
    [result] = recover(all=True)
    assert result.ok and result.detail == "a kill cannot be undone"
    assert result.entry == mine
    assert ledger.entries() == []


def test_recover_main_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert recover_main([]) == 0
    assert capsys.readouterr().out.startswith("nothing to recover in ")
    ledger = Ledger()
    left_behind(ledger, "crash", {"kind": "noop", "reason": "supervised"})
    assert recover_main([]) == 0
    assert capsys.readouterr().out == ("reverted crash (test on t, run crashed-run): supervised\n")
    stuck = left_behind(ledger, "firewall", {"kind": "iptables", "rule": "-A INPUT -j DROP"})
    assert recover_main(["--all"]) == 4
    err = capsys.readouterr().err
    assert "NOT reverted firewall (test on t, run crashed-run): unknown undo kind 'iptables'" in err
    assert f"inspect and delete {stuck.id}.json in the ledger" in err
    assert err.endswith("1 fault(s) could not be confirmed reverted\n")
    assert ledger.entries() == [stuck]


def test_verification_is_a_value() -> None:
    assert Verification(True, "x") == Verification(True, "x")
