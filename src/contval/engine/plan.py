"""`contval plan`: what a run will do, computed from the suite alone (no clock, no network).

`plan_data` is the plan as JSON-able data (`contval plan --json`); `render_plan` is the same
plan as readable text. Both read only the pure schedules and the pure fault timeline, so what is
printed is exactly what a run will do: the same arrival counts, the same mix, the same split
across workers, the same faults at the same offsets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from contval.chaos.timeline import Timeline, timeline
from contval.engine.schedules import (
    ClosedSchedule,
    Mix,
    OpenSchedule,
    Schedule,
    describe,
    sample,
    schedule_for,
    workers_for,
)
from contval.engine.schedules.workers import shared_workers
from contval.spec.models import Suite
from contval.spec.units import format_duration

SPARK_WIDTH = 40
SPARKS = "▁▂▃▄▅▆▇█"


def plan_data(
    suite: Suite,
    scenarios: Sequence[str] | None = None,
    workers: int = 1,
    shared: bool = False,
) -> dict[str, Any]:
    """The plan of `scenarios` (default: all, in suite order) with `workers` workers.

    Times are in seconds and rates per second. `expected_iterations` is exact for the open
    model and the iteration executors, and None for the other closed ones, whose iteration
    count depends on the system's latency. `shared`: workloads side by side share the
    `workers` (a Ray cluster's, `part_workers`) instead of each having as many.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    names = list(suite.scenarios) if scenarios is None else list(scenarios)
    unknown = [name for name in names if name not in suite.scenarios]
    if unknown:
        known = ", ".join(suite.scenarios)
        raise ValueError(f"unknown scenario {', '.join(unknown)}; the suite has: {known}")
    used = {w for scenario in suite.scenarios.values() for _, w, _ in scenario.parts()}
    return {
        "suite": suite.name,
        "workers": workers,
        "scenarios": [_scenario_data(suite, name, workers, shared) for name in names],
        "unused_workloads": [name for name in suite.workloads if name not in used],
    }


def part_workers(suite: Suite, scenario: str, workers: int, shared: bool = False) -> list[int]:
    """How many workers each workload of the scenario runs on (its own first, then those
    `alongside`), as `contval run` starts them: each up to `workers` of its own (local worker
    processes), or, `shared`, the `workers` shared out between them (Ray actors, a CPU each:
    `shared_workers`; `ValueError` when there are more workloads than workers)."""
    caps = [
        workers_for(schedule_for(suite.workloads[w]), workers)
        for _, w, _ in suite.scenarios[scenario].parts()
    ]
    return shared_workers(caps, workers) if shared else caps


def _scenario_data(suite: Suite, name: str, workers: int, shared: bool) -> dict[str, Any]:
    """The scenario's own workload (as before: `workload`, `executor`, `profile`, … at the
    top level), its `start_time`, and each workload run `alongside` it with the same fields."""
    scenario = suite.scenarios[name]
    _own, *side = scenario.parts()
    own_workers, *side_workers = part_workers(suite, name, workers, shared)
    return {
        "name": name,
        "description": scenario.description,
        "workload": scenario.workload,
        "start_time": scenario.start_time,
        **_workload_data(suite, scenario.workload, own_workers),
        "runs_for": max(
            start + schedule_for(suite.workloads[w]).duration for _, w, start in scenario.parts()
        ),
        "chaos": _chaos_data(timeline(scenario, suite)),
        "thresholds": list(scenario.thresholds),
        "alongside": [
            {
                "name": part,
                "workload": workload,
                "start_time": start,
                **_workload_data(suite, workload, used),
                "thresholds": list(scenario.alongside[part].thresholds),
            }
            for (part, workload, start), used in zip(side, side_workers, strict=True)
        ],
    }


def _workload_data(suite: Suite, name: str, workers: int) -> dict[str, Any]:
    workload = suite.workloads[name]
    schedule = schedule_for(workload)
    mix = Mix(dict(workload.mix))
    is_open = isinstance(schedule, OpenSchedule)
    iterations = schedule.expected_iterations()
    counts = mix.counts(iterations) if iterations is not None else None
    value = "rate" if is_open else "vus"
    return {
        "executor": workload.executor,
        "model": schedule.kind,
        "duration": schedule.duration,
        "profile": [{"t": t, value: v} for t, v in describe(schedule)],
        "sparkline": sparkline(schedule),
        "expected_iterations": iterations,
        "budget": _budget_data(schedule),
        "max_vus": schedule.max_vus if isinstance(schedule, OpenSchedule) else schedule.max_vus(),
        "mix": [
            {
                "flow": flow,
                "weight": workload.mix[flow],
                "share": mix.shares()[flow],
                "expected_iterations": None if counts is None else counts[flow],
            }
            for flow in mix.flows
        ],
        "workers": _worker_split(schedule, workers),
    }


def _budget_data(schedule: Schedule) -> dict[str, Any] | None:
    """An iteration executor's budget (None for the others): `iterations` in all
    (`per_vu: false`) or for each of `vus` users (`per_vu: true`), ending at `duration` at most."""
    if isinstance(schedule, OpenSchedule) or schedule.budget is None:
        return None
    budget = schedule.budget
    return {"vus": budget.vus, "iterations": budget.iterations, "per_vu": budget.per_vu}


def _chaos_data(line: Timeline) -> list[dict[str, Any]]:
    """One entry per fault, by start; `bar` marks the fault over the load's duration."""
    return [
        {
            "fault": w.fault,
            "type": w.type,
            "target": w.target,
            "at": w.start,
            "for": w.duration,
            "end": w.end,
            "bar": fault_bar(w.start, w.end, line.duration),
        }
        for w in line.windows
    ]


def fault_bar(start: float, end: float, duration: float, width: int = SPARK_WIDTH) -> str:
    """`.` where the load runs without the fault, `#` where any part of a cell has it: a fault
    shorter than a cell still shows as one mark."""
    step = duration / width
    return "".join("#" if start < (i + 1) * step and end > i * step else "." for i in range(width))


def _worker_split(schedule: Schedule, workers: int) -> list[dict[str, Any]]:
    """Each worker's VU cap (and arrivals, open model), for as many workers as `contval run`
    starts (`workers_for`: each needs a VU of its own, so the split stops at the VUs)."""
    used = workers_for(schedule, workers)
    if isinstance(schedule, ClosedSchedule):
        return [
            {
                "worker": w,
                "max_vus": schedule.worker_max_vus(w, used),
                "iterations": schedule.worker_iterations(w, used),
            }
            for w in range(used)
        ]
    return [
        {
            "worker": w,
            "max_vus": schedule.worker_max_vus(w, used),
            "iterations": schedule.worker_iterations(w, used),
        }
        for w in range(used)
    ]


def sparkline(schedule: Schedule, width: int = SPARK_WIDTH) -> str:
    """The profile over the run in `width` block characters; a blank means zero."""
    values = sample(schedule, width)
    peak = max(values)
    if peak <= 0:
        return " " * width
    return "".join(
        " " if v <= 0 else SPARKS[min(len(SPARKS), math.ceil(v / peak * len(SPARKS))) - 1]
        for v in values
    )


def render_plan(
    suite: Suite, scenarios: Sequence[str] | None = None, workers: int = 1, shared: bool = False
) -> str:
    """The plan as text for a terminal: one block per scenario (see `plan_data`)."""
    data = plan_data(suite, scenarios, workers, shared)
    plural = "" if workers == 1 else "s"
    lines = [f"Plan for suite {data['suite']} ({workers} worker{plural})"]
    for scenario in data["scenarios"]:
        lines += ["", *_render_scenario(scenario, workers)]
    if data["unused_workloads"]:
        lines += ["", f"Workloads no scenario uses: {', '.join(data['unused_workloads'])}"]
    return "\n".join(lines) + "\n"


def _render_scenario(s: dict[str, Any], workers: int) -> list[str]:
    start = f", from {_duration(s['start_time'])}" if s["alongside"] or s["start_time"] else ""
    lines = [
        f"scenario {s['name']}: workload {s['workload']} ({s['executor']}, {s['model']} "
        f"model){start}",
    ]
    if s["description"]:
        lines.append(f"  {s['description']}")
    lines += _render_workload(s, workers)
    lines += _render_chaos(s)
    lines.append("  thresholds")
    lines += [f"    {t}" for t in s["thresholds"]] or ["    (none)"]
    for part in s["alongside"]:
        lines += [
            "",
            f"  alongside {part['name']}: workload {part['workload']} ({part['executor']}, "
            f"{part['model']} model), from {_duration(part['start_time'])}",
            *_render_workload(part, workers),
            "  thresholds (this workload alone)",
            *([f"    {t}" for t in part["thresholds"]] or ["    (none)"]),
        ]
    if s["alongside"]:
        lines.append(f"  side by side, the scenario runs for {_duration(s['runs_for'])}")
    return lines


def _render_workload(s: dict[str, Any], workers: int) -> list[str]:
    is_open = s["model"] == "open"
    lines: list[str] = []
    lines.append(f"  duration    {_duration(s['duration'])}")
    counted = s["expected_iterations"] is not None
    if is_open:
        lines.append(f"  iterations  {s['expected_iterations']} expected")
    elif counted:
        lines.append(f"  iterations  {s['expected_iterations']} in all; {_budget_text(s)}")
    lines.append(f"  max VUs     {s['max_vus']}")
    lines += _render_profile(s, is_open)
    lines += _render_mix(s, counted)
    lines += _render_workers(s, workers, is_open, counted)
    return lines


def _render_profile(s: dict[str, Any], is_open: bool) -> list[str]:
    key, unit = ("rate", "rate/s") if is_open else ("vus", "VUs")
    rows = [[_duration(p["t"]), _number(p[key])] for p in s["profile"]]
    peak = max(p[key] for p in s["profile"])
    span = f"0s … {_duration(s['duration'])}, peak {_number(peak)}{'/s' if is_open else ''}"
    return [
        f"  profile (linear between rows{'' if is_open else ', rounded down'})",
        *_table(["at", unit], rows),
        f"    |{s['sparkline']}|  {span}",
    ]


def _render_mix(s: dict[str, Any], counted: bool) -> list[str]:
    headers = ["flow", "weight", "share"] + (["iterations"] if counted else [])
    rows = [
        [m["flow"], _number(m["weight"]), f"{m['share'] * 100:.1f}%"]
        + ([str(m["expected_iterations"])] if counted else [])
        for m in s["mix"]
    ]
    return ["  mix", *_table(headers, rows)]


def _budget_text(s: dict[str, Any]) -> str:
    """How an iteration executor's budget ends: done, or cut at `max_duration`."""
    budget = s["budget"]
    n, vus = budget["iterations"], budget["vus"]
    how = f"{n} for each of {vus} VUs" if budget["per_vu"] else f"shared by {vus} VUs"
    return f"{how}; at most {_duration(s['duration'])} (unstarted ones are dropped)"


def _render_workers(
    s: dict[str, Any], workers: int, is_open: bool, counted: bool = False
) -> list[str]:
    split = s["workers"]
    title = f"  workers ({len(split)})"
    if len(split) < workers and len(split) >= s["max_vus"]:
        cap = "max_vus" if is_open else "the peak VUs"
        title += f": {workers} requested, but {cap} {s['max_vus']} allows {len(split)}"
    elif len(split) < workers:  # `shared`: the cluster's workers go round its workloads
        title += f": its share of the {workers} workers, side by side"
    counted = counted or is_open
    headers = ["worker", "max VUs" if is_open else "peak VUs"] + (["iterations"] if counted else [])
    rows = [
        [str(w["worker"]), str(w["max_vus"])] + ([str(w["iterations"])] if counted else [])
        for w in split
    ]
    return [title, *_table(headers, rows)]


def _render_chaos(s: dict[str, Any]) -> list[str]:
    """The fault table, then one bar per fault over the load (each mark = duration / width)."""
    if not s["chaos"]:
        return []
    rows = [
        [c["fault"], c["type"], c["target"], _duration(c["at"]), _duration(c["for"])]
        for c in s["chaos"]
    ]
    name_width = max(len(c["fault"]) for c in s["chaos"])
    end = _duration(s["duration"])
    axis = "0s".ljust(SPARK_WIDTH - len(end)) + end
    return [
        "  chaos",
        *_table(["fault", "type", "target", "at", "for"], rows, left=3),
        f"    {'':{name_width}}  {axis}",
        *(f"    {c['fault']:{name_width}}  {c['bar']}" for c in s["chaos"]),
    ]


def _table(headers: list[str], rows: list[list[str]], indent: int = 4, left: int = 1) -> list[str]:
    """Columns padded to width: the first `left` left-aligned (names), the rest right (numbers)."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        padded = [
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return (" " * indent + "  ".join(padded)).rstrip()

    return [line(headers), *(line(row) for row in rows)]


def _duration(seconds: float) -> str:
    """Like the suite file writes it (`1m30s`), with the run's start as `0s` rather than `0ms`."""
    return "0s" if seconds == 0 else format_duration(seconds)


def _number(value: float) -> str:
    """50.0 → '50', 0.125 → '0.125': no exponent, no trailing zeros."""
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"
