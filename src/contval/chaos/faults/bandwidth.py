"""`bandwidth`: the link carries at most rate bytes per second in the chosen direction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contval.chaos.faults.toxic import ToxicFault


@dataclass(kw_only=True, eq=False)
class BandwidthFault(ToxicFault):
    """A rate limit in bytes per second."""

    type_name = "bandwidth"
    rate: float

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"rate must be positive (bytes/s), got {self.rate}")
        super().__post_init__()

    def params(self) -> dict[str, Any]:
        return {"rate": self.rate}
