"""cpu and memory with the real stress-ng: it runs, it is verified, revert leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from contval.chaos import proc
from contval.chaos.faults.base import FaultError
from contval.chaos.faults.cpu import CpuFault
from contval.chaos.faults.memory import MemoryFault
from contval.chaos.faults.stress import StressFault, stress_ng

pytestmark = pytest.mark.usefixtures("stress_ng_installed")


def run_once(fault: StressFault, workers: int) -> proc.ProcessRef:
    fault.inject()
    undo = fault.undo()
    assert undo["kind"] == "kill"
    ref = proc.ProcessRef(undo["pid"], undo["starttime"])
    assert proc.is_alive(ref)
    try:
        verified = fault.verify()
        assert verified.ok, verified.detail
        # stress-ng's vm worker forks a child of its own to survive the OOM killer.
        assert verified.detail == f"stress-ng PID {ref.pid} runs with {workers} worker process(es)"
        assert "stress-ng" in proc.cmdline(ref.pid)
    finally:
        fault.revert()
    reverted = fault.verify_reverted()
    assert reverted.ok, reverted.detail
    assert reverted.detail == f"no stress-ng left in process group {ref.pid}"
    assert proc.group_members(ref.pid) == []
    assert not proc.is_alive(ref)
    return ref


def test_cpu() -> None:
    fault = CpuFault(load=0.5, workers=1, duration=1.0)
    assert fault.command()[1:] == [
        *("--cpu", "1", "--cpu-load", "50", "--timeout", "11s", "--quiet"),
    ]
    assert fault.undo() == {
        "kind": "kill",
        "pid": None,
        "starttime": None,
        "what": "stress-ng process group",
    }
    run_once(fault, workers=1)


def test_memory() -> None:
    fault = MemoryFault(size=16 * 1024 * 1024, duration=1.0, margin=1.0)
    assert fault.command()[1:] == [
        *("--vm", "1", "--vm-bytes", "16777216b", "--vm-keep", "--timeout", "2s", "--quiet"),
    ]
    run_once(fault, workers=2)


def test_revert_without_inject_is_harmless() -> None:
    fault = CpuFault(workers=1, duration=1.0)
    fault.revert()
    assert fault.verify_reverted().detail == "stress-ng was never started"
    assert not fault.verify().ok


def test_missing_stress_ng_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FaultError, match=r"`apt-get install stress-ng`"):
        stress_ng()
    with pytest.raises(FaultError, match="stress-ng is not installed"):
        CpuFault(workers=1, duration=1.0).inject()


def test_bad_parameters() -> None:
    with pytest.raises(ValueError, match=r"load must be within \(0, 1\]"):
        CpuFault(load=0, duration=1)
    with pytest.raises(ValueError, match="size must be at least 4096 bytes"):
        MemoryFault(size=10, duration=1)
