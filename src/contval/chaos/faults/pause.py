"""`pause`: freeze a declared process with SIGSTOP, thaw it with SIGCONT.

Unlike a kill, a stopped process stays stopped forever if nobody sends SIGCONT, so the undo
record carries the PID and its starttime: the guard or `contval recover` can resume exactly
that process, and never a stranger that inherited the PID.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from typing import Any, ClassVar

from contval.chaos import proc
from contval.chaos.faults.base import FaultError, Verification


@dataclass(kw_only=True, eq=False)
class PauseFault:
    """No parameters: SIGSTOP on inject, SIGCONT on revert."""

    type_name: ClassVar[str] = "pause"
    target: proc.ProcessTarget
    wait: float = 2.0
    _ref: proc.ProcessRef | None = field(default=None, init=False)

    def _resolve(self) -> proc.ProcessRef:
        if self._ref is None:
            try:
                self._ref = proc.resolve(self.target)
            except proc.TargetError as exc:
                raise FaultError(f"pause: {exc}") from None
        return self._ref

    def undo(self) -> dict[str, Any]:
        ref = self._resolve()
        return {"kind": "sigcont", "pid": ref.pid, "starttime": ref.starttime}

    def inject(self) -> None:
        ref = self._resolve()
        if not proc.signal_if_same(ref, signal.SIGSTOP):
            raise FaultError(f"pause: PID {ref.pid} exited before SIGSTOP")

    def renew(self) -> None:
        """A stopped process stays stopped: nothing to renew."""

    def verify(self) -> Verification:
        ref = self._resolve()
        proc.wait_until(lambda: proc.state_of(ref) in ("T", None), self.wait)
        now = proc.state_of(ref)
        if now == "T":
            return Verification(True, f"PID {ref.pid} is stopped (state T)")
        return Verification(False, f"PID {ref.pid} state is {now or 'gone'}, not stopped")

    def revert(self) -> None:
        if self._ref is not None:
            proc.signal_if_same(self._ref, signal.SIGCONT)

    def verify_reverted(self) -> Verification:
        ref = self._ref
        if ref is None:
            return Verification(True, "nothing was paused")
        proc.wait_until(lambda: proc.state_of(ref) != "T", self.wait)
        state = proc.state_of(ref)
        if state is None:
            return Verification(True, f"PID {ref.pid} is gone (nothing left stopped)")
        if state == "T":
            return Verification(
                False, f"PID {ref.pid} is still stopped: run `kill -CONT {ref.pid}`"
            )
        return Verification(True, f"PID {ref.pid} runs again (state {state})")
