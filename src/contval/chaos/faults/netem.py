"""`netem`: packet loss and delay on a network device (loopback by default) with tc netem.

Kernel state outlives the process that set it, so this is the one fault that truly needs the
ledger: its undo record is the exact `tc qdisc del` command. Many kernels (this project's CI
machines included) are built without netem, and tc needs root; both cases are a skip, a
distinct outcome from a failure, reported with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any, ClassVar

from contval.chaos.faults.base import FaultError, FaultSkipped, Verification

NO_NETEM = "Specified qdisc kind is unknown"


def run_tc(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run tc with a short timeout; the caller judges the result."""
    return subprocess.run(args, capture_output=True, text=True, timeout=10)


def has_netem(dev: str) -> bool:
    """Whether `tc qdisc show dev DEV` lists a netem qdisc (our fault, or a stale one)."""
    if shutil.which("tc") is None:
        return False
    return " netem " in f" {run_tc(['tc', 'qdisc', 'show', 'dev', dev]).stdout} "


@dataclass(kw_only=True, eq=False)
class NetemFault:
    """loss as a fraction (0..1), delay and jitter in seconds, on dev's root qdisc."""

    type_name: ClassVar[str] = "netem"
    dev: str = "lo"
    loss: float = 0.0
    delay: float = 0.0
    jitter: float = 0.0
    _applied: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.loss <= 1.0:
            raise ValueError(f"loss must be within 0..1, got {self.loss}")
        if self.delay < 0 or self.jitter < 0:
            raise ValueError("delay and jitter must not be negative")
        if self.loss == 0 and self.delay == 0:
            raise ValueError("netem needs loss or delay")

    def command(self) -> list[str]:
        args = ["tc", "qdisc", "add", "dev", self.dev, "root", "netem"]
        if self.delay:
            args += ["delay", f"{self.delay * 1000:g}ms"]
            if self.jitter:
                args.append(f"{self.jitter * 1000:g}ms")
        if self.loss:
            args += ["loss", f"{self.loss * 100:g}%"]
        return args

    def undo(self) -> dict[str, Any]:
        return {"kind": "tc", "dev": self.dev, "command": delete_command(self.dev)}

    def inject(self) -> None:
        if os.geteuid() != 0:
            raise FaultSkipped("netem skipped: tc needs root (run contval as root for netem)")
        if shutil.which("tc") is None:
            raise FaultSkipped("netem skipped: tc is not installed (apt-get install iproute2)")
        result = run_tc(self.command())
        if result.returncode == 0:
            self._applied = True
            return
        if NO_NETEM in result.stderr:
            raise FaultSkipped(
                "netem skipped: this kernel has no netem qdisc (tc: Specified qdisc kind is "
                "unknown; load sch_netem or use the fault proxy's latency/reset faults)"
            )
        raise FaultError(f"{' '.join(self.command())}: {result.stderr.strip()}")

    def renew(self) -> None:
        """A qdisc has no lease: the ledger and the guard are what remove it."""

    def verify(self) -> Verification:
        if has_netem(self.dev):
            return Verification(True, f"netem qdisc on {self.dev}")
        return Verification(False, f"no netem qdisc on {self.dev}")

    def revert(self) -> None:
        if self._applied:
            result = run_tc(delete_command(self.dev))
            if result.returncode != 0 and has_netem(self.dev):
                raise FaultError(f"tc qdisc del dev {self.dev} root: {result.stderr.strip()}")
            self._applied = False

    def verify_reverted(self) -> Verification:
        if has_netem(self.dev):
            cmd = " ".join(delete_command(self.dev))
            return Verification(False, f"netem qdisc still on {self.dev}: run `{cmd}`")
        return Verification(True, f"no netem qdisc on {self.dev}")


def delete_command(dev: str) -> list[str]:
    return ["tc", "qdisc", "del", "dev", dev, "root"]
