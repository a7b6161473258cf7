"""`contval run`: load the suite, check the targets, run each scenario on local workers, judge
its thresholds, write results as the run goes, and return the exit code."""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from contval.engine import messages as msg
from contval.engine.local import LocalController, RunOutcome, SecondStats, WorkerFailed
from contval.engine.schedules import OpenSchedule, Schedule, schedule_for
from contval.exitcodes import ExitCode
from contval.metrics import Histogram, Series, Snapshot
from contval.pipeline.preflight import targets_used, unreachable
from contval.report import console as con
from contval.report.result import ResultFile, flows_dict, iso, second_row, totals_dict
from contval.spec import Suite
from contval.thresholds import Threshold, Verdict, check_abort, evaluate_all, parse_threshold

RESULT_EVERY = 5  # seconds between rewrites of result.json while a scenario runs


@dataclass(frozen=True)
class RunOptions:
    suite_path: Path
    suite: Suite
    scenarios: tuple[str, ...]
    out_dir: Path
    workers: int
    overrides: tuple[tuple[str, str], ...] = ()
    target_overrides: tuple[tuple[str, str], ...] = ()
    seed: int | None = None
    grace: float = 30.0


@dataclass
class _Interrupt:
    reason: str | None = None
    controller: LocalController | None = None
    handlers: dict[int, Any] = field(default_factory=dict)


@contextmanager
def _signals(state: _Interrupt) -> Iterator[None]:
    """SIGINT and SIGTERM stop the load cleanly; the results of what ran are kept."""

    def handler(signum: int, frame: object) -> None:
        state.reason = "interrupted by " + signal.Signals(signum).name
        if state.controller is not None:
            state.controller.stop(state.reason)

    for sig in (signal.SIGINT, signal.SIGTERM):
        state.handlers[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for signum, old in state.handlers.items():
            signal.signal(signum, old)


def run_suite(options: RunOptions, console: Console) -> ExitCode:
    suite = options.suite
    problems = unreachable(targets_used(suite, options.scenarios))
    if problems:
        for problem in problems:
            console.print(f"[red]error:[/red] {problem}", highlight=False)
        console.print("nothing was run; start the system under test or fix `targets`.")
        return ExitCode.RUN_INCOMPLETE
    result = ResultFile(
        options.out_dir / "result.json", suite.name, str(options.suite_path), time.time()
    )
    result.write()
    state = _Interrupt()
    code = ExitCode.OK
    with _signals(state):
        for name in options.scenarios:
            if state.reason:
                break
            scenario_code = _run_scenario(options, name, result, state, console)
            code = max(code, scenario_code)
    result.complete = state.reason is None and code != ExitCode.RUN_INCOMPLETE
    if state.reason:
        code = ExitCode.RUN_INCOMPLETE
    result.exit_code = int(code)
    result.verdict = {ExitCode.OK: "pass", ExitCode.THRESHOLD_FAILED: "fail"}.get(code, "error")
    result.write()
    console.print(f"results: {result.path}", highlight=False)
    return code


def _run_scenario(
    options: RunOptions, name: str, result: ResultFile, state: _Interrupt, console: Console
) -> ExitCode:
    suite = options.suite
    scenario = suite.scenarios[name]
    workload = suite.workloads[scenario.workload]
    schedule = schedule_for(workload)
    thresholds = [parse_threshold(text) for text in scenario.thresholds]
    entry: dict[str, Any] = {
        "name": name,
        "workload": scenario.workload,
        "executor": workload.executor,
        "verdict": "running",
        "complete": False,
        "stop_reason": None,
    }
    result.scenarios.append(entry)
    workers = _workers_for(schedule, options.workers)
    jobs = [
        msg.WorkerJob(
            str(options.suite_path),
            name,
            options.overrides,
            w,
            workers,
            options.target_overrides,
            options.seed,
            options.grace,
        )
        for w in range(workers)
    ]
    console.print(
        f"[bold]scenario {name}[/bold]: {workload.executor}, "
        f"{schedule.duration:g}s, {workers} worker(s)",
        highlight=False,
    )
    controller = LocalController(jobs)
    state.controller = controller
    try:
        controller.start()
    except WorkerFailed as exc:
        controller.close()
        console.print(f"[red]error:[/red] could not start the workers: {exc}", highlight=False)
        entry.update(verdict="error", stop_reason="workers failed to start")
        return ExitCode.RUN_INCOMPLETE
    rows: list[dict[str, Any]] = []
    progress = con.Progress(console, name, schedule.duration)
    aborts = [t for t in thresholds if t.abort]

    def on_second(series: Series, snapshot: Snapshot, stats: SecondStats) -> str | None:
        row = second_row(snapshot, stats.active, stats.lag_ms, stats.rss_mb)
        rows.append(row)
        progress.update(row, _running_p95(series))
        if stats.second % RESULT_EVERY == RESULT_EVERY - 1:
            _fill(entry, options, series, rows, controller.outcome, thresholds, final=False)
            result.write()
        return _abort_reason(aborts, series)

    try:
        outcome = controller.run(on_second)
    finally:
        controller.close()
        state.controller = None
        progress.finish()
    if state.reason and not outcome.stop_reason:
        outcome.stop_reason = state.reason
    code = _fill(entry, options, outcome.series, rows, outcome, thresholds, final=True)
    result.write()
    con.print_scenario(console, entry)
    return code


def _running_p95(series: Series) -> float | None:
    hist = Histogram()
    for slot in series.totals().slots.values():
        hist.add(slot.latency)
    value = hist.percentile(95)
    return None if value is None else value / 1000


def _abort_reason(aborts: Sequence[Threshold], series: Series) -> str | None:
    for threshold in aborts:
        failed = check_abort(threshold, series)
        if failed is not None:
            observed = f"{failed.observed:.4g} {failed.unit}"
            return f"aborted: `{failed.expression}` failed (observed {observed})"
    return None


def _fill(
    entry: dict[str, Any],
    options: RunOptions,
    series: Series,
    rows: list[dict[str, Any]],
    outcome: RunOutcome,
    thresholds: list[Threshold],
    final: bool,
) -> ExitCode:
    kinds = {name: flow.kind for name, flow in options.suite.flows.items()}
    # seconds past the schedule only drain iterations in flight: not part of the load's duration
    scheduled = math.ceil(schedule_for(options.suite.workloads[entry["workload"]]).duration)
    elapsed = min(len(rows), scheduled)
    evaluated = [r.to_dict() for r in evaluate_all(thresholds, series)]
    entry.update(
        started_at=iso(outcome.started_at) if outcome.started_at else None,
        duration_s=elapsed,
        thresholds=evaluated,
        totals=totals_dict(series, elapsed, outcome.interrupted_iterations),
        flows=flows_dict(series, kinds),
        series=list(rows),
    )
    if not final:
        return ExitCode.OK
    interrupted = bool(outcome.stop_reason and not outcome.stop_reason.startswith("aborted"))
    failed = outcome.failures or interrupted
    aborted = bool(outcome.stop_reason and outcome.stop_reason.startswith("aborted"))
    verdicts = {r["verdict"] for r in evaluated}
    if failed:
        verdict, code = "error", ExitCode.RUN_INCOMPLETE
    elif aborted or Verdict.FAIL in verdicts or Verdict.NO_DATA in verdicts:
        verdict, code = "fail", ExitCode.THRESHOLD_FAILED
    else:
        verdict, code = "pass", ExitCode.OK
    entry.update(
        verdict=verdict,
        complete=not failed and not aborted,
        stop_reason=outcome.stop_reason,
        failures=outcome.failures,
    )
    return code


def _workers_for(schedule: Schedule, wanted: int) -> int:
    """Every worker needs at least one virtual user of its own."""
    cap = schedule.max_vus if isinstance(schedule, OpenSchedule) else schedule.max_vus()
    return max(1, min(wanted, cap))


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))
