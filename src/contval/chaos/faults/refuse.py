"""`refuse`: new connections are closed at once, as if nothing listened."""

from __future__ import annotations

from dataclasses import dataclass

from contval.chaos.faults.toxic import ToxicFault


@dataclass(kw_only=True, eq=False)
class RefuseFault(ToxicFault):
    """No parameters beyond the common direction, fraction and lease."""

    type_name = "refuse"
