"""A scenario's workloads side by side: their controllers, their span, and their own results.

A scenario runs its `workload` (from its `start_time`) and every workload `alongside` it (each
from its own) at once; each runs on workers of its own, so each has its own series and is judged
on its own thresholds, and the scenario's thresholds judge them all together
(`contval.engine.side_by_side`). A scenario without `alongside` runs exactly as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from rich.console import Console

from contval.engine import messages as msg
from contval.engine.controller import Controller
from contval.engine.local import RunOutcome
from contval.engine.schedules import schedule_for, workers_for
from contval.engine.side_by_side import SideBySide
from contval.metrics.phases import phase_series
from contval.report.result import flows_dict, step_order, totals_dict
from contval.spec.models import Suite
from contval.thresholds import Signals, Verdict, evaluate_all, parse_threshold

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
    wanted: int,
    jobs: Jobs,
    controller: Callable[[list[msg.WorkerJob]], Controller],
) -> SideBySide:
    """One controller per workload, each with up to `wanted` workers of its own."""
    parts: list[tuple[str, Controller]] = []
    for index, (name, workload, _) in enumerate(suite.scenarios[scenario_name].parts()):
        workers = workers_for(schedule_for(suite.workloads[workload]), wanted)
        parts.append((name, controller(jobs(workers, None if index == 0 else name))))
    return SideBySide(parts)


def part_entries(
    suite: Suite,
    scenario_name: str,
    outcomes: Mapping[str, RunOutcome],
    end: int,
    faults: Mapping[str, tuple[int, int]],
    signals: Signals | None,
) -> list[dict[str, Any]]:
    """result.json `workloads`: each workload's own figures and thresholds, over the seconds
    it ran ([start_time, its end), in the scenario's seconds, so fault phases line up)."""
    scenario = suite.scenarios[scenario_name]
    kinds = {name: flow.kind for name, flow in suite.flows.items()}
    entries = []
    for index, (name, workload_name, start) in enumerate(scenario.parts()):
        workload = suite.workloads[workload_name]
        schedule = schedule_for(workload)
        outcome = outcomes[name]
        t0 = min(math.floor(start), max(0, end - 1))
        t1 = min(end, max(t0 + 1, math.ceil(start + schedule.duration)))
        outcome.series.fold_after(t1)
        series = phase_series(outcome.series, t0, t1)
        texts = _texts(suite, scenario_name, index)
        evaluated = [
            r.to_dict()
            for r in evaluate_all(
                [parse_threshold(t) for t in texts], series, faults=faults, signals=signals
            )
        ]
        entries.append(
            {
                "name": name,
                "workload": workload_name,
                "executor": workload.executor,
                "start_time_s": start,
                "planned_iterations": schedule.expected_iterations(),
                "duration_s": t1 - t0,
                "verdict": _verdict(evaluated),
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


def _verdict(evaluated: list[dict[str, Any]]) -> str:
    verdicts = {r["verdict"] for r in evaluated}
    if not verdicts:
        return "not_gated"
    return "fail" if verdicts & {Verdict.FAIL.value, Verdict.NO_DATA.value} else "pass"


def failed_parts(entry: Mapping[str, Any]) -> list[str]:
    """The workloads whose own thresholds failed (or had no data): the scenario fails too."""
    return [p["name"] for p in entry.get("workloads", ()) if p["verdict"] == "fail"]


def judged_parts(entry: Mapping[str, Any]) -> bool:
    """True when any workload has thresholds of its own (then the scenario is gated)."""
    return any(p["thresholds"] for p in entry.get("workloads", ()))


__all__ = ["failed_parts", "judged_parts", "part_entries", "side_by_side", "span"]


def print_parts(console: Console, entry: Mapping[str, Any]) -> None:
    """One line per workload run side by side: what it did and its own thresholds."""
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
