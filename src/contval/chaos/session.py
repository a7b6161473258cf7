"""FaultSession: the one way the pipeline applies faults, so every fault gets its lifetime.

For each fault: ledger entry first, then inject, then verify; leases renewed by a timer of
their own; reverted (newest first) when the timeline says so, or at the latest when the
session ends, however it ends. A guard process covers the case where this process dies
without running any of that. The session records what happened to each fault for the report.

A fault in effect is a fault renewed: renewals run on their own thread (the LeaseKeeper), and
no lock is held across a driver's I/O, so a slow verify or revert of one fault (a kill waits up
to 10 s for its process to come back) never holds up the renewal of another (a proxy toxic's
lease is 5 s). A lease that lapsed anyway is reported: the record says when, and until when
the fault was last confirmed in effect, so the `during` phase is judged on those seconds only.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import TracebackType

from contval.chaos.faults.base import (
    FaultDriver,
    FaultError,
    FaultSkipped,
    LeaseLapsed,
    Verification,
)
from contval.chaos.guard import Guard, start_guard
from contval.chaos.ledger import Ledger, LedgerEntry

RENEW_EVERY = 1.0
"""Seconds between lease renewals: a proxy toxic's 5 s lease survives four missed renewals."""


@dataclass(frozen=True)
class FaultRecord:
    """What happened to one injected fault (times are wall-clock seconds since the epoch).

    `lapsed_at` is when a renewal found the fault gone; `active_until` the last moment it was
    confirmed in effect before that (the inject, its verify, or the last renewal that held).
    """

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
    lapsed_at: float | None = None
    active_until: float | None = None

    @property
    def active(self) -> bool:
        return self.reverted_at is None and not self.skipped


@dataclass(eq=False)
class _Active:
    record: FaultRecord
    driver: FaultDriver
    entry: LedgerEntry
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Held by a renewal and by the revert of this fault only: never across two faults."""
    renewing: bool = False
    confirmed_at: float = 0.0
    closed: bool = False


LapseListener = Callable[[FaultRecord], None]


class FaultSession:
    """Context manager over one run's faults; see the module docstring for the lifetime.

    renew_every: seconds between renewals by the session's own timer thread; None leaves
    renewing to explicit tick() calls (tests that drive time themselves).
    """

    def __init__(
        self,
        run_id: str,
        *,
        ledger: Ledger | None = None,
        guard: bool = True,
        clock: Callable[[], float] = time.time,
        renew_every: float | None = RENEW_EVERY,
        on_lapse: LapseListener | None = None,
    ) -> None:
        self.run_id = run_id
        self.ledger = ledger or Ledger()
        self.on_lapse = on_lapse
        self._use_guard = guard
        self._guard: Guard | None = None
        self._clock = clock
        self._lock = threading.RLock()  # the dict and list below only; never around driver I/O
        self._active: dict[str, _Active] = {}
        self._records: list[FaultRecord] = []
        self._keeper = LeaseKeeper(self, renew_every) if renew_every else None

    def __enter__(self) -> FaultSession:
        if self._use_guard:
            self._guard = start_guard(self.run_id, self.ledger)
        if self._keeper is not None:
            self._keeper.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.revert_all()  # leases stay renewed while earlier faults revert slowly
        finally:
            if self._keeper is not None:
                self._keeper.stop()
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
        with self._lock:
            active = bool(self._active)
        return all(r.reverted_ok is not False for r in self.records) and not active

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
            with self._lock:
                del self._active[name]
            return self._set(active, skipped=True, detail=str(skip))
        except BaseException as exc:
            self._set(active, error=f"inject failed: {exc}")
            raise
        with active.lock:
            active.confirmed_at = self._clock()
            active.renewing = True  # from now on there is a lease to keep
        self._set(active, injected_at=active.confirmed_at)
        if (after := driver.undo()) != undo:
            active.entry = self.ledger.update(entry, after)
        return self._verify(active)

    def _verify(self, active: _Active) -> FaultRecord:
        try:
            verification = active.driver.verify()
        except FaultError as exc:
            verification = Verification(False, str(exc))
        if verification.ok:
            with active.lock:
                active.confirmed_at = max(active.confirmed_at, self._clock())
        return self._set(active, verified=verification.ok, verify_detail=verification.detail)

    def tick(self) -> list[str]:
        """Renew every active lease once; the problems (a lapsed lease means the fault is gone).

        The LeaseKeeper calls this every `renew_every` seconds; each fault is renewed under its
        own lock, so a fault being reverted right now is skipped, and nothing else waits.
        """
        with self._lock:
            actives = list(self._active.values())
        problems, lapsed = [], []
        for active in actives:
            problem, record = self._renew(active)
            if problem:
                problems.append(f"{active.record.name}: {problem}")
            if record is not None:
                lapsed.append(record)
        for record in lapsed:
            if self.on_lapse is not None:
                self.on_lapse(record)
        return problems

    def _renew(self, active: _Active) -> tuple[str | None, FaultRecord | None]:
        """(problem, the record if the lease lapsed just now) for one fault."""
        with active.lock:
            if active.closed or not active.renewing:
                return None, None
            try:
                active.driver.renew()
            except FaultError as exc:
                gone = isinstance(exc, LeaseLapsed) or self._overdue(active)
                if not gone:
                    return str(exc), None  # the lease still runs: the next renewal may land
                active.renewing = False
                record = self._set(
                    active,
                    error=str(exc),
                    lapsed_at=self._clock(),
                    active_until=active.confirmed_at,
                )
                return str(exc), record
            active.confirmed_at = self._clock()
            return None, None

    def _overdue(self, active: _Active) -> bool:
        """True once no renewal landed for a whole lease: the proxy has dropped the toxic."""
        lease = getattr(active.driver, "lease", None)
        return isinstance(lease, int | float) and self._clock() - active.confirmed_at > lease

    def revert(self, name: str) -> FaultRecord:
        """Revert one fault now; the ledger entry goes only once the revert is confirmed."""
        with self._lock:
            active = self._active.pop(name)
        return self._revert(active)

    def revert_all(self) -> list[FaultRecord]:
        """Revert every active fault, newest first; one failure does not stop the others."""
        records: list[FaultRecord] = []
        while True:
            with self._lock:
                if not self._active:
                    return records
                active = self._active.pop(next(reversed(self._active)))
            records.append(self._revert(active))

    def _revert(self, active: _Active) -> FaultRecord:
        with active.lock:  # waits for a renewal of this very fault in flight, nothing else
            active.closed = True
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

    def _set(self, active: _Active, **changes: object) -> FaultRecord:
        with self._lock:
            old = active.record
            active.record = replace(old, **changes)  # type: ignore[arg-type]
            index = max(i for i, r in enumerate(self._records) if r is old)
            self._records[index] = active.record
            return active.record


class LeaseKeeper(threading.Thread):
    """The session's renewal timer: tick() every `every` seconds until stopped.

    A thread of its own because everything else that touches faults may block for seconds
    (waiting for a process to exit, for a supervisor to restart it, for stress-ng to start).
    """

    def __init__(self, session: FaultSession, every: float) -> None:
        super().__init__(name=f"contval-leases-{session.run_id}", daemon=True)
        self.session = session
        self.every = every
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.every):
            try:
                self.session.tick()
            except Exception:  # a broken lapse listener must not end every renewal
                traceback.print_exc(file=sys.stderr)

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(timeout=10)
