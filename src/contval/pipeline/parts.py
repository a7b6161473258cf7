"""A scenario's workloads side by side: their controllers, their span, and their own results.

A scenario runs its `workload` (from its `start_time`) and every workload `alongside` it (each
from its own) at once; each runs on workers of its own, so each has its own series and is judged
on its own thresholds, and the scenario's thresholds judge them all together
(`contval.engine.side_by_side`). A scenario without `alongside` runs exactly as before.

A workload's own `abort` thresholds stop the whole scenario, as the scenario's do: `AbortWatch`
keeps that workload's seconds as its controller hands them on, and the scenario's per-second
callback judges them (`part_abort`) on the same thread, with the same fault windows and
signals, before the merged second is judged. A workload without `abort` is not wrapped.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from contval.engine import messages as msg
from contval.engine.controller import Controller, OnSecond, OnTick
from contval.engine.local import RunOutcome, SecondStats
from contval.engine.schedules import schedule_for
from contval.engine.side_by_side import SideBySide
from contval.metrics import Series, Snapshot
from contval.metrics.phases import phase_series
from contval.report.result import flows_dict, step_order, totals_dict
from contval.report.workloads import baseline_lines
from contval.spec.models import Suite
from contval.thresholds import (
    Faults,
    Signals,
    Threshold,
    Verdict,
    check_abort,
    evaluate_all,
    parse_threshold,
)

Jobs = Callable[[int, str | None], list[msg.WorkerJob]]
"""(workers, part) → the jobs of that workload's workers (part None: the scenario's own)."""


def span(suite: Suite, scenario_name: str) -> float:
    """How long the scenario's load runs: until the last of its workloads ends."""
    return max(
        start + schedule_for(suite.workloads[workload]).duration
        for _, workload, start in suite.scenarios[scenario_name].parts()
    )


def side_by_side(
    suite: Suite,
    scenario_name: str,
    workers: Sequence[int],
    jobs: Jobs,
    controller: Callable[[list[msg.WorkerJob]], Controller],
) -> SideBySide:
    """One controller per workload, each on its count of `workers` (`engine.plan.part_workers`:
    up to `--workers` each locally, the cluster's workers shared out on Ray)."""
    parts: list[tuple[str, Controller]] = []
    scenario = suite.scenarios[scenario_name]
    for index, ((name, workload, start), count) in enumerate(
        zip(scenario.parts(), workers, strict=True)
    ):
        schedule = schedule_for(suite.workloads[workload])
        one = controller(jobs(count, None if index == 0 else name))
        aborts = [t for t in map(parse_threshold, _texts(suite, scenario_name, index)) if t.abort]
        if aborts:
            end = math.ceil(start + schedule.duration)
            one = AbortWatch(name, one, aborts, (math.floor(start), end))
        parts.append((name, one))
    return SideBySide(parts)


class AbortWatch:
    """A workload's controller whose seconds are kept for its own `abort` thresholds.

    `run` keeps each complete second's snapshot (on the workload's thread) before handing it
    on to the side-by-side merge, so by the time the scenario's second s is judged, this
    workload's second s is here; `judge` adds it to the workload's own running series (its
    seconds [start, end) only, so rates are over the seconds it ran) and checks the aborts."""

    def __init__(
        self,
        name: str,
        inner: Controller,
        aborts: Sequence[Threshold],
        window: tuple[int, int],
    ) -> None:
        self.name = name
        self.inner = inner
        self.aborts = tuple(aborts)
        self.window = window
        self.series = Series()
        self.kept: dict[int, Snapshot] = {}

    @property
    def outcome(self) -> RunOutcome:
        return self.inner.outcome

    @outcome.setter
    def outcome(self, value: RunOutcome) -> None:
        self.inner.outcome = value

    @property
    def lock(self) -> threading.Lock:
        return self.inner.lock

    @lock.setter
    def lock(self, value: threading.Lock) -> None:
        self.inner.lock = value

    @property
    def start_time(self) -> float:
        return self.inner.start_time

    def start(self) -> None:
        self.inner.start()

    def run(self, on_second: OnSecond, on_tick: OnTick | None = None) -> RunOutcome:
        def keep(series: Series, snapshot: Snapshot, stats: SecondStats) -> str | None:
            self.kept[snapshot.second] = snapshot  # before the merge can release the second
            return on_second(series, snapshot, stats)

        return self.inner.run(keep, on_tick)

    def stop(self, reason: str) -> None:
        self.inner.stop(reason)

    def close(self) -> None:
        self.inner.close()

    def judge(self, second: int, faults: Faults, signals: Signals | None) -> str | None:
        """Why the scenario must stop at `second` for this workload's aborts, or None."""
        snapshot = self.kept.pop(second, None)
        if snapshot is None or not self.window[0] <= second < self.window[1]:
            return None
        self.series.add(snapshot)
        return abort_reason(self.aborts, self.series, faults, signals, f"workload {self.name}")


def watches(side: SideBySide | None) -> list[AbortWatch]:
    """The workloads of `side` that have `abort` thresholds of their own."""
    if side is None:
        return []
    return [p.controller for p in side.parts if isinstance(p.controller, AbortWatch)]


def part_abort(
    side: SideBySide | None,
    second: int,
    faults: Faults,
    signals: Signals | None,
) -> str | None:
    """The first workload abort that fails at `second` (every workload's second is consumed)."""
    reasons = [w.judge(second, faults, signals) for w in watches(side)]
    return next((r for r in reasons if r), None)


def abort_reason(
    aborts: Sequence[Threshold],
    series: Series,
    faults: Faults,
    signals: Signals | None = None,
    whose: str = "",
) -> str | None:
    """Why the first failing abort threshold stops the run (its expression, whose it is when
    a workload's own, the value observed); None while every abort threshold holds."""
    for threshold in aborts:
        failed = check_abort(threshold, series, faults=faults, signals=signals)
        if failed is not None:
            observed = f"{failed.observed:.4g} {failed.unit}".rstrip()
            of = f" of {whose}" if whose else ""
            return f"aborted: `{failed.expression}`{of} failed (observed {observed})"
    return None


def part_entries(
    suite: Suite,
    scenario_name: str,
    outcomes: Mapping[str, RunOutcome],
    end: int,
    faults: Faults,
    signals: Signals | None,
) -> list[dict[str, Any]]:
    """result.json `workloads`: each workload's own figures and thresholds, over the seconds
    it ran ([start_time, its end), in the scenario's seconds, so fault phases line up)."""
    scenario = suite.scenarios[scenario_name]
    kinds = {name: flow.kind for name, flow in suite.flows.items()}
    entries = []
    for name, workload_name, start in scenario.parts():
        workload = suite.workloads[workload_name]
        schedule = schedule_for(workload)
        outcome = outcomes[name]
        t0, t1 = part_span(start, schedule.duration, end)
        outcome.series.fold_after(t1)
        series = phase_series(outcome.series, t0, t1)
        parsed = part_thresholds(suite, scenario_name, name)
        evaluated = [
            r.to_dict() for r in evaluate_all(parsed, series, faults=faults, signals=signals)
        ]
        entries.append(
            {
                "name": name,
                "workload": workload_name,
                "executor": workload.executor,
                "start_time_s": start,
                "planned_iterations": schedule.expected_iterations(),
                "duration_s": t1 - t0,
                "verdict": part_verdict(evaluated, parsed),  # without the baseline's, yet
                "thresholds": evaluated,
                "totals": totals_dict(series, t1 - t0, outcome.interrupted_iterations),
                "flows": flows_dict(series, kinds, step_order(suite.flows)),
                "stop_reason": outcome.stop_reason,
            }
        )
    return entries


def _texts(suite: Suite, scenario_name: str, index: int) -> tuple[str, ...]:
    """A workload's own thresholds: those of its `alongside` entry (the scenario's own workload
    has none of its own: the scenario's thresholds judge everything it runs)."""
    scenario = suite.scenarios[scenario_name]
    if index == 0:
        return ()
    return tuple(scenario.alongside[scenario.parts()[index][0]].thresholds)


def part_thresholds(suite: Suite, scenario_name: str, name: str) -> list[Threshold]:
    """The thresholds of the workload `name` runs alongside, parsed (none for the scenario's
    own workload)."""
    names = [n for n, _, _ in suite.scenarios[scenario_name].parts()]
    return [parse_threshold(t) for t in _texts(suite, scenario_name, names.index(name))]


def part_span(start: float, duration: float, end: int) -> tuple[int, int]:
    """The seconds [t0, t1) a workload ran, in the scenario's seconds, cut to the load's `end`."""
    t0 = min(math.floor(start), max(0, end - 1))
    return t0, min(end, max(t0 + 1, math.ceil(start + duration)))


def part_verdict(
    evaluated: Sequence[Mapping[str, Any]],
    parsed: Sequence[Threshold],
    gate: str | None = None,
    gate_failed: bool = False,
) -> str:
    """A workload's verdict from its own thresholds and its own baseline comparison (`gate`,
    its outcome; `gate_failed`: the scenario's verdict logic found it failing). Before the
    comparison (`gate` None) the thresholds naming the baseline are left out: they are judged
    with it. Nothing judged it (no thresholds, no baseline yet): `not_gated`."""
    verdicts = {
        r["verdict"]
        for r, t in zip(evaluated, parsed, strict=True)
        if gate is not None or not t.needs_baseline
    }
    if gate_failed or verdicts & {Verdict.FAIL.value, Verdict.NO_DATA.value}:
        return "fail"
    if verdicts or gate not in (None, "no_baseline"):
        return "pass"
    return "not_gated"


def failed_parts(entry: Mapping[str, Any]) -> list[str]:
    """The workloads whose own thresholds failed (or had no data), or (once compared) whose
    own baseline comparison failed them: the scenario fails too."""
    return [p["name"] for p in entry.get("workloads", ()) if p["verdict"] == "fail"]


def judged_parts(entry: Mapping[str, Any]) -> bool:
    """True when any workload has thresholds of its own (then the scenario is gated)."""
    return any(p["thresholds"] for p in entry.get("workloads", ()))


__all__ = [
    "AbortWatch",
    "abort_reason",
    "failed_parts",
    "judged_parts",
    "part_abort",
    "part_entries",
    "part_span",
    "part_thresholds",
    "part_verdict",
    "side_by_side",
    "span",
    "watches",
]


def print_parts(console: Console, entry: Mapping[str, Any]) -> None:
    """One line per workload run side by side: what it did, its own thresholds, and its
    comparison with its own baseline."""
    for part in entry.get("workloads", ()):
        totals = part["totals"]
        rate = totals["error_rate"]
        errors = "-" if rate is None else f"{rate * 100:.2f}%"
        mark = {"pass": "[green]pass[/green]", "fail": "[red]FAIL[/red]"}.get(
            part["verdict"], "not gated"
        )
        console.print(
            f"  workload {part['name']} ({part['executor']}, from {part['start_time_s']:g}s): "
            f"{totals['iterations']} iterations, {totals['requests']} requests, errors "
            f"{errors}, dropped {totals['dropped_iterations']}; {mark}",
            highlight=False,
        )
        for result in part["thresholds"]:
            if result["verdict"] != Verdict.PASS.value:
                console.print(f"    {result['verdict']}: {result['expression']}", highlight=False)
        regressed = (part.get("baseline") or {}).get("verdict") == "regression"
        for line in baseline_lines(part):  # its comparison with a baseline of its own
            console.print(Text(f"    {line}", style="red" if regressed else ""), highlight=False)
