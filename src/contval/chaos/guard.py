"""The dead-man's switch: a process that reverts a run's faults if the controller dies.

The controller holds the only write end of a pipe; the guard, in its own session (so a
Ctrl-C or a kill of contval's process group does not reach it), blocks on the read end. The
kernel closes the write end however the controller ends, SIGKILL included, so EOF is the
heartbeat's absence without any timer. "done\\n" before EOF means a clean end: the controller
reverted everything itself and the guard leaves the ledger alone.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from contval.chaos.ledger import Ledger, LedgerEntry

DONE = b"done\n"
RETRY_FOR = 3.0


class Guard:
    """The controller's handle on its guard process."""

    def __init__(self, run_id: str, process: subprocess.Popen[bytes], write_fd: int) -> None:
        self.run_id = run_id
        self.process = process
        self._fd: int | None = write_fd

    @property
    def pid(self) -> int:
        return self.process.pid

    def done(self, timeout: float = 5.0) -> None:
        """Tell the guard the run ended cleanly, and reap it."""
        if self._fd is not None:
            with contextlib.suppress(BrokenPipeError):
                os.write(self._fd, DONE)
            os.close(self._fd)
            self._fd = None
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)


def start_guard(run_id: str, ledger: Ledger | None = None) -> Guard:
    """Spawn the guard for run_id over ledger's directory; call Guard.done() at a clean end."""
    ledger = ledger or Ledger()
    read_fd, write_fd = os.pipe()  # both non-inheritable: no other child keeps the write end
    log_dir = ledger.dir.parent / "guard"
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{run_id}.log").open("ab") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "contval.chaos.guard", "--run-id", run_id),
                *("--fd", str(read_fd), "--ledger", str(ledger.dir)),
            ],
            pass_fds=(read_fd,),
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    os.close(read_fd)
    return Guard(run_id, process, write_fd)


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
    parser.add_argument("--ledger", type=Path, default=None)
    args = parser.parse_args(argv)
    ledger = Ledger(args.ledger)
    if wait_for_end(args.fd):
        return 0
    _log(f"controller of run {args.run_id} died: reverting its faults")
    left = revert_run(ledger, args.run_id)
    if left:
        _log(f"{len(left)} fault(s) not confirmed reverted; run `contval recover`")
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
