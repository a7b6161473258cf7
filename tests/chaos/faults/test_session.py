"""FaultSession: records, lease renewal, reverse-order revert on exit and on exceptions."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from contval.chaos import proc
from contval.chaos.faults.cpu import CpuFault
from contval.chaos.faults.kill import KillFault
from contval.chaos.faults.latency import LatencyFault
from contval.chaos.faults.pause import PauseFault
from contval.chaos.faults.proxy_client import ProxyClient
from contval.chaos.faults.reset import ResetFault
from contval.chaos.faults.toxic import ProxyLink
from contval.chaos.ledger import Ledger
from contval.chaos.session import FaultRecord, FaultSession
from tests.chaos.faults.helpers import FakeProxyControl, RealProxy, Ticker


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
    with FaultSession("run-t", guard=False, renew_every=None) as session:
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


def test_a_slow_revert_never_holds_up_another_faults_lease(
    real_proxy: RealProxy, tmp_path: Path
) -> None:
    """A kill's revert waits restart_wait for a supervisor that never comes; meanwhile the
    toxic's 1.5 s lease (dropped by the real proxy within lease + 0.5 s) must stay renewed."""
    sleeper = subprocess.Popen(["sleep", "60"])
    pidfile = tmp_path / "sleeper.pid"
    pidfile.write_text(str(sleeper.pid))
    kill = KillFault(target=proc.ProcessTarget(pidfile=pidfile), restart_wait=4.0)
    slow = LatencyFault(link=ProxyLink("l", real_proxy.control), delay=0.05, lease=1.5)
    client = ProxyClient(real_proxy.control)
    try:
        with FaultSession("run-r", guard=False, renew_every=0.3) as session:
            assert session.inject("slow", slow).verified
            assert session.inject("kill", kill).verified
            started = time.monotonic()
            reverted = session.revert("kill")
            assert time.monotonic() - started >= 4.0  # the slow revert did happen
            assert reverted.detail.startswith("not restarted within 4s")
            assert [t["id"] for t in client.toxics("l")] == [slow.toxic_id]
            assert session.records[0].lapsed_at is None and session.records[0].error is None
    finally:
        sleeper.kill()
        sleeper.wait(timeout=5)
    assert client.toxics("l") == []


def test_a_lapse_is_reported_with_when_the_fault_was_last_in_effect(
    real_proxy: RealProxy,
) -> None:
    lapsed: list[FaultRecord] = []
    seen = threading.Event()

    def on_lapse(record: FaultRecord) -> None:
        lapsed.append(record)
        seen.set()

    slow = LatencyFault(link=ProxyLink("l", real_proxy.control), delay=0.05, lease=5.0)
    with FaultSession("run-l", guard=False, renew_every=0.2, on_lapse=on_lapse) as session:
        injected = session.inject("slow", slow)
        time.sleep(0.5)  # a few renewals land: the fault is confirmed in effect later on
        ProxyClient(real_proxy.control).delete("l", slow.toxic_id)  # the proxy loses it
        deleted_at = time.time()
        assert seen.wait(5), "the lease timer never noticed the toxic was gone"
        [record] = lapsed
        assert record.lapsed_at is not None and record.active_until is not None
        assert injected.injected_at is not None
        assert injected.injected_at <= record.active_until <= deleted_at
        assert deleted_at <= record.lapsed_at <= deleted_at + 3.0
        assert record.error is not None and "its lease lapsed" in record.error
        time.sleep(0.5)
        assert len(lapsed) == 1  # reported once; nothing renews a fault that is gone
        assert session.revert("slow").reverted_ok is True
    assert session.records[0].lapsed_at == record.lapsed_at
