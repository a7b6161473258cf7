"""`up --detach` and `down`: start the supervisor in the background, and stop it by its PID.

Only processes this system started are ever signalled: a PID from state.json is signalled only
if its command line is one of ours, so a reused PID is never hit.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def read_state(directory: Path) -> dict[str, Any] | None:
    try:
        state = json.loads((directory / "state.json").read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def is_ours(pid: int | None) -> bool:
    """Is `pid` alive and running contoso_shoes (not a stranger that reused the PID)?"""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    zombie = stat.rpartition(")")[2].split()[0] == "Z"
    return not zombie and b"contoso_shoes" in cmdline


def running_supervisor(directory: Path) -> int | None:
    state = read_state(directory)
    if state is None:
        return None
    pid = state.get("supervisor", {}).get("pid")
    return (
        pid if isinstance(pid, int) and is_ours(pid) and state.get("status") != "stopped" else None
    )


def start_detached(argv: list[str], directory: Path, timeout: float) -> dict[str, Any]:
    """Start `up` (without --detach) in a new session and wait until it reports healthy."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "logs").mkdir(exist_ok=True)
    state_path = directory / "state.json"
    state_path.unlink(missing_ok=True)
    with open(directory / "logs" / "supervisor.log", "a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "contoso_shoes", *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = read_state(directory)
        if state and state.get("status") == "healthy":
            return state
        if proc.poll() is not None:
            log_tail = (directory / "logs" / "supervisor.log").read_text()[-2000:]
            raise RuntimeError(f"the supervisor exited with code {proc.returncode}:\n{log_tail}")
        time.sleep(0.05)
    stop_pid(proc.pid, 10.0)
    raise RuntimeError(f"the system was not healthy within {timeout:g}s; see {directory}/logs")


def stop_pid(pid: int, timeout: float) -> bool:
    """SIGTERM, wait up to `timeout`, then SIGKILL. True if it stopped on SIGTERM."""
    if not is_ours(pid):
        return True
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_ours(pid):
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return False


def down(directory: Path, timeout: float = 15.0) -> list[str]:
    """Stop the supervisor, then any service it left behind. Returns what was done."""
    state = read_state(directory)
    if state is None:
        return [f"nothing to stop: no state.json in {directory}"]
    done: list[str] = []
    pid = state.get("supervisor", {}).get("pid")
    if isinstance(pid, int) and is_ours(pid):
        clean = stop_pid(pid, timeout)
        done.append(f"supervisor {pid} stopped" + ("" if clean else " (killed)"))
    for name in ("shop", "payments", "worker"):
        child = state.get(name, {}).get("pid")
        if isinstance(child, int) and is_ours(child):
            os.kill(child, signal.SIGKILL)
            done.append(f"{name} {child} killed (left behind)")
    if not done:
        done.append("nothing was running")
    return done
