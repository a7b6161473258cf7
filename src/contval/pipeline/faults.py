"""From the suite's fault models to fault drivers: the one place the two vocabularies meet."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, ClassVar

from contval.chaos import proc
from contval.chaos.faults import (
    PROXY_TYPES,
    FaultDriver,
    FaultSkipped,
    FaultTypes,
    Verification,
)
from contval.chaos.faults.proxy_client import DEFAULT_CONTROL
from contval.chaos.faults.toxic import ProxyLink
from contval.spec import Suite

PROXY_CONTROL_ENV = "CONTVAL_PROXY_CONTROL"
_NOT_PARAMS = {"type", "target", "description", "fraction", "direction"}


def proxy_control() -> str:
    """Where the fault proxy's control API listens (env CONTVAL_PROXY_CONTROL)."""
    return os.environ.get(PROXY_CONTROL_ENV, DEFAULT_CONTROL)


def make_driver(suite: Suite, fault_name: str, duration: float) -> FaultDriver:
    """A driver for one declared fault; `duration` is its planned `for` (stress-ng timeouts)."""
    fault = suite.faults[fault_name]
    cls: Any = FaultTypes().driver(fault.type)
    params = {k: v for k, v in fault.model_dump().items() if k not in _NOT_PARAMS}
    if fault.type in PROXY_TYPES:
        extra = {"direction": getattr(fault, "direction", "downstream")}
        link = ProxyLink(fault.target, proxy_control())
        fraction = getattr(fault, "fraction", 1.0)
        driver: FaultDriver = cls(link=link, fraction=fraction, **extra, **params)
        return driver
    if fault.type in ("kill", "pause"):
        selector = suite.chaos_targets[fault.target].process  # type: ignore[union-attr]
        target = proc.ProcessTarget(
            pidfile=selector.pidfile,
            state_file=selector.state_file,
            key=selector.key,
            match=selector.match,
        )
        driver = cls(target=target, **params)
        return driver
    if fault.type in ("cpu", "memory"):
        if fault.type == "cpu" and params.get("workers") is None:
            params["workers"] = 0  # stress-ng: one per core
        driver = cls(duration=duration, **params)
        return driver
    if fault.type == "netem" and getattr(suite.chaos_targets[fault.target], "proxy", None):
        return Skipped(
            "netem on a proxy link would need a per-port tc filter, which contval does not "
            "apply (it would slow every loopback connection, the load's included); use the "
            "proxy's latency toxic, or a netem fault on a `host` target",
        )
    driver = cls(**params)
    return driver


@dataclass(frozen=True)
class Skipped:
    """A netem fault that cannot run as declared here: it applies nothing and says why."""

    type_name: ClassVar[str] = "netem"
    reason: str

    def undo(self) -> dict[str, Any]:
        return {"kind": "noop", "reason": self.reason}

    def inject(self) -> None:
        raise FaultSkipped(self.reason)

    def renew(self) -> None:
        """Nothing applied, nothing to renew."""

    def verify(self) -> Verification:
        return Verification(False, self.reason)

    def revert(self) -> None:
        """Nothing applied, nothing to revert."""

    def verify_reverted(self) -> Verification:
        return Verification(True, "nothing was applied")
