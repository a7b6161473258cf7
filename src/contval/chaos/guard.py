"""The dead-man's switch: a process that reverts a run's faults if the controller dies.

The controller holds the only write end of a pipe; the guard blocks on the read end. The
kernel closes the write end however the controller ends, SIGKILL included, so EOF is the
heartbeat's absence without any timer. "done\\n" before EOF means a clean end: the controller
reverted everything itself and the guard leaves the ledger alone.

The guard is detached (a double fork, then a session of its own): it is in no process group of
contval's, so a Ctrl-C or a kill of contval's whole group (a CI cancel) does not reach it, and
it is not a descendant of contval, so a runner that kills the process tree misses it too. Its
only tie to the controller is a second pipe it holds the write end of: EOF there tells the
controller the guard has exited, with its exit code written just before.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from contval.chaos.ledger import Ledger, LedgerEntry

DONE = b"done\n"
RETRY_FOR = 3.0
START_TIMEOUT = 30.0


class GuardError(RuntimeError):
    """The guard process could not be started: no fault may be applied without it."""


class Guard:
    """The controller's handle on its detached guard process."""

    def __init__(self, run_id: str, pid: int, write_fd: int, alive_fd: int) -> None:
        self.run_id = run_id
        self.pid = pid
        self.returncode: int | None = None
        self._fd: int | None = write_fd
        self._alive: int | None = alive_fd
        self._said = b""

    def done(self, timeout: float = 5.0) -> None:
        """Tell the guard the run ended cleanly, and wait for it to exit."""
        if self._fd is not None:
            with contextlib.suppress(BrokenPipeError):
                os.write(self._fd, DONE)
            os.close(self._fd)
            self._fd = None
        self.wait(timeout)

    def wait(self, timeout: float) -> int | None:
        """Wait up to timeout for the guard to exit; its exit code, None if it still runs."""
        deadline = time.monotonic() + timeout
        while self._alive is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._alive], [], [], left)[0]:
                return None
            chunk = os.read(self._alive, 64)
            self._said += chunk
            if not chunk:  # EOF: the guard has exited
                os.close(self._alive)
                self._alive = None
                code = self._said.strip()
                self.returncode = int(code) if code.lstrip(b"-").isdigit() else -1
        return self.returncode


def start_guard(run_id: str, ledger: Ledger | None = None) -> Guard:
    """Spawn the guard for run_id over ledger's directory; call Guard.done() at a clean end."""
    ledger = ledger or Ledger()
    read_fd, write_fd = os.pipe()  # both non-inheritable: no other child keeps the write end
    alive_read, alive_write = os.pipe()
    log_dir = ledger.dir.parent / "guard"
    log_dir.mkdir(parents=True, exist_ok=True)
    try:
        with (log_dir / f"{run_id}.log").open("ab") as log:
            launcher = subprocess.Popen(
                [
                    *(sys.executable, "-m", "contval.chaos.guard", "--run-id", run_id),
                    *("--fd", str(read_fd), "--alive-fd", str(alive_write)),
                    *("--ledger", str(ledger.dir), "--detach"),
                ],
                pass_fds=(read_fd, alive_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
            )
    finally:
        os.close(read_fd)
        os.close(alive_write)
    try:
        out, _ = launcher.communicate(timeout=START_TIMEOUT)
    except subprocess.TimeoutExpired:
        launcher.kill()
        out = b""
    if launcher.returncode != 0 or not out.strip().isdigit():
        os.close(write_fd)
        os.close(alive_read)
        raise GuardError(
            f"the guard did not start (exit {launcher.returncode}, said {out[:200]!r}); "
            f"see {log_dir / f'{run_id}.log'}"
        )
    return Guard(run_id, int(out.strip()), write_fd, alive_read)


def detach() -> None:
    """Fork; the parent prints the child's PID and exits, the child starts a new session.

    Runs first thing in a fresh interpreter (one thread), where fork is safe. The child's
    stdout becomes its stderr (the guard's log), which also closes the pipe the launcher's
    caller reads the PID from.
    """
    pid = os.fork()
    if pid:
        print(pid, flush=True)
        os._exit(0)
    os.setsid()
    os.dup2(2, 1)


def wait_for_end(fd: int) -> bool:
    """Block until EOF on fd; True when the controller said "done" first."""
    received = b""
    while chunk := os.read(fd, 64):
        received += chunk
    return DONE in received


def revert_run(ledger: Ledger, run_id: str, retry_for: float = RETRY_FOR) -> list[LedgerEntry]:
    """Revert every entry of the run, newest first, retrying briefly; the ones left over."""
    deadline = time.monotonic() + retry_for
    while True:
        left = []
        for entry in reversed(ledger.entries(run_id)):
            result = ledger.revert(entry)
            _log(f"{'reverted' if result.ok else 'NOT reverted'} {entry.fault}: {result.detail}")
            if not result.ok:
                left.append(entry)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.2)


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} guard[{os.getpid()}] {message}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contval.chaos.guard")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--alive-fd", type=int, default=None)
    parser.add_argument("--ledger", type=Path, default=None)
    parser.add_argument("--detach", action="store_true")
    args = parser.parse_args(argv)
    if args.detach:
        detach()
    code = guard(args.run_id, args.fd, Ledger(args.ledger))
    if args.alive_fd is not None:
        os.write(args.alive_fd, f"{code}\n".encode())
    return code


def guard(run_id: str, fd: int, ledger: Ledger) -> int:
    """Wait for the controller's end; revert its run's faults unless it said "done"."""
    if wait_for_end(fd):
        return 0
    _log(f"controller of run {run_id} died: reverting its faults")
    left = revert_run(ledger, run_id)
    if left:
        _log(f"{len(left)} fault(s) not confirmed reverted; run `contval recover`")
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
