"""`http-error`: the proxy answers a fraction of HTTP requests itself with an error status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from contval.chaos.faults.toxic import ToxicFault


@dataclass(kw_only=True, eq=False)
class HttpErrorFault(ToxicFault):
    """status in 400..599; fraction is the share of requests answered with it."""

    type_name = "http-error"
    status: int

    def __post_init__(self) -> None:
        if not 400 <= self.status <= 599:
            raise ValueError(f"status must be within 400..599, got {self.status}")
        super().__post_init__()

    def params(self) -> dict[str, Any]:
        return {"status": self.status}
