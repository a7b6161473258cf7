"""`latency`: every chunk through the link waits delay ± jitter seconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contval.chaos.faults.toxic import ToxicFault, check_non_negative


@dataclass(kw_only=True, eq=False)
class LatencyFault(ToxicFault):
    """Added latency (seconds) with optional jitter (seconds)."""

    type_name = "latency"
    delay: float
    jitter: float = 0.0

    def __post_init__(self) -> None:
        check_non_negative(delay=self.delay, jitter=self.jitter)
        super().__post_init__()

    def params(self) -> dict[str, Any]:
        return {"delay": self.delay, "jitter": self.jitter}
