"""Chaos under load: a thread that follows a scenario's fault timeline while the load runs.

Faults are applied from their own thread so that a slow inject or revert (waiting for a process
to exit, starting stress-ng) never stalls the collection of the workers' metrics. Before each
fault the steady state is checked (thresholds qualified `before FAULT`); if it does not hold the
fault is not injected and the scenario is invalid. Every fault goes through a FaultSession:
ledger first, leases renewed, reverted in `finally`, and a guard for when this process dies.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from contval.chaos.session import FaultRecord, FaultSession
from contval.chaos.timeline import Timeline
from contval.metrics import Series
from contval.pipeline.faults import make_driver
from contval.spec import Suite
from contval.thresholds import Threshold, steady_state

RENEW_EVERY = 1.0  # seconds between lease renewals (leases last 5 s)


@dataclass
class ChaosState:
    """What the chaos thread did, read by the pipeline for results and verdicts."""

    windows: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    invalid: str | None = None  # why the scenario is invalid (steady state did not hold)
    errors: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)


class ChaosThread(threading.Thread):
    """Inject and revert at the timeline's offsets from the load's start."""

    def __init__(
        self,
        suite: Suite,
        timeline: Timeline,
        session: FaultSession,
        thresholds: Sequence[Threshold],
        series: Callable[[], tuple[Series, threading.Lock]],
        on_invalid: Callable[[str], None],
    ) -> None:
        super().__init__(name="contval-chaos", daemon=True)
        self.suite = suite
        self.timeline = timeline
        self.session = session
        self.thresholds = [
            t for t in thresholds if t.phase is not None and t.phase.kind == "before"
        ]
        self.series = series
        self.on_invalid = on_invalid
        self.state = ChaosState()
        self.start_at: float | None = None  # monotonic time of the load's start
        self._halt = threading.Event()
        self._begun = threading.Event()

    def begin(self, start_at: float) -> None:
        if not self._begun.is_set():
            self.start_at = start_at
            self._begun.set()

    def stop(self) -> None:
        self._halt.set()
        self._begun.set()

    def run(self) -> None:
        self._begun.wait()
        try:
            self._follow()
        except Exception as exc:  # a fault that cannot be applied ends chaos, not the process
            self.state.errors.append(f"{type(exc).__name__}: {exc}")
            self.on_invalid(f"chaos failed: {exc}")
        finally:
            for record in self.session.revert_all():
                self._note_revert(record)

    def _follow(self) -> None:
        assert self.start_at is not None
        next_renew = time.monotonic() + RENEW_EVERY
        for event in self.timeline.events():
            while not self._halt.is_set():
                now = time.monotonic()
                if now >= self.start_at + event.time:
                    break
                if now >= next_renew:
                    self.state.errors.extend(self.session.tick())
                    next_renew = now + RENEW_EVERY
                self._halt.wait(min(0.05, self.start_at + event.time - now))
            if self._halt.is_set():
                return
            if event.action == "inject":
                if not self._inject(event.fault):
                    return
            elif event.fault in self.state.windows:
                self._note_revert(self.session.revert(event.fault))

    def _inject(self, fault: str) -> bool:
        window = self.timeline.phases(fault)
        failing = self._steady_state_failures(fault)
        if failing:
            reason = f"invalid: the steady state did not hold before {fault}: {failing}"
            self.state.invalid = reason
            self.on_invalid(reason)
            return False
        driver = make_driver(self.suite, fault, window[1] - window[0])
        record = self.session.inject(fault, driver, target=self.suite.faults[fault].target)
        offset = self._offset()
        if record.skipped:
            self.state.log.append(f"{fault}: skipped: {record.detail}")
            return True
        self.state.windows[fault] = (offset, None)
        verdict = "verified" if record.verified else "NOT verified"
        self.state.log.append(
            f"{fault}: injected at {offset:.1f}s, {verdict} {record.verify_detail}"
        )
        return True

    def _steady_state_failures(self, fault: str) -> str:
        if not any(t.phase is not None and t.phase.fault == fault for t in self.thresholds):
            return ""
        series, lock = self.series()
        with lock:
            planned = {
                name: (math.floor(start), math.ceil(end))
                for name, (start, end) in self.timeline.fault_phases().items()
            }
            failing = steady_state(self.thresholds, series, fault, planned)
        return "; ".join(f"`{r.expression}` ({r.detail or r.observed})" for r in failing)

    def _note_revert(self, record: FaultRecord) -> None:
        if record.name in self.state.windows:
            start, _ = self.state.windows[record.name]
            self.state.windows[record.name] = (start, self._offset())
        ok = "reverted" if record.reverted_ok else "NOT confirmed reverted"
        self.state.log.append(f"{record.name}: {ok} at {self._offset():.1f}s {record.detail}")

    def _offset(self) -> float:
        return time.monotonic() - (self.start_at or time.monotonic())
