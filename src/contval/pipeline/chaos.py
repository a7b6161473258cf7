"""Chaos under load: a thread that follows a scenario's fault timeline while the load runs.

Faults are applied from their own thread so that a slow inject or revert (waiting for a process
to exit, starting stress-ng) never stalls the collection of the workers' metrics; each revert
runs on a thread of its own, so one that waits (a kill waits for its process to come back)
never delays the next planned event either. Before each
fault the steady state is checked (thresholds qualified `before FAULT`); if it does not hold the
fault is not injected and the scenario is invalid. Every fault goes through a FaultSession:
ledger first, leases renewed (on the session's own timer), reverted in `finally`, and a guard
for when this process dies.

A fault is judged on the seconds it was verified in effect: from its verified inject until its
revert, or until the last moment it was confirmed in effect if its lease lapsed (the proxy lost
the toxic). A fault never verified, or in effect for less than half its planned `for`, makes
the scenario invalid: its `during` phase would measure a system without the fault.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from contval.chaos.session import FaultRecord, FaultSession
from contval.chaos.timeline import Timeline
from contval.metrics import Series
from contval.pipeline.faults import make_driver
from contval.spec import Suite
from contval.thresholds import Threshold, steady_state

MIN_COVERAGE = 0.5
"""Share of a fault's planned duration it must be verified in effect for a valid scenario."""


@dataclass(frozen=True)
class Lapse:
    """A fault found gone before its revert; offsets in seconds from the load's start."""

    at: float  # when a renewal found it gone
    active_until: float  # the last moment it was confirmed in effect
    detail: str


@dataclass
class ChaosState:
    """What the chaos thread did, read by the pipeline for results and verdicts."""

    windows: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    lapses: dict[str, Lapse] = field(default_factory=dict)
    invalid: str | None = None  # why the scenario is invalid (steady state, fault not in effect)
    invalid_stop: str | None = None  # its cause, a pipeline.verdict.Stop value
    errors: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def judged(self) -> dict[str, tuple[float, float | None]]:
        """Each fault's window as judged: from its verified inject until its revert, cut at the
        last moment it was confirmed in effect when its lease lapsed."""
        windows = dict(self.windows)
        for name, lapse in dict(self.lapses).items():
            if name in windows:
                start, end = windows[name]
                until = max(start, lapse.active_until)
                windows[name] = (start, until if end is None else min(end, until))
        return windows

    def whole_seconds(self, series_end: int) -> dict[str, tuple[int, int]]:
        """judged() in whole seconds, the `faults=` of thresholds and phases.

        A second counts when the fault was in effect for at least half of it (an inject at
        3.04 s starts `during` at second 3, a revert at 6.02 s ends it before second 6), so the
        phase is the planned one when the run kept to the plan, and never takes in a second
        that mostly went without the fault. A lapsed fault keeps only the seconds before it
        was last confirmed in effect (nobody knows when in the next second it went); one still
        active ends at `series_end`.
        """
        lapsed = set(self.lapses)
        windows = {}
        for name, (start, end) in self.judged().items():
            first = _nearest(start)
            if end is None:
                last = max(series_end, first + 1)
            else:
                last = math.floor(end) if name in lapsed else _nearest(end)
            windows[name] = (first, max(last, first + 1))
        return windows

    def fault_fields(self, name: str) -> dict[str, Any]:
        """The result.json `faults` fields on a fault's lease (null when it never lapsed)."""
        lapse = self.lapses.get(name)
        start, end = self.judged().get(name, (None, None))
        return {
            "lapsed_at_s": None if lapse is None else round(lapse.at, 3),
            "active_until_s": None if lapse is None else round(lapse.active_until, 3),
            "active_s": None if start is None or end is None else round(end - start, 3),
        }


def _nearest(offset: float) -> int:
    """The whole second nearest to `offset` (halves round up, never to even)."""
    return math.floor(offset + 0.5)


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
        self._reverts: list[threading.Thread] = []
        session.on_lapse = self._lapsed

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
            for thread in self._reverts:
                thread.join()
            for record in self.session.revert_all():
                self._note_revert(record)

    def _follow(self) -> None:
        assert self.start_at is not None
        for event in self.timeline.events():
            # Leases are renewed by the session's own timer, never from here: this thread may
            # block for seconds in a verify or a revert.
            if self._halt.wait(max(0.0, self.start_at + event.time - time.monotonic())):
                return
            if event.action == "inject":
                if not self._inject(event.fault):
                    return
            elif event.fault in self.state.windows:
                self._revert_beside(event.fault)

    def _revert_beside(self, fault: str) -> None:
        """Revert on a thread of its own: a revert may wait for seconds (a kill waits up to
        10 s for its supervisor to bring the process back), and the next planned inject or
        revert must not wait with it."""
        thread = threading.Thread(
            target=self._revert, args=(fault,), name=f"contval-revert-{fault}", daemon=True
        )
        self._reverts.append(thread)
        thread.start()

    def _revert(self, fault: str) -> None:
        try:
            self._note_revert(self.session.revert(fault))
        except Exception as exc:  # the session's end retries it; the run says it went wrong
            self.state.errors.append(f"{type(exc).__name__}: {exc}")
            self.on_invalid(f"chaos failed: {exc}")

    def _inject(self, fault: str) -> bool:
        window = self.timeline.phases(fault)
        failing = self._steady_state_failures(fault)
        if failing:
            why = f"invalid: the steady state did not hold before {fault}: {failing}"
            self._mark_invalid(why, "steady_state")
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
        if not record.verified:
            self._mark_invalid(
                f"invalid: fault {fault} was not verified in effect: {record.verify_detail}"
            )
            return False
        return True

    def _lapsed(self, record: FaultRecord) -> None:
        """Called by the session's lease timer when a renewal finds a fault gone."""
        if record.name not in self.state.windows or record.lapsed_at is None:
            return
        now_wall, now = time.time(), self._offset()
        until = now - (now_wall - (record.active_until or record.lapsed_at))
        lapse = Lapse(now - (now_wall - record.lapsed_at), until, record.error or "")
        self.state.lapses[record.name] = lapse
        self.state.log.append(
            f"{record.name}: LEASE LAPSED, found gone at {lapse.at:.1f}s, last confirmed in "
            f"effect at {until:.1f}s: {lapse.detail}"
        )
        start, _ = self.state.windows[record.name]
        had, planned = max(0.0, until - start), self.timeline.window(record.name).duration
        if had < MIN_COVERAGE * planned:
            self._mark_invalid(
                f"invalid: fault {record.name} was in effect for {had:.1f}s of its planned "
                f"{planned:g}s (less than half): {lapse.detail}"
            )

    def _mark_invalid(self, reason: str, stop: str = "fault_too_short") -> None:
        if self.state.invalid is None:
            self.state.invalid, self.state.invalid_stop = reason, stop
        self.on_invalid(reason)

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
