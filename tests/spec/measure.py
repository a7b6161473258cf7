"""Run a command and measure that one process: exit code, output, wall time and peak RSS.

A child forked from a big test process starts with the parent's pages counted in its peak RSS
(and Linux keeps that peak across `exec`), so the command is started by a small launcher whose
`RUSAGE_CHILDREN` then covers exactly one process: the command.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

_LAUNCHER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:], check=False).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "open(sys.argv[1], 'w').write(str(peak))\n"
    "sys.exit(code)\n"
)


@dataclass(frozen=True)
class Measured:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float


def measure(args: list[str], timeout: float = 60.0) -> Measured:
    """Run `args` to completion (`subprocess.TimeoutExpired` past `timeout` seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "peak"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(peak), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        seconds = time.perf_counter() - started
        return Measured(
            done.returncode, done.stdout, done.stderr, seconds, int(peak.read_text()) / 1024
        )
