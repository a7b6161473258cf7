"""Process helpers for faults on processes: /proc reads, PID+starttime identity, target lookup.

A PID alone is not an identity: the kernel reuses PIDs, so every signal contval sends after the
moment it looked a process up is guarded by the process's /proc starttime (clock ticks since
boot), and a mismatch means "not ours any more, leave it alone". Zombies count as dead: nobody
reaps them in some containers, and a zombie holds no CPU, memory or locks.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class TargetError(Exception):
    """A process target could not be resolved to exactly one running process."""


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/PID/stat that fault handling needs."""

    pid: int
    state: str
    pgrp: int
    starttime: int


@dataclass(frozen=True)
class ProcessRef:
    """A process identity that survives PID reuse: the PID plus its starttime."""

    pid: int
    starttime: int


def read_stat(pid: int) -> ProcStat | None:
    """Parse /proc/PID/stat; None when the process does not exist (any more)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm may contain spaces and parentheses: the fields start after the last ')'.
    fields = text.rpartition(")")[2].split()
    return ProcStat(pid=pid, state=fields[0], pgrp=int(fields[2]), starttime=int(fields[19]))


def ref_of(pid: int) -> ProcessRef:
    """Pin a live PID to its identity now, before anything else can happen to it."""
    stat = read_stat(pid)
    if stat is None or stat.state in ("Z", "X"):
        raise TargetError(f"process {pid} is not running")
    return ProcessRef(pid, stat.starttime)


def is_alive(ref: ProcessRef) -> bool:
    """True while this very process (not a later one with the same PID) runs or is stopped."""
    stat = read_stat(ref.pid)
    return stat is not None and stat.starttime == ref.starttime and stat.state not in ("Z", "X")


def state_of(ref: ProcessRef) -> str | None:
    """The process's one-letter state ('T' when stopped), None when it is gone or not ours."""
    stat = read_stat(ref.pid)
    if stat is None or stat.starttime != ref.starttime:
        return None
    return stat.state


def signal_if_same(ref: ProcessRef, sig: int) -> bool:
    """Send sig only if the PID still belongs to the same process; False when it does not."""
    if not is_alive(ref):
        return False
    try:
        os.kill(ref.pid, sig)
    except ProcessLookupError:
        return False
    return True


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group pgid.

    Linux never hands out a PID that is still some group's id, so members found here belong to
    the group contval created, even after its leader has died.
    """
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = read_stat(int(entry.name))
            if stat is not None and stat.pgrp == pgid and stat.state not in ("Z", "X"):
                members.append(stat.pid)
    return members


def kill_group(ref: ProcessRef, grace: float = 1.0) -> bool:
    """SIGTERM, then SIGKILL, the process group ref leads; True once no member is left.

    Does nothing if the leader's PID was reused by an unrelated process (starttime differs).
    """
    stat = read_stat(ref.pid)
    if stat is not None and stat.starttime != ref.starttime:
        # The PID was reused, which the kernel only allows once our group had no member left.
        return True
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 2.0)):
        if not group_members(ref.pid):
            return True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(ref.pid, sig)
        if wait_until(lambda: not group_members(ref.pid), wait):
            return True
    return not group_members(ref.pid)


def wait_until(predicate: Callable[[], T], timeout: float, every: float = 0.05) -> T | None:
    """Poll state contval cannot get an event for (another process's); the last value or None."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(every)


def cmdline(pid: int) -> str:
    """The process's command line with NULs as spaces ('' for kernel threads or gone PIDs)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


@dataclass(frozen=True)
class ProcessTarget:
    """Where to find a process: exactly one of pidfile, state_file (+ key), or match."""

    pidfile: Path | None = None
    state_file: Path | None = None
    key: str | None = None
    match: str | None = None

    def __post_init__(self) -> None:
        given = [v for v in (self.pidfile, self.state_file, self.match) if v is not None]
        if len(given) != 1:
            raise ValueError("a process target needs exactly one of pidfile, state_file, match")
        if self.state_file is not None and not self.key:
            raise ValueError("a state_file process target needs a key")

    def describe(self) -> str:
        """How the target is found, for messages."""
        if self.pidfile is not None:
            return f"pidfile {self.pidfile}"
        if self.state_file is not None:
            return f"{self.state_file} [{self.key}]"
        return f"process matching {self.match!r}"


def resolve(target: ProcessTarget) -> ProcessRef:
    """The one running process the target names now; TargetError saying why otherwise."""
    if target.pidfile is not None:
        pid = _read_pidfile(target.pidfile)
    elif target.state_file is not None:
        pid = _read_state_file(target.state_file, str(target.key))
    else:
        pid = _match_one(str(target.match))
    try:
        return ref_of(pid)
    except TargetError:
        raise TargetError(f"{target.describe()}: PID {pid} is not running") from None


def _read_pidfile(path: Path) -> int:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise TargetError(f"pidfile {path}: {exc.strerror or exc}") from None
    if not text.isdigit():
        raise TargetError(f"pidfile {path} does not hold a PID: {text[:40]!r}")
    return int(text)


def _read_state_file(path: Path, key: str) -> int:
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise TargetError(f"state file {path}: {exc}") from None
    entry = state.get(key) if isinstance(state, dict) else None
    pid = entry.get("pid") if isinstance(entry, dict) else None
    if not isinstance(pid, int) or isinstance(pid, bool):
        raise TargetError(f"state file {path}: {key}.pid is {pid!r}, not a running process")
    return pid


def _match_one(match: str) -> int:
    me = os.getpid()
    found = [
        int(entry.name)
        for entry in Path("/proc").iterdir()
        if entry.name.isdigit() and int(entry.name) != me and match in cmdline(int(entry.name))
    ]
    found = [pid for pid in found if (s := read_stat(pid)) is not None and s.state != "Z"]
    if len(found) != 1:
        listed = ", ".join(str(p) for p in sorted(found)[:5]) or "none"
        raise TargetError(
            f"{len(found)} processes match {match!r} (need exactly one): {listed}; "
            "use a more specific match, a pidfile or a state_file"
        )
    return found[0]
