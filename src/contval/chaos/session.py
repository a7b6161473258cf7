"""FaultSession: the one way the pipeline applies faults, so every fault gets its lifetime.

For each fault: ledger entry first, then inject, then verify; leases renewed on tick();
reverted (newest first) when the timeline says so, or at the latest when the session ends,
however it ends. A guard process covers the case where this process dies without running
any of that. The session records what happened to each fault for the report.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType

from contval.chaos.faults.base import FaultDriver, FaultError, FaultSkipped, Verification
from contval.chaos.guard import Guard, start_guard
from contval.chaos.ledger import Ledger, LedgerEntry


@dataclass(frozen=True)
class FaultRecord:
    """What happened to one injected fault (times are wall-clock seconds since the epoch)."""

    name: str
    type: str
    target: str
    injected_at: float | None = None
    verified: bool | None = None
    verify_detail: str = ""
    reverted_at: float | None = None
    reverted_ok: bool | None = None
    detail: str = ""
    skipped: bool = False
    error: str | None = None

    @property
    def active(self) -> bool:
        return self.reverted_at is None and not self.skipped


@dataclass
class _Active:
    record: FaultRecord
    driver: FaultDriver
    entry: LedgerEntry


class FaultSession:
    """Context manager over one run's faults; see the module docstring for the lifetime."""

    def __init__(
        self,
        run_id: str,
        *,
        ledger: Ledger | None = None,
        guard: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.run_id = run_id
        self.ledger = ledger or Ledger()
        self._use_guard = guard
        self._guard: Guard | None = None
        self._clock = clock
        self._lock = threading.RLock()
        self._active: dict[str, _Active] = {}
        self._records: list[FaultRecord] = []

    def __enter__(self) -> FaultSession:
        if self._use_guard:
            self._guard = start_guard(self.run_id, self.ledger)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.revert_all()
        finally:
            if self._guard is not None:
                self._guard.done()
                self._guard = None

    @property
    def records(self) -> list[FaultRecord]:
        """Every fault's latest record, in injection order."""
        with self._lock:
            return list(self._records)

    @property
    def all_reverted(self) -> bool:
        """False if any fault could not be confirmed reverted (exit code 4)."""
        return all(r.reverted_ok is not False for r in self.records) and not self._active

    def inject(self, name: str, driver: FaultDriver, *, target: str = "") -> FaultRecord:
        """Ledger, inject, verify. A failed inject raises; leaving the session reverts it."""
        with self._lock:
            if name in self._active:
                raise ValueError(f"fault {name!r} is already active")
            record = FaultRecord(name=name, type=driver.type_name, target=target)
            undo = driver.undo()
            entry = self.ledger.write(self.run_id, name, driver.type_name, target, undo)
            active = _Active(record, driver, entry)
            self._active[name] = active
            self._records.append(record)
            try:
                driver.inject()
            except FaultSkipped as skip:
                self.ledger.remove(entry)
                del self._active[name]
                return self._set(active, skipped=True, detail=str(skip))
            except BaseException as exc:
                self._set(active, error=f"inject failed: {exc}")
                raise
            self._set(active, injected_at=self._clock())
            if (after := driver.undo()) != undo:
                active.entry = self.ledger.update(entry, after)
            return self._verify(active)

    def _verify(self, active: _Active) -> FaultRecord:
        try:
            verification = active.driver.verify()
        except FaultError as exc:
            verification = Verification(False, str(exc))
        return self._set(active, verified=verification.ok, verify_detail=verification.detail)

    def tick(self) -> list[str]:
        """Renew every active lease; the problems (a lapsed lease means the fault is gone)."""
        problems = []
        with self._lock:
            for active in list(self._active.values()):
                try:
                    active.driver.renew()
                except FaultError as exc:
                    problems.append(f"{active.record.name}: {exc}")
                    self._set(active, error=str(exc))
        return problems

    def revert(self, name: str) -> FaultRecord:
        """Revert one fault now; the ledger entry goes only once the revert is confirmed."""
        with self._lock:
            active = self._active.pop(name)
            error: str | None = None
            try:
                active.driver.revert()
                verification = active.driver.verify_reverted()
            except Exception as exc:  # cleanup must go on; recorded below
                error = f"revert failed: {type(exc).__name__}: {exc}"
                verification = Verification(False, error)
            if verification.ok:
                self.ledger.remove(active.entry)
            else:
                # Second path: the self-contained undo record the guard would use.
                result = self.ledger.revert(active.entry)
                verification = Verification(result.ok, f"{verification.detail}; {result.detail}")
            return self._set(
                active,
                reverted_at=self._clock(),
                reverted_ok=verification.ok,
                detail=verification.detail,
                error="; ".join(e for e in (active.record.error, error) if e) or None,
            )

    def revert_all(self) -> list[FaultRecord]:
        """Revert every active fault, newest first; one failure does not stop the others."""
        with self._lock:
            return [self.revert(name) for name in reversed(list(self._active))]

    def _set(self, active: _Active, **changes: object) -> FaultRecord:
        old = active.record
        active.record = replace(old, **changes)  # type: ignore[arg-type]
        index = max(i for i, r in enumerate(self._records) if r is old)
        self._records[index] = active.record
        return active.record
