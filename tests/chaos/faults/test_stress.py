"""cpu and memory with the real stress-ng: it runs, it is verified, revert leaves nothing."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contval.chaos import proc
from contval.chaos.faults.base import FaultError
from contval.chaos.faults.cpu import CpuFault
from contval.chaos.faults.memory import MemoryFault
from contval.chaos.faults.stress import StressFault, stress_ng
from tests.chaos.faults.helpers import wait_for

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


THREADED_PARENT = """
import json, sys, threading, time
from contval.chaos.faults.cpu import CpuFault

def spin():
    while True:
        sum(range(1000))
        time.sleep(0.001)

for _ in range(3):  # a threaded parent, like contval's (timeline, leases, metrics)
    threading.Thread(target=spin, daemon=True).start()
fault = CpuFault(load=0.2, workers=1, duration=60)
injected = threading.Event()

def owner():  # PR_SET_PDEATHSIG follows this thread: it lives as long as the fault
    fault.inject()
    injected.set()
    threading.Event().wait()

threading.Thread(target=owner, daemon=True).start()
injected.wait(10)
print(json.dumps(fault.undo()), flush=True)
time.sleep(600)
"""


def test_sigkill_of_a_threaded_parent_ends_stress_ng() -> None:
    """No guard here: the death signal alone (set by the launcher, not a preexec_fn) ends
    stress-ng well before its own --timeout (60 s + margin)."""
    parent = subprocess.Popen(
        [sys.executable, "-c", THREADED_PARENT],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[3] / "src")},
    )
    try:
        assert parent.stdout is not None
        undo = json.loads(parent.stdout.readline())
        ref = proc.ProcessRef(undo["pid"], undo["starttime"])
        assert wait_for(lambda: len(proc.group_members(ref.pid)) >= 2, 5, "stress-ng workers")
        assert "stress-ng" in proc.cmdline(ref.pid)
        parent.kill()
        parent.wait(timeout=5)
        killed_at = time.monotonic()
        wait_for(lambda: not proc.group_members(ref.pid), 5, "stress-ng to end with its parent")
        assert time.monotonic() - killed_at < 5
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=5)


def _preexec_calls(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and any(k.arg == "preexec_fn" for k in node.keywords):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_no_preexec_fn_anywhere_in_src() -> None:
    """preexec_fn is unsafe in a threaded parent (CPython's subprocess docs); contval is one."""
    assert _preexec_calls(Path(__file__).parents[3] / "src") == []
