"""`cpu`: load the host's CPUs with stress-ng workers for the fault's duration."""

from __future__ import annotations

import os
from dataclasses import dataclass

from contval.chaos.faults.stress import StressFault


@dataclass(kw_only=True, eq=False)
class CpuFault(StressFault):
    """load: fraction of each worker's CPU (0..1]; workers: 0 means one per core."""

    type_name = "cpu"
    load: float = 1.0
    workers: int = 0

    def __post_init__(self) -> None:
        if not 0.0 < self.load <= 1.0:
            raise ValueError(f"load must be within (0, 1], got {self.load}")
        if self.workers < 0:
            raise ValueError(f"workers must not be negative, got {self.workers}")

    def worker_processes(self) -> int:
        return self.workers or os.cpu_count() or 1

    def stressor_args(self) -> list[str]:
        return ["--cpu", str(self.worker_processes()), "--cpu-load", str(round(self.load * 100))]
