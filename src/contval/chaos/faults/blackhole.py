"""`blackhole`: data is swallowed and connections hang until the client times out."""

from __future__ import annotations

from dataclasses import dataclass

from contval.chaos.faults.toxic import ToxicFault


@dataclass(kw_only=True, eq=False)
class BlackholeFault(ToxicFault):
    """No parameters beyond the common direction, fraction and lease."""

    type_name = "blackhole"
