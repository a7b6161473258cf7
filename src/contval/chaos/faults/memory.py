"""`memory`: hold size bytes of resident memory on the host with one stress-ng vm worker."""

from __future__ import annotations

from dataclasses import dataclass

from contval.chaos.faults.stress import StressFault


@dataclass(kw_only=True, eq=False)
class MemoryFault(StressFault):
    """size in bytes; --vm-keep keeps the memory mapped instead of re-mapping it in a loop."""

    type_name = "memory"
    size: int

    def __post_init__(self) -> None:
        if self.size < 4096:
            raise ValueError(f"size must be at least 4096 bytes, got {self.size}")

    def worker_processes(self) -> int:
        # The vm worker allocates in a child of its own, so the OOM killer can take it alone.
        return 2

    def stressor_args(self) -> list[str]:
        return ["--vm", "1", "--vm-bytes", f"{self.size}b", "--vm-keep"]
