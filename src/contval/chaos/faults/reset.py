"""`reset`: connections are reset (RST) by the proxy."""

from __future__ import annotations

from dataclasses import dataclass

from contval.chaos.faults.toxic import ToxicFault


@dataclass(kw_only=True, eq=False)
class ResetFault(ToxicFault):
    """No parameters beyond the common direction, fraction and lease."""

    type_name = "reset"
