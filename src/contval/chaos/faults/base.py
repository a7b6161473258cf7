"""The contract every fault driver keeps, and the outcomes a driver can report.

Drivers are small stateful objects: built from plain parameters (so the pipeline can map any
suite model onto them), they know their ledger undo record before they inject, and they can
say whether the fault took effect and whether it is gone again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol


class FaultError(Exception):
    """A fault could not be injected, renewed or reverted; the message says what to do."""


class LeaseLapsed(FaultError):
    """A renewal found the fault gone (its lease ran out, or the proxy lost it): it is no
    longer in effect, and renewing again cannot bring it back."""


class FaultSkipped(Exception):
    """The fault cannot run on this machine (not root, no netem...): nothing was applied."""


@dataclass(frozen=True)
class Verification:
    """Whether a fault took effect (or went away), and the evidence, for the report."""

    ok: bool
    detail: str


class FaultDriver(Protocol):
    """One fault on one target. The caller writes undo() to the ledger before inject()."""

    type_name: ClassVar[str]

    def undo(self) -> dict[str, Any]:
        """The ledger undo record; may gain detail (a PID) once inject() has run."""
        ...

    def inject(self) -> None:
        """Apply the fault; raises FaultSkipped when it cannot apply here, FaultError on failure."""
        ...

    def renew(self) -> None:
        """Keep a lease alive (proxy toxics); a no-op for faults without one."""
        ...

    def verify(self) -> Verification:
        """Whether the fault took effect, with a bounded wait where effects are asynchronous."""
        ...

    def revert(self) -> None:
        """Remove the fault; safe to call when it was never (or is no longer) applied."""
        ...

    def verify_reverted(self) -> Verification:
        """Whether the fault is gone."""
        ...
