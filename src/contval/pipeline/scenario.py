"""One scenario: workers under load, the chaos timeline beside them, then the verdict."""

from __future__ import annotations

import math
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rich.console import Console

from contval.chaos.session import FaultRecord, FaultSession
from contval.chaos.timeline import Timeline, timeline
from contval.engine import messages as msg
from contval.engine.controller import Controller
from contval.engine.local import (
    LocalController,
    RunOutcome,
    SecondStats,
    WorkerFailed,
    load_seconds,
)
from contval.engine.plan import part_workers
from contval.engine.schedules import schedule_for, workers_for
from contval.engine.side_by_side import SideBySide
from contval.exitcodes import ExitCode
from contval.flows.oneshot import run_once
from contval.metrics import Histogram, Series, Snapshot
from contval.metrics.phases import phase_summary
from contval.pipeline.chaos import ChaosThread
from contval.pipeline.options import Interrupt, RunOptions
from contval.pipeline.parts import (
    AbortWatch,
    abort_reason,
    part_abort,
    part_entries,
    print_parts,
    side_by_side,
    span,
    watches,
)
from contval.pipeline.verdict import Stop, StopCause, baseline_figures, decide, not_started, note
from contval.report import console as con
from contval.report.generator import generator_dict
from contval.report.result import (
    FlowSeries,
    ResultFile,
    flows_dict,
    iso,
    second_row,
    step_order,
    totals_dict,
)
from contval.report.seconds import SecondsLog
from contval.signals.run import SignalRun, SourceError
from contval.thresholds import Kind, Signals, Threshold, evaluate_all, parse_threshold
from contval.thresholds.health import flow_health


@dataclass
class ScenarioRun:
    """The state of one scenario while it runs, shared by the callbacks."""

    options: RunOptions
    name: str
    entry: dict[str, Any]
    thresholds: list[Threshold]
    timeline: Timeline
    rows: list[dict[str, Any]] = field(default_factory=list)
    flow_series: FlowSeries = field(default_factory=FlowSeries)
    chaos: ChaosThread | None = None
    invalid: str | None = None
    stop: StopCause | None = None  # why the load stopped early (`verdict.note`)
    signals: SignalRun | None = None  # the server-side signals scraped beside the load
    side: SideBySide | None = None  # workloads run `alongside` the scenario's own (pipeline.parts)


def run_scenario(
    options: RunOptions, name: str, result: ResultFile, state: Interrupt, console: Console
) -> ExitCode:
    suite = options.suite
    scenario = suite.scenarios[name]
    workload = suite.workloads[scenario.workload]
    schedule = schedule_for(workload)
    run = ScenarioRun(
        options,
        name,
        {
            "name": name,
            "workload": scenario.workload,
            "executor": workload.executor,
            "planned_iterations": schedule.expected_iterations(),
            "start_time_s": scenario.start_time,
            "verdict": "running",
            "complete": False,
            "stop_reason": None,
        },
        [parse_threshold(text) for text in scenario.thresholds],
        timeline(scenario, suite),
    )
    result.scenarios.append(run.entry)
    counts = part_workers(suite, name, options.workers, shared=options.cluster is not None)
    workers, total = counts[0], sum(counts)  # the scenario's own workload's; every workload's
    duration = span(suite, name)
    _announce(run, console, duration, total)
    overrides = _setup(run, scenario.setup, options, console)
    if overrides is None:
        return ExitCode.RUN_INCOMPLETE  # the setup flow failed: recorded as not started
    try:
        jobs = _jobs(replace(options, overrides=overrides), name, workers)
    except (OSError, ValueError) as exc:  # a data file changed or vanished since validation
        console.print(f"[red]error:[/red] could not read the data files: {exc}", highlight=False)
        return not_started(run, str(exc))
    run.signals = SignalRun.for_suite(suite)
    if run.signals is not None:
        try:
            run.signals.probe()  # before any worker starts: a source it cannot read is exit 3
        except SourceError as exc:
            console.print(f"[red]error:[/red] {exc}", highlight=False)
            code = not_started(run, str(exc))
            run.entry["stop_reason"] = "a metrics source could not be read"
            return code
    controller = _controllers(run, replace(options, overrides=overrides), jobs, counts)
    state.controller = controller
    try:
        controller.start()
    except WorkerFailed as exc:
        run.entry["engine"] = _engine(controller, total)
        controller.close()
        console.print(f"[red]error:[/red] could not start the workers: {exc}", highlight=False)
        return not_started(run, str(exc))
    run.entry["engine"] = _engine(controller, total)
    if not run.timeline.windows:
        outcome = _load(run, controller, duration, result, console, state)
        _teardown(run, scenario.teardown, options, overrides, console)
        return _finish(run, outcome, result, console, [], state.reason)
    with FaultSession(f"{name}-{uuid.uuid4().hex[:8]}") as session:
        run.chaos = ChaosThread(
            suite,
            run.timeline,
            session,
            [t for t in run.thresholds if t.aggregate.kind is not Kind.SIGNAL],  # judged after
            lambda: (controller.outcome.series, controller.lock),
            lambda reason: _invalid(run, controller, reason),
        )
        state.chaos = run.chaos
        run.chaos.start()
        try:
            outcome = _load(run, controller, duration, result, console, state)
        finally:
            run.chaos.stop()
            run.chaos.join(timeout=120)
            state.chaos = None
    records = session.records
    for line in run.chaos.state.log:
        console.print(f"  chaos: {line}", highlight=False)
    _teardown(run, scenario.teardown, options, overrides, console)
    return _finish(run, outcome, result, console, records, state.reason)


def _announce(run: ScenarioRun, console: Console, duration: float, workers: int) -> None:
    scenario = run.options.suite.scenarios[run.name]
    executor = run.options.suite.workloads[scenario.workload].executor
    side = f" + {len(scenario.alongside)} alongside" if scenario.alongside else ""
    console.print(
        f"[bold]scenario {run.name}[/bold]: {executor}{side}, {duration:g}s, "
        f"{workers} worker(s)"
        + (f", {len(run.timeline.windows)} fault(s)" if run.timeline.windows else ""),
        highlight=False,
    )


def _setup(
    run: ScenarioRun, flow: str | None, options: RunOptions, console: Console
) -> tuple[tuple[str, str], ...] | None:
    """The scenario's setup flow, once before any worker starts (flows/oneshot.py): the run's
    overrides with the variables it set, or None when it failed (recorded as not started)."""
    if flow is None:
        return options.overrides
    shot = run_once(options.suite, flow, options.overrides, options.seed)
    run.entry["setup"] = shot.entry()
    console.print(f"  setup: {shot.summary()}", highlight=False)
    if not shot.ok:
        not_started(run, f"setup {shot.summary()}")
        run.entry["stop_reason"] = "the setup flow failed"
        return None
    return (*options.overrides, *shot.values.items())


def _teardown(
    run: ScenarioRun,
    flow: str | None,
    options: RunOptions,
    overrides: tuple[tuple[str, str], ...],
    console: Console,
) -> None:
    """The scenario's teardown flow, once after the load (stopped or not), with its variables."""
    if flow is not None:
        shot = run_once(options.suite, flow, overrides, options.seed)
        run.entry["teardown"] = shot.entry()
        console.print(f"  teardown: {shot.summary()}", highlight=False)


def _invalid(run: ScenarioRun, controller: Controller, reason: str) -> None:
    chaos = run.chaos.state if run.chaos is not None else None
    stop = chaos.invalid_stop if chaos is not None and chaos.invalid == reason else None
    note(run, Stop(stop) if stop else Stop.CHAOS_FAILED, reason)
    run.invalid = run.invalid or reason
    controller.stop(reason)


def _controllers(
    run: ScenarioRun, options: RunOptions, jobs: list[msg.WorkerJob], counts: list[int]
) -> Controller:
    """The scenario's controller; with workloads `alongside`, one per workload driven together
    (`run.side`), each on its count of workers, the scenario's own on `jobs`."""
    if not options.suite.scenarios[run.name].alongside:
        return _controller(run.options, jobs)
    run.side = side_by_side(
        options.suite,
        run.name,
        counts,
        lambda n, part: _jobs(options, run.name, n, part) if part else jobs,
        lambda part_jobs: _controller(options, part_jobs),
    )
    return run.side


def _controller(options: RunOptions, jobs: list[msg.WorkerJob]) -> Controller:
    """Local worker processes, or Ray actors with `--cluster` (Ray is imported only then)."""
    if options.cluster is None:
        return LocalController(jobs)
    from contval.engine.ray_controller import RayController

    return RayController(jobs, options.cluster, options.workers_per_node)


def _described(controller: Controller) -> dict[str, Any] | None:
    """What a cluster controller says of its nodes; None for local workers. Workloads side by
    side on a cluster are one cluster: their nodes merged, and each workload's own."""
    if isinstance(controller, SideBySide):
        parts = [(p.name, _described(_unwrapped(p.controller))) for p in controller.parts]
        described = [(name, found) for name, found in parts if found is not None]
        if not described:
            return None
        from contval.engine.ray_controller import side_by_side_engine

        return side_by_side_engine(described)
    describe = getattr(controller, "engine", None)
    return dict(describe()) if callable(describe) else None


def _unwrapped(controller: Controller) -> Controller:
    """A workload's own controller (an `AbortWatch` only keeps its seconds)."""
    return controller.inner if isinstance(controller, AbortWatch) else controller


def _engine(controller: Controller, workers: int) -> dict[str, Any]:
    """result.json `engine`: where the workers ran. A cluster controller describes its nodes
    (with what each one's workers did); local workers all ran on this host."""
    described = _described(controller)
    if described is not None:
        return described
    host = {"node_id": "local", "host": socket.gethostname(), "workers": workers}
    return {
        "kind": "local",
        "address": None,
        "nodes": [host | {"cpu": float(len(os.sched_getaffinity(0)))}],
    }


def _jobs(
    options: RunOptions, name: str, workers: int, part: str | None = None
) -> list[msg.WorkerJob]:
    """The suite as loaded and retargeted here, shipped whole: workers never read its files."""
    return msg.jobs_for(
        options.suite,
        name,
        workers,
        options.overrides,
        options.seed,
        options.grace,
        debug_http=options.debug_http,
        part=part,
    )


def _load(
    run: ScenarioRun,
    controller: Controller,
    duration: float,
    result: ResultFile,
    console: Console,
    state: Interrupt,
) -> RunOutcome:
    """Drive the load; every complete second updates progress, results and abort checks.

    result.json is written before the load starts; each complete second is appended to the
    per-second log beside it (contval.report.seconds), so a kill loses at most one second and
    a second's cost does not grow with the run. The outcome's series is cut to the load
    window: the seconds draining iterations after the schedule fold into its last second."""
    progress = con.Progress(console, run.name, duration, run.options.grace)
    aborts = [t for t in run.thresholds if t.abort]
    every_abort = [*aborts, *(t for w in watches(run.side) for t in w.aborts)]
    flows = run.options.suite.flows
    kinds = {name: flow.kind for name, flow in flows.items()}
    index = len(result.scenarios) - 1
    log = SecondsLog(result.seconds_path, run.name, index, kinds, step_order(flows))
    result.write()

    def on_second(series: Series, snapshot: Snapshot, stats: SecondStats) -> str | None:
        row = second_row(snapshot, stats.active, stats.lag_ms, stats.rss_mb)
        row["worker_cpu"] = stats.cpu  # the busiest worker's share of a core (generator health)
        run.rows.append(row)
        run.flow_series.add(snapshot)
        log.second(row, snapshot)
        progress.update(row, _running_p95(series))
        if stats.second >= math.ceil(duration):
            return None  # draining, not load: no abort threshold judges it (the load window)
        faults = _fault_windows(run, series)
        signals = _live_signals(run, every_abort, series.end)
        reason = part_abort(run.side, stats.second, faults, signals)  # a workload's own aborts
        reason = abort_reason(aborts, series, faults, signals) or reason
        if reason:
            note(run, Stop.ABORTED, reason)
        if reason and run.chaos is not None:
            run.chaos.stop()  # an abort stops the load and reverts every fault at once
        return reason

    def on_tick(offset: float) -> None:
        if not log.started:
            log.start(controller.outcome.started_at)
        if run.signals is not None and run.signals.origin is None:
            run.signals.origin = controller.start_time
            run.signals.wall_origin = controller.outcome.started_at
        if run.chaos is not None:
            run.chaos.begin(controller.start_time)

    if run.signals is not None:
        run.signals.start()  # on their own threads, never on a worker's event loop
    try:
        outcome = controller.run(on_second, on_tick)
    finally:
        if run.signals is not None:
            run.signals.stop()
        controller.close()
        if (described := _described(controller)) is not None:  # a cluster's, as it ended
            run.entry["engine"] = described
        log.close()
        state.controller = None
        progress.finish()
    if state.reason and not outcome.stop_reason:
        outcome.stop_reason = state.reason
    outcome.series.fold_after(load_seconds(duration, outcome))
    return outcome


def _finish(
    run: ScenarioRun,
    outcome: RunOutcome,
    result: ResultFile,
    console: Console,
    records: Sequence[FaultRecord],
    interrupted: str | None = None,
) -> ExitCode:
    _fill(run, outcome.series, outcome, final=True, records=records)
    faults = _fault_windows(run, outcome.series)
    code = decide(run, outcome, faults, console, interrupted)
    result.write()
    con.print_scenario(console, run.entry)
    print_parts(console, run.entry)
    unreverted = [r for r in records if r.reverted_ok is False]
    for record in unreverted:
        console.print(
            f"[red]fault {record.name} ({record.type} on {record.target}) could not be "
            f"confirmed reverted:[/red] {record.detail}. Check the target, then run "
            "`contval recover`.",
            highlight=False,
        )
    return ExitCode.FAULT_NOT_REVERTED if unreverted else code


__all__ = ["baseline_figures", "run_scenario", "workers_for"]


def _running_p95(series: Series) -> float | None:
    hist = Histogram()
    for slot in series.totals().slots.values():
        hist.add(slot.latency)
    value = hist.percentile(95)
    return None if value is None else value / 1000


def _fault_windows(run: ScenarioRun, series: Series) -> dict[str, tuple[int, int]]:
    """Faults as judged (whole seconds): from the verified inject to the revert, or to the last
    moment a lapsed lease was confirmed; one still active ends at the series' end."""
    if run.chaos is None:
        return {}
    return run.chaos.state.whole_seconds(series.end)


def _live_signals(run: ScenarioRun, aborts: Sequence[Threshold], seconds: int) -> Signals | None:
    """The signals so far, only when an `abort` threshold reads one (deriving costs a pass
    over the scrapes)."""
    if run.signals is None or not any(t.aggregate.kind is Kind.SIGNAL for t in aborts):
        return None
    return run.signals.series(seconds, final=False)


def _fill(
    run: ScenarioRun,
    series: Series,
    outcome: RunOutcome,
    final: bool,
    records: Sequence[FaultRecord] = (),
) -> ExitCode:
    suite = run.options.suite
    kinds = {name: flow.kind for name, flow in suite.flows.items()}
    # the load window (`_load` folded the draining seconds into its last): every figure of
    # the scenario, its rates and its thresholds are over these seconds, and only these
    elapsed = series.end - series.start if run.rows else 0
    faults = _fault_windows(run, series)
    signals = run.signals.series(elapsed) if run.signals is not None else None
    evaluated = [
        r.to_dict() for r in evaluate_all(run.thresholds, series, faults=faults, signals=signals)
    ]
    run.entry.update(
        started_at=iso(outcome.started_at) if outcome.started_at else None,
        duration_s=elapsed,
        generator_saturated=outcome.saturated is not None,
        generator=_generator(outcome, series),
        thresholds=evaluated,
        totals=totals_dict(series, elapsed, outcome.interrupted_iterations),
        flows=flows_dict(series, kinds, step_order(suite.flows)),
        series=list(run.rows),
        flow_series=run.flow_series.to_dict(list(kinds)),
    )
    if run.signals is not None:
        run.entry["signals"] = run.signals.entries(elapsed)
    if run.side is not None and final:
        outcomes = run.side.part_outcomes()
        run.entry["workloads"] = part_entries(
            suite, run.name, outcomes, series.end, faults, signals
        )
    if run.timeline.windows:
        run.entry["faults"] = _faults_dict(run, records)
        if final:
            values = {n: s.values for n, s in signals.items()} if signals is not None else None
            run.entry["phases"] = phase_summary(series, faults, list(kinds), values)
    if not final:
        return ExitCode.OK
    flows = [name for name in kinds if name in run.entry["flows"]]
    run.entry["health"] = flow_health(
        run.thresholds, series, flows, faults, end=series.end, signals=signals
    )
    return ExitCode.OK  # the verdict is `contval.pipeline.verdict`'s


def _generator(outcome: RunOutcome, series: Series) -> dict[str, Any]:
    """result.json `generator`: the generator's own CPU and lag (`report.generator`)."""
    c = series.totals().counters()
    return generator_dict(outcome.stats, c.iterations, c.late_starts, outcome.saturated is not None)


def _faults_dict(run: ScenarioRun, records: Sequence[FaultRecord]) -> list[dict[str, Any]]:
    by_name = {r.name: r for r in records}
    actual = run.chaos.state.windows if run.chaos is not None else {}
    rows = []
    for window in run.timeline.windows:
        record = by_name.get(window.fault)
        start, end = actual.get(window.fault, (None, None))
        rows.append(
            {
                "name": window.fault,
                "type": window.type,
                "target": window.target,
                "at_s": window.start,
                "for_s": window.end - window.start,
                "injected_at_s": None if start is None else round(start, 3),
                "reverted_at_s": None if end is None else round(end, 3),
                "skipped": record.skipped if record else False,
                "verified": record.verified if record else None,
                "verify_detail": record.verify_detail if record else "",
                "reverted": record.reverted_ok if record else None,
                "detail": record.detail if record else "not injected",
                "error": record.error if record else None,
                **(run.chaos.state.fault_fields(window.fault) if run.chaos else {}),
            }
        )
    return rows
