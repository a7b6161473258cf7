"""`http-delay`: a fraction of HTTP requests are held delay seconds before being forwarded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contval.chaos.faults.toxic import ToxicFault, check_non_negative


@dataclass(kw_only=True, eq=False)
class HttpDelayFault(ToxicFault):
    """Per-request delay in seconds (unlike latency, which delays every chunk)."""

    type_name = "http-delay"
    delay: float

    def __post_init__(self) -> None:
        check_non_negative(delay=self.delay)
        super().__post_init__()

    def params(self) -> dict[str, Any]:
        return {"delay": self.delay}
