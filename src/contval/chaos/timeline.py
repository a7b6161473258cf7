"""A scenario's fault timeline as data: when each fault is injected and reverted.

Pure (no clock, no I/O), so `contval plan` prints exactly what a run will do and tests assert it
without sleeping. Windows are half-open, [start, end), the same as the threshold phases
`before` = [0, start), `during` = [start, end), `after` = [end, load end). Faults may overlap;
validation guarantees each window lies strictly inside the load and each fault appears once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple

from contval.spec.models import Scenario, Suite
from contval.spec.workloads import load_duration

Action = Literal["inject", "revert"]


@dataclass(frozen=True, slots=True)
class FaultWindow:
    """One fault's lifetime in seconds from the scenario's start; `type` and `target` are the
    fault's, copied so that a reader of the timeline needs no suite to say what it does."""

    fault: str
    type: str
    target: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def active_at(self, t: float) -> bool:
        return self.start <= t < self.end


class Event(NamedTuple):
    """Inject or revert one fault at `time` seconds from the scenario's start."""

    time: float
    action: Action
    fault: str


_ACTION_ORDER = {"revert": 0, "inject": 1}
"""At equal times, revert first: never more faults at once than the plan has overlapping."""


@dataclass(frozen=True, slots=True)
class Timeline:
    """The faults of one scenario, sorted by start; `duration` is how long the load runs."""

    windows: tuple[FaultWindow, ...]
    duration: float

    def events(self) -> tuple[Event, ...]:
        """Every inject and revert in the order a runner must perform them."""
        events = [Event(w.start, "inject", w.fault) for w in self.windows]
        events += [Event(w.end, "revert", w.fault) for w in self.windows]
        return tuple(sorted(events, key=lambda e: (e.time, _ACTION_ORDER[e.action])))

    def active_at(self, t: float) -> tuple[str, ...]:
        """The faults in effect at `t` (a fault is active from its start until, not at, its end)."""
        return tuple(w.fault for w in self.windows if w.active_at(t))

    def window(self, fault: str) -> FaultWindow:
        """The window of `fault`; KeyError naming the scenario's faults if it has no such fault."""
        for window in self.windows:
            if window.fault == fault:
                return window
        known = ", ".join(w.fault for w in self.windows) or "none"
        raise KeyError(f"fault {fault!r} is not on this timeline (faults: {known})")

    def phases(self, fault: str) -> tuple[float, float]:
        """(start, end) of `fault`: what `before|during|after FAULT` thresholds split on."""
        window = self.window(fault)
        return window.start, window.end

    def fault_phases(self) -> dict[str, tuple[float, float]]:
        """Every fault's (start, end): the `faults=` argument of threshold evaluation."""
        return {w.fault: (w.start, w.end) for w in self.windows}


def timeline(scenario: Scenario, suite: Suite) -> Timeline:
    """The timeline of `scenario` (one of `suite`'s, validated): windows sorted by start."""
    windows = []
    for entry in scenario.chaos:
        fault = suite.faults[entry.fault]
        windows.append(FaultWindow(entry.fault, fault.type, fault.target, entry.at, entry.end))
    windows.sort(key=lambda w: (w.start, w.end))
    duration = load_duration(suite.workloads[scenario.workload])
    return Timeline(tuple(windows), duration)
