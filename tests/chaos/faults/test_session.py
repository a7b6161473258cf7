"""FaultSession: records, lease renewal, reverse-order revert on exit and on exceptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from contval.chaos import proc
from contval.chaos.faults.cpu import CpuFault
from contval.chaos.faults.latency import LatencyFault
from contval.chaos.faults.pause import PauseFault
from contval.chaos.faults.reset import ResetFault
from contval.chaos.faults.toxic import ProxyLink
from contval.chaos.ledger import Ledger
from contval.chaos.session import FaultSession
from tests.chaos.faults.helpers import FakeProxyControl, Ticker


class Boom(Exception):
    pass


def test_records_and_revert_in_reverse_order(fake_proxy: FakeProxyControl, ticker: Ticker) -> None:
    clock = iter(range(100, 200)).__next__
    link = ProxyLink("l", fake_proxy.control)
    with FaultSession("run-s", guard=False, clock=lambda: float(clock())) as session:
        slow = session.inject("slow", LatencyFault(link=link, delay=0.2), target="l")
        freeze = session.inject(
            "freeze", PauseFault(target=proc.ProcessTarget(match=str(ticker.file))), target="t"
        )
        assert (slow.injected_at, slow.verified, slow.reverted_at) == (100.0, True, None)
        assert freeze.verified and freeze.verify_detail.endswith("is stopped (state T)")
        assert [r.active for r in session.records] == [True, True]
        assert len(Ledger().entries("run-s")) == 2
    order = [(m, p) for m, p, _ in fake_proxy.requests if m == "DELETE"]
    assert len(order) == 1
    slow, freeze = session.records
    assert freeze.reverted_at is not None and slow.reverted_at is not None
    assert freeze.reverted_at < slow.reverted_at  # newest first
    assert (slow.reverted_ok, freeze.reverted_ok) == (True, True)
    assert freeze.detail.startswith(f"PID {ticker.pid} runs again")
    assert session.all_reverted
    assert Ledger().entries() == []


def test_exception_inside_the_session_still_reverts(ticker: Ticker) -> None:
    target = proc.ProcessTarget(match=str(ticker.file))
    with pytest.raises(Boom), FaultSession("run-x", guard=False) as session:
        session.inject("freeze", PauseFault(target=target))
        raise Boom
    assert proc.state_of(ticker.ref) != "T"
    assert session.records[0].reverted_ok is True
    assert Ledger().entries() == []


def test_tick_renews_leases_and_reports_a_lapsed_one(fake_proxy: FakeProxyControl) -> None:
    link = ProxyLink("l", fake_proxy.control)
    with FaultSession("run-t", guard=False) as session:
        fault = ResetFault(link=link, lease=5.0)
        session.inject("down", fault)
        assert session.tick() == []
        assert fake_proxy.requests[-1][:2] == ("POST", f"/links/l/toxics/{fault.toxic_id}/renew")
        fake_proxy.toxics["l"].clear()
        [problem] = session.tick()
        assert problem.startswith(f"down: toxic {fault.toxic_id} on l is gone: its lease lapsed")
        reverted = session.revert("down")
        assert reverted.reverted_ok is True
        assert reverted.error is not None and "lease lapsed" in reverted.error
    assert session.all_reverted


def test_failed_inject_raises_and_is_reverted_on_exit(
    fake_proxy: FakeProxyControl, stress_ng_installed: None
) -> None:
    with (
        pytest.raises(Exception, match="HTTP 404: 'no link nope'"),
        FaultSession("run-f", guard=False) as session,
    ):
        session.inject("cpu", CpuFault(workers=1, load=0.2, duration=1))
        session.inject("down", ResetFault(link=ProxyLink("nope", fake_proxy.control)))
    cpu, down = session.records
    assert down.error is not None and down.error.startswith("inject failed:")
    assert (cpu.reverted_ok, down.reverted_ok) == (True, True)
    assert cpu.detail.startswith("no stress-ng left in process group")
    assert Ledger().entries() == []


def test_the_same_fault_twice_at_once_is_refused(ticker: Ticker, tmp_path: Path) -> None:
    target = proc.ProcessTarget(match=str(ticker.file))
    with FaultSession("run-d", guard=False) as session:
        session.inject("freeze", PauseFault(target=target))
        with pytest.raises(ValueError, match="fault 'freeze' is already active"):
            session.inject("freeze", PauseFault(target=target))
        session.revert("freeze")
        again = session.inject("freeze", PauseFault(target=target))
        assert again.verified
    assert [r.reverted_ok for r in session.records] == [True, True]
