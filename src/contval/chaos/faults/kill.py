"""`kill`: send a signal to a declared process; the system's own supervisor must restart it.

contval never restarts the process itself: whether the system heals is what the experiment
measures. So revert is a no-op and verify_reverted only reports whether a process answering
to the target came back within a bounded wait; not coming back is reported, never hidden, but
it is not a failed revert (there is nothing contval could undo).
"""

from __future__ import annotations

import os
import signal as signals
from dataclasses import dataclass, field
from typing import Any, ClassVar

from contval.chaos import proc
from contval.chaos.faults.base import FaultError, Verification

# Signals whose default action ends the process; any other signal is verified as delivered.
FATAL = frozenset(
    {signals.SIGKILL, signals.SIGTERM, signals.SIGINT, signals.SIGQUIT, signals.SIGABRT}
)


def parse_signal(value: str | int) -> signals.Signals:
    """SIGKILL, KILL, kill or 9 → Signals.SIGKILL; ValueError naming the bad value."""
    if isinstance(value, int):
        return signals.Signals(value)
    name = value.strip().upper()
    name = name if name.startswith("SIG") else f"SIG{name}"
    try:
        return signals.Signals[name]
    except KeyError:
        raise ValueError(f"unknown signal {value!r}") from None


@dataclass(kw_only=True, eq=False)
class KillFault:
    """signal defaults to SIGKILL; exit_wait bounds verify, restart_wait verify_reverted."""

    type_name: ClassVar[str] = "kill"
    target: proc.ProcessTarget
    signal: str | int = "SIGKILL"
    exit_wait: float = 3.0
    restart_wait: float = 10.0
    _ref: proc.ProcessRef | None = field(default=None, init=False)
    _sent: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._signal = parse_signal(self.signal)

    def undo(self) -> dict[str, Any]:
        return {
            "kind": "noop",
            "reason": f"{self._signal.name} cannot be undone; the system's supervisor restarts "
            f"{self.target.describe()}",
        }

    def inject(self) -> None:
        try:
            self._ref = proc.resolve(self.target)
        except proc.TargetError as exc:
            raise FaultError(f"kill: {exc}") from None
        if not proc.signal_if_same(self._ref, self._signal):
            raise FaultError(f"kill: PID {self._ref.pid} exited before {self._signal.name}")
        self._sent = True

    def renew(self) -> None:
        """Nothing holds a kill: it happened."""

    def verify(self) -> Verification:
        ref = self._ref
        if ref is None or not self._sent:
            return Verification(False, "no signal was sent")
        if self._signal not in FATAL:
            return Verification(True, f"{self._signal.name} delivered to PID {ref.pid}")
        if proc.wait_until(lambda: not proc.is_alive(ref), self.exit_wait):
            return Verification(True, f"PID {ref.pid} is gone after {self._signal.name}")
        return Verification(
            False,
            f"PID {ref.pid} still runs {self.exit_wait:g}s after {self._signal.name} "
            "(it handles or ignores the signal)",
        )

    def revert(self) -> None:
        """Nothing to undo: restarting is the supervisor's job, and the thing under test."""

    def verify_reverted(self) -> Verification:
        ref = self._ref
        if ref is None:
            return Verification(True, "nothing was killed")
        back = proc.wait_until(lambda: self._successor(ref), self.restart_wait)
        if back is not None:
            return Verification(True, f"restarted by its supervisor: PID {back.pid} runs")
        if proc.is_alive(ref):
            return Verification(True, f"PID {ref.pid} still runs ({self._signal.name})")
        return Verification(
            True,
            f"not restarted within {self.restart_wait:g}s: nothing to revert "
            "(contval does not restart processes; its supervisor should)",
        )

    def _successor(self, killed: proc.ProcessRef) -> proc.ProcessRef | None:
        try:
            ref = proc.resolve(self.target)
        except proc.TargetError:
            return None
        return ref if ref != killed and ref.pid != os.getpid() else None
