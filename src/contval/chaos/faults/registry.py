"""Fault type name → driver class, owned by an object so nothing registers itself on import."""

from __future__ import annotations

from dataclasses import dataclass, field

from contval.chaos.faults.bandwidth import BandwidthFault
from contval.chaos.faults.blackhole import BlackholeFault
from contval.chaos.faults.cpu import CpuFault
from contval.chaos.faults.http_delay import HttpDelayFault
from contval.chaos.faults.http_error import HttpErrorFault
from contval.chaos.faults.kill import KillFault
from contval.chaos.faults.latency import LatencyFault
from contval.chaos.faults.memory import MemoryFault
from contval.chaos.faults.netem import NetemFault
from contval.chaos.faults.pause import PauseFault
from contval.chaos.faults.refuse import RefuseFault
from contval.chaos.faults.reset import ResetFault
from contval.chaos.faults.slicer import SlicerFault

DriverClass = type[
    LatencyFault
    | BandwidthFault
    | ResetFault
    | RefuseFault
    | BlackholeFault
    | SlicerFault
    | HttpErrorFault
    | HttpDelayFault
    | KillFault
    | PauseFault
    | CpuFault
    | MemoryFault
    | NetemFault
]

PROXY_TYPES = frozenset(
    {"latency", "bandwidth", "reset", "refuse", "blackhole", "slicer", "http-error", "http-delay"}
)


def _builtin() -> dict[str, DriverClass]:
    classes: list[DriverClass] = [
        LatencyFault,
        BandwidthFault,
        ResetFault,
        RefuseFault,
        BlackholeFault,
        SlicerFault,
        HttpErrorFault,
        HttpDelayFault,
        KillFault,
        PauseFault,
        CpuFault,
        MemoryFault,
        NetemFault,
    ]
    return {cls.type_name: cls for cls in classes}


@dataclass
class FaultTypes:
    """The fault drivers a run can use, keyed by the suite's `type` literal."""

    drivers: dict[str, DriverClass] = field(default_factory=_builtin)

    def driver(self, type_name: str) -> DriverClass:
        """The driver class for a type; KeyError listing the known types otherwise."""
        try:
            return self.drivers[type_name]
        except KeyError:
            known = ", ".join(sorted(self.drivers))
            raise KeyError(f"unknown fault type {type_name!r} (known: {known})") from None
