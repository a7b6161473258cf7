"""netem on this machine: the kernel has no netem qdisc, so the fault is a clear skip."""

from __future__ import annotations

import pytest

from contval.chaos.faults.base import FaultSkipped
from contval.chaos.faults.netem import NetemFault, has_netem
from contval.chaos.ledger import Ledger
from contval.chaos.session import FaultSession


def test_command_and_undo() -> None:
    fault = NetemFault(loss=0.05, delay=0.05, jitter=0.01)
    assert fault.command() == [
        *("tc", "qdisc", "add", "dev", "lo", "root", "netem"),
        *("delay", "50ms", "10ms", "loss", "5%"),
    ]
    assert fault.undo() == {
        "kind": "tc",
        "dev": "lo",
        "command": ["tc", "qdisc", "del", "dev", "lo", "root"],
    }
    with pytest.raises(ValueError, match="netem needs loss or delay"):
        NetemFault()


def test_skipped_with_a_clear_message_and_nothing_left() -> None:
    fault = NetemFault(loss=0.05, delay=0.05)
    try:
        fault.inject()
    except FaultSkipped as skip:
        assert str(skip) == (
            "netem skipped: this kernel has no netem qdisc (tc: Specified qdisc kind is unknown;"
            " load sch_netem or use the fault proxy's latency/reset faults)"
        )
    else:  # a kernel with netem: the real path must hold too
        try:
            assert fault.verify().ok
        finally:
            fault.revert()
    assert fault.verify_reverted().ok
    assert not has_netem("lo")


def test_a_skip_is_a_distinct_session_outcome() -> None:
    ledger = Ledger()
    with FaultSession("netem-run", ledger=ledger, guard=False) as session:
        record = session.inject("lossy", NetemFault(loss=0.05), target="host")
        if not record.skipped:
            pytest.skip("this kernel has netem; the skip path does not run here")
        assert record.skipped
        assert record.detail.startswith("netem skipped: this kernel has no netem qdisc")
        assert record.injected_at is None
        assert record.error is None
        assert ledger.entries() == []
    assert session.all_reverted
    assert session.records == [record]
