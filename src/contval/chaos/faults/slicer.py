"""`slicer`: data is cut into small pieces sent with a delay between them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contval.chaos.faults.toxic import ToxicFault, check_non_negative


@dataclass(kw_only=True, eq=False)
class SlicerFault(ToxicFault):
    """Pieces of size bytes, delay seconds apart."""

    type_name = "slicer"
    size: int = 64
    delay: float = 0.010

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"size must be at least 1 byte, got {self.size}")
        check_non_negative(delay=self.delay)
        super().__post_init__()

    def params(self) -> dict[str, Any]:
        return {"size": self.size, "delay": self.delay}
