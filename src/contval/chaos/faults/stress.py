"""The shared shape of host faults held by a stress-ng child (`cpu`, `memory`).

The fault is a process, so it dies with its owner: stress-ng runs in its own process group
(so revert can kill its workers too), gets PR_SET_PDEATHSIG so it ends when the spawning
thread of contval dies, and has a --timeout of the fault's duration plus a margin so it ends
on its own even if everything else failed. The ledger records the group leader's PID and
starttime; a PID reused since is never signalled.

PR_SET_PDEATHSIG is set by a tiny single-threaded launcher (LAUNCHER below) that then execs
stress-ng, never by a `preexec_fn`: CPython documents preexec_fn as unsafe in a threaded
parent (contval runs the chaos timeline, lease renewals and metric collection on threads), and
calling ctypes between fork and exec there can deadlock on a lock another thread held.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

from contval.chaos import proc
from contval.chaos.faults.base import FaultError, Verification

INSTALL_HINT = "stress-ng is not installed: `apt-get install stress-ng` (Debian/Ubuntu)"

LAUNCHER = """
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit(75)  # the parent died before prctl: nobody would ever signal us
os.execv(sys.argv[2], sys.argv[2:])
"""
"""Runs as its own process (single-threaded, so ctypes is safe there): ask for SIGTERM when
the parent thread dies, make sure the parent did not die already, then become stress-ng. The
death signal survives exec (stress-ng is not setuid)."""


def launcher(command: list[str]) -> list[str]:
    """`command` run through LAUNCHER, so it gets SIGTERM when the calling thread ends."""
    return [sys.executable, "-I", "-S", "-c", LAUNCHER, str(os.getpid()), *command]


def stress_ng() -> str:
    """The stress-ng binary, or a FaultError that says how to install it."""
    path = shutil.which("stress-ng")
    if path is None:
        raise FaultError(INSTALL_HINT)
    return path


@dataclass(kw_only=True, eq=False)
class StressFault:
    """Base of stress-ng faults: subclasses give the stressor arguments and the worker count.

    duration is the planned `for` of the fault in seconds; stress-ng stops by itself after
    duration + margin. PR_SET_PDEATHSIG follows the *thread* that spawned the child: inject
    from a thread that lives as long as the fault (the main thread, or the timeline's).
    """

    type_name: ClassVar[str] = ""
    duration: float
    margin: float = 10.0
    start_wait: float = 3.0
    _child: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _ref: proc.ProcessRef | None = field(default=None, init=False)
    _log: IO[bytes] | None = field(default=None, init=False)

    def stressor_args(self) -> list[str]:
        raise NotImplementedError

    def worker_processes(self) -> int:
        """Processes stress-ng runs besides its parent once the fault bites."""
        raise NotImplementedError

    def command(self) -> list[str]:
        timeout = max(1, round(self.duration + self.margin))
        return [stress_ng(), *self.stressor_args(), "--timeout", f"{timeout}s", "--quiet"]

    def undo(self) -> dict[str, Any]:
        ref = self._ref
        return {
            "kind": "kill",
            "pid": ref.pid if ref else None,
            "starttime": ref.starttime if ref else None,
            "what": "stress-ng process group",
        }

    def inject(self) -> None:
        command = self.command()
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child
        self._child = subprocess.Popen(
            launcher(command),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            process_group=0,
        )
        try:
            self._ref = proc.ref_of(self._child.pid)
        except proc.TargetError:
            raise FaultError(f"stress-ng exited at once: {self._output()}") from None

    def renew(self) -> None:
        """stress-ng holds the fault itself until its timeout: nothing to renew."""

    def verify(self) -> Verification:
        ref = self._ref
        if ref is None:
            return Verification(False, "stress-ng was not started")
        # The fault bites once the workers run, not when the parent forks them.
        want = self.worker_processes() + 1
        proc.wait_until(lambda: len(proc.group_members(ref.pid)) >= want, self.start_wait)
        alive, members = proc.is_alive(ref), proc.group_members(ref.pid)
        if alive and "stress-ng" in proc.cmdline(ref.pid) and len(members) >= want:
            return Verification(
                True, f"stress-ng PID {ref.pid} runs with {len(members) - 1} worker process(es)"
            )
        return Verification(
            False, f"stress-ng PID {ref.pid} has {len(members)} process(es): {self._output()}"
        )

    def revert(self) -> None:
        if self._ref is not None:
            proc.kill_group(self._ref)
        if self._child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._child.wait(timeout=2)
        if self._log is not None:
            self._log.close()
            self._log = None

    def verify_reverted(self) -> Verification:
        ref = self._ref
        if ref is None:
            return Verification(True, "stress-ng was never started")
        left = proc.group_members(ref.pid)
        if left:
            pids = " ".join(map(str, left))
            return Verification(False, f"stress-ng still runs: {pids} (kill -KILL -- -{ref.pid})")
        return Verification(True, f"no stress-ng left in process group {ref.pid}")

    def _output(self) -> str:
        if self._log is None:
            return "(no output)"
        self._log.seek(0)
        text = self._log.read()[-500:].decode(errors="replace").strip()
        return text or "(no output)"
