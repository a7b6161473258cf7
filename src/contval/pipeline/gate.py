"""The baseline gate: compare a finished scenario with its baseline runs, then store it.

Per flow (and per step a threshold names) and per metric (p50/p95/p99 latency, error rate,
throughput or, for open-model runs, dropped and late iterations), the current run's windows are
compared with those of the baseline runs (`contval.baseline.compare`). Windows adapt to the
scenario's planned length (`window_size`). Chaos scenarios compare each phase of each fault with
the same phase of their baseline. Comparing (`compare_run`) and recording (`record`) are two
steps: `contval.pipeline.verdict` records the run once, with its final verdict, so the run is
never its own baseline and a failed run never becomes part of one.

A scenario that runs workloads side by side (`alongside`) is compared as a whole, and each of
its workloads on its own too (`workload`, `plan_part`): over the seconds it ran, with its own
mix, against the baseline of that workload alone (the history keys its runs by its name).
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Final

from contval.baseline.compare import (
    METRICS,
    MIN_WINDOWS,
    Comparison,
    MetricName,
    compare,
    summarize,
)
from contval.baseline.fingerprint import fingerprint
from contval.baseline.policy import admits
from contval.baseline.records import RunMeta, SignalWindow, WindowRecord
from contval.baseline.store import HistoryStore
from contval.baseline.windows import signal_windows_of, windows_of
from contval.metrics import Histogram, Series
from contval.metrics.rates import per_second
from contval.spec import Suite
from contval.thresholds import Kind, Threshold, parse_threshold

Window = tuple[int, int]
PHASES = ("before", "during", "after")
WINDOWS_PER_RUN: Final = 5
WINDOWS_PER_PHASE: Final = 3


@dataclass(frozen=True)
class GateOptions:
    store: str | None = None  # path; None: CONTVAL_STORE or .contval/history.db
    env: str = "local"
    label: str | None = None
    require_baseline: bool = False
    enabled: bool = True
    allow_ungated: bool = False  # a suite that judges nothing may exit 0


@dataclass(frozen=True)
class GateResult:
    outcome: str  # pass | regression | inconclusive | no_baseline | improvement
    mode: str = "rolling"
    fingerprint: str = ""
    baseline_runs: tuple[str, ...] = ()
    run_id: str | None = None
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    detail: str = ""
    accepted: bool | None = None  # joins rolling baselines (None: not recorded yet)
    not_compared: tuple[str, ...] = ()  # tail percentiles too thin to measure, and why

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.outcome,
            "mode": self.mode,
            "fingerprint": self.fingerprint,
            "baseline_runs": list(self.baseline_runs),
            "run_id": self.run_id,
            "accepted": self.accepted,
            "not_compared": list(self.not_compared),
            "detail": self.detail,
            "comparisons": self.comparisons,
        }


def git_label() -> str | None:
    """The current git commit (short), when the working directory is a repository."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


@dataclass(frozen=True)
class GatePlan:
    """The window grid of a scenario, planned from its schedule and fault timeline alone, so a
    run and every one of its baseline runs are cut the same way (never from when a fault
    happened to start, or from how long the run took to drain)."""

    duration: int  # the grid's end, in the scenario's seconds
    faults: Mapping[str, Window]
    open_model: bool = False
    start: int = 0  # the grid's start: a workload run alongside from its `start_time`

    @property
    def span(self) -> Window:
        return (self.start, self.duration)

    @property
    def length(self) -> int:
        """Seconds in the grid."""
        return self.duration - self.start

    @property
    def size(self) -> int:
        return window_size(self.length, self.relative_faults())

    @property
    def phases(self) -> list[tuple[str, str]]:
        """(fault, phase) pairs that last at least a second (a fault at 0 has no `before`)."""
        return [
            (name, phase)
            for name, (f0, f1) in self.relative_faults().items()
            for phase, seconds in zip(PHASES, (f0, f1 - f0, self.length - f1), strict=True)
            if seconds > 0
        ]

    def relative_faults(self) -> dict[str, Window]:
        """The faults from the grid's start, cut to it (a fault before it is all `after`)."""
        length = self.length
        return {
            name: (min(max(f0 - self.start, 0), length), min(max(f1 - self.start, 0), length))
            for name, (f0, f1) in self.faults.items()
        }


def plan_gate(suite: Suite, scenario: str) -> GatePlan:
    """The planned duration, fault windows (whole seconds) and load model of `scenario`."""
    from contval.chaos.timeline import timeline
    from contval.engine.schedules import OpenSchedule, schedule_for

    model = suite.scenarios[scenario]
    planned = timeline(model, suite)
    duration = max(1, math.ceil(planned.duration))
    faults = {}
    for w in planned.windows:
        first = min(math.floor(w.start), duration)
        faults[w.fault] = (first, min(max(math.ceil(w.end), first + 1), duration))
    schedule = schedule_for(suite.workloads[model.workload])
    return GatePlan(duration, faults, isinstance(schedule, OpenSchedule))


def plan_part(suite: Suite, scenario: str, name: str) -> GatePlan:
    """The grid of one workload of a scenario that runs several side by side: the seconds it
    was planned to run ([start_time, start_time + its duration), in the scenario's seconds, so
    fault phases line up), with the scenario's faults and that workload's load model."""
    from contval.engine.schedules import OpenSchedule, schedule_for

    (workload, start) = next((w, t) for n, w, t in suite.scenarios[scenario].parts() if n == name)
    schedule = schedule_for(suite.workloads[workload])
    first = math.floor(start)
    end = max(first + 1, math.ceil(start + schedule.duration))
    faults = plan_gate(suite, scenario).faults
    return GatePlan(end, faults, isinstance(schedule, OpenSchedule), first)


def part_workload(suite: Suite, scenario: str, name: str | None) -> str:
    """The workload (under `workloads`) that `name` runs: the scenario's own when None."""
    if name is None:
        return suite.scenarios[scenario].workload
    return next(w for n, w, _ in suite.scenarios[scenario].parts() if n == name)


@dataclass(frozen=True)
class PendingGate:
    """A comparison made but not yet recorded: the run joins the history only once its final
    verdict is known (`record`), so a run that a baseline threshold then fails is stored as
    failed and never becomes part of the next baseline."""

    result: GateResult
    windows: tuple[WindowRecord, ...]
    meta: RunMeta
    signal_windows: tuple[SignalWindow, ...] = ()


def compare_run(
    options: GateOptions,
    suite: Suite,
    scenario: str,
    series: Series,
    thresholds: Sequence[Threshold],
    started_at: float,
    duration_s: float,
    plan: GatePlan | None = None,
    signals: Mapping[str, Sequence[float | None]] | None = None,
    workload: str | None = None,
) -> PendingGate:
    """Compare a finished run with its baseline; nothing is written. Pure but for the store.
    `signals`: the server-side signals' values per second of the load, kept per window and
    compared where the suite asks (`signal_tolerances`). `workload`: one workload run
    alongside others (`series` its own, `plan` from `plan_part`, `thresholds` its own), against
    that workload's baseline; it compares only the signals its own thresholds name (the system's
    signals are the scenario's to compare)."""
    plan = plan or plan_gate(suite, scenario)
    policy = suite.scenarios[scenario].baseline
    print_ = fingerprint(suite, scenario)
    faults = dict(plan.faults)
    windows = windows_of(series, plan.size, faults, span=plan.span)
    kept = signal_windows_of(signals or {}, plan.size, faults, span=plan.span)
    with HistoryStore(options.store) as store:
        baseline = store.baseline(suite.name, scenario, options.env, print_, workload=workload)
        base_windows = {r.id: store.windows(r.id) for r in baseline.runs if r.id}
        base_signals = {r.id: store.signal_windows(r.id) for r in baseline.runs if r.id}
    skipped: list[str] = []
    mix = suite.workloads[part_workload(suite, scenario, workload)].mix
    comparisons = compare_all(
        windows,
        base_windows,
        scope_metrics(suite, scenario, thresholds, plan.open_model, mix),
        plan.phases,
        policy.min_runs,
        policy.tolerances(),
        floor_ms=policy.latency_floor * 1000,
        served=served_per_second(series, plan.duration, plan.start),
        named={
            (t.scope.flow or "*", t.scope.step or "", str(t.aggregate.baseline_metric))
            for t in thresholds
        },
        skipped=skipped,
    )
    comparisons += compare_signals(
        kept,
        base_signals,
        signal_tolerances(suite, thresholds, signals or {}, declared=workload is None),
        plan.phases,
        policy.min_runs,
    )
    outcome = summarize(s.comparison for s in comparisons)
    detail = _detail(outcome, baseline.runs, baseline.mismatched, policy.min_runs, comparisons)
    result = GateResult(
        outcome,
        baseline.mode,
        print_,
        baseline.run_ids,
        None,
        [comparison_row(c) for c in comparisons],
        detail,
        not_compared=tuple(skipped),
    )
    meta = RunMeta(
        suite=suite.name,
        scenario=scenario,
        fingerprint=print_,
        started_at=datetime.fromtimestamp(started_at, UTC).isoformat(),
        env=options.env,
        label=options.label or git_label(),
        duration_s=duration_s,
        workload=workload,
    )
    return PendingGate(result, tuple(windows), meta, tuple(kept))


def record(
    options: GateOptions, pending: PendingGate, verdict: str, accepted: bool, complete: bool
) -> GateResult:
    """Store the run once, with its final verdict; only `accepted` runs join rolling baselines."""
    (recorded,) = record_all(options, [(pending, verdict, accepted)], complete)
    return recorded


def record_all(
    options: GateOptions,
    runs: Sequence[tuple[PendingGate, str, bool]],
    complete: bool,
) -> list[GateResult]:
    """Store a scenario's run and its workloads' own, each (pending, verdict, accepted), in one
    transaction: the history holds all of them or none."""
    metas = [
        replace(
            pending.meta,
            verdict=verdict,
            accepted=accepted,
            complete=complete,
            inconclusive=inconclusive_keys(pending.result.comparisons),
        )
        for pending, verdict, accepted in runs
    ]
    with HistoryStore(options.store) as store:
        ids = store.record_runs(
            [(m, p.windows, p.signal_windows) for m, (p, _, _) in zip(metas, runs, strict=True)]
        )
    return [
        replace(pending.result, run_id=run_id, accepted=accepted)
        for run_id, (pending, _, accepted) in zip(ids, runs, strict=True)
    ]


def comparison_key(c: Mapping[str, Any]) -> str:
    """`flow|step|metric|fault|phase`: one comparison, the same across runs."""
    phase = c.get("phase") or {}
    parts = (c["flow"], c.get("step") or "", c["metric"], phase.get("fault"), phase.get("phase"))
    return "|".join(p or "" for p in parts)


def inconclusive_keys(comparisons: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(comparison_key(c) for c in comparisons if c.get("verdict") == "inconclusive")


def run_gate(
    options: GateOptions,
    suite: Suite,
    scenario: str,
    series: Series,
    faults: Mapping[str, Window],
    thresholds: Sequence[Threshold],
    verdict: str,
    started_at: float,
    duration_s: float,
    signals: Mapping[str, Sequence[float | None]] | None = None,
) -> GateResult:
    """Compare and record in one go, for callers whose verdict is already final (tests, tools).

    `faults` replaces the planned fault windows (a synthetic run has no timeline)."""
    plan = plan_gate(suite, scenario)
    if faults:
        plan = replace(plan, faults=dict(faults))
    pending = compare_run(
        options, suite, scenario, series, thresholds, started_at, duration_s, plan, signals
    )
    final = "fail" if pending.result.outcome == "regression" else verdict
    accepted = admits(final, pending.result.outcome, pending.result.comparisons)
    return record(options, pending, final, accepted, True)


def window_size(duration: int, faults: Mapping[str, Window]) -> int:
    """Windows adapt to the scenario's length: at least 5 per run and at most 10 s each (a 15 s
    scenario gets 3 s windows); for chaos, at least 3 in every phase (before, during, after)
    of every fault. Never under 1 s: a scenario too short for that cannot be gated, and
    `contval validate` says so (`gate_blind_spot`)."""
    size = max(1, min(10, duration // WINDOWS_PER_RUN))
    for f0, f1 in faults.values():
        phases = [p for p in (f0, f1 - f0, duration - f1) if p > 0]
        size = min([size, *(max(1, p // WINDOWS_PER_PHASE) for p in phases)])
    return size


def gate_blind_spot(suite: Suite, scenario: str, part: str | None = None) -> str | None:
    """Why `scenario` (or its workload `part`, run alongside) can never be gated against a
    baseline, or None when it can."""
    plan = plan_gate(suite, scenario) if part is None else plan_part(suite, scenario, part)
    length = plan.length
    if length < MIN_WINDOWS:
        return (
            f"its load lasts {length}s: the baseline gate needs {MIN_WINDOWS} windows of "
            f"at least 1s, so it can never compare it (make the workload {MIN_WINDOWS}s or longer)"
        )
    for name, (f0, f1) in sorted(plan.relative_faults().items()):
        for phase, seconds in (("before", f0), ("during", f1 - f0), ("after", length - f1)):
            if 0 < seconds < MIN_WINDOWS:
                return (
                    f"the `{phase}` phase of fault `{name}` lasts {seconds}s: the baseline gate "
                    f"needs {MIN_WINDOWS}s or more in each phase to compare it"
                )
    return None


def _detail(
    outcome: str,
    runs: Sequence[RunMeta],
    mismatched: Sequence[str],
    min_runs: int,
    comparisons: Sequence[ScopedComparison] = (),
) -> str:
    """The headline's reason, the real one: too few baseline runs, or too few windows."""
    if outcome == "no_baseline":
        reasons = [c.comparison.detail for c in comparisons if c.comparison.outcome == outcome]
        if len(runs) < min_runs or not reasons:
            text = f"no baseline yet: {len(runs)} comparable passing run(s), {min_runs} needed"
        else:
            text = f"cannot compare with {len(runs)} baseline run(s): {reasons[0]}"
    else:
        text = f"compared with {len(runs)} baseline run(s)"
    if mismatched:
        text += f"; pinned runs with another fingerprint left out: {', '.join(mismatched)}"
    return text


Scope = tuple[str, str, tuple[MetricName, ...]]


def scope_metrics(
    suite: Suite,
    scenario: str,
    thresholds: Sequence[Threshold],
    open_model: bool,
    mix: Collection[str] | None = None,
) -> list[Scope]:
    """What is compared, per scope: every flow the scenario runs, the flow/step pairs its
    thresholds name, and the whole scenario ("*").

    Latency of the whole scenario only for a single-flow scenario or when a threshold or the
    scenario's `baseline: {scenario_latency: [...]}` names it: the median of a mix of a 0.6 ms
    and a 20 ms route sits between the modes and jumps from one to the other
    (docs/baselines.md). Throughput of an open-model run is its input (the
    schedule), so it is not compared; its dropped and late iterations are. `mix`: the flows of
    one workload run alongside (default: the scenario's own workload's)."""
    if mix is None:
        mix = suite.workloads[suite.scenarios[scenario].workload].mix
    flows = [flow for flow in mix if flow in suite.flows]
    load: tuple[MetricName, ...] = ("dropped", "late") if open_model else ("rps",)
    named = suite.scenarios[scenario].baseline.scenario_latency
    whole: tuple[MetricName, ...] = (
        LATENCY if len(flows) == 1 else tuple(m for m in LATENCY if m in named)
    )
    scopes: list[Scope] = [("*", "", (*whole, "error_rate", *load))]
    scopes += [(flow, "", (*LATENCY, "error_rate", *load)) for flow in flows]
    for t in thresholds:
        flow, step = t.scope.flow, t.scope.step
        if flow and step and all((flow, step) != s[:2] for s in scopes):
            scopes.append((flow, step, (*LATENCY, "error_rate", *load[:1])))
    return [
        (flow, step, _with_named(metrics, flow, step, thresholds)) for flow, step, metrics in scopes
    ]


def _with_named(
    metrics: tuple[MetricName, ...], flow: str, step: str, thresholds: Sequence[Threshold]
) -> tuple[MetricName, ...]:
    """A metric a threshold reads from the comparison (`p95 < baseline + 10%`,
    `regression(rps) < 5%`) is always compared in that threshold's scope."""
    named = [
        t.aggregate.baseline_metric
        for t in thresholds
        if (t.scope.flow or "*", t.scope.step or "") == (flow, step)
    ]
    extra = [m for m in METRICS if m in named and m not in metrics]
    return (*metrics, *extra)


LATENCY: tuple[MetricName, ...] = ("p50", "p95", "p99")


@dataclass(frozen=True)
class ScopedComparison:
    comparison: Comparison
    flow: str
    step: str
    phase: tuple[str, str] | None


def compare_all(
    current: Sequence[WindowRecord],
    baseline: Mapping[str, Sequence[WindowRecord]],
    scopes: Sequence[Scope],
    phases: Sequence[tuple[str, str]],
    min_runs: int = 3,
    tolerances: Mapping[str, float] | None = None,
    floor_ms: float | None = None,
    served: Served | None = None,
    named: Collection[tuple[str, str, str]] = (),
    skipped: list[str] | None = None,
) -> list[ScopedComparison]:
    """Every scope's metrics, per phase of every fault for chaos (`phases` empty: whole run).

    A tail percentile is compared only where the scope's windows hold enough requests for it
    (`thin_tail`), unless a threshold names it; what is left out is listed in `skipped`."""
    split: list[tuple[str, str] | None] = list(phases) or [None]
    comparisons: list[ScopedComparison] = []
    for flow, step, metrics in scopes:
        for phase in split:
            mine = values_by_metric(current, flow, step, phase)
            theirs = {run: values_by_metric(w, flow, step, phase) for run, w in baseline.items()}
            counts = [w.requests for w in merged_windows(current, flow, step, phase).values()]
            for metric in metrics:
                if not mine[metric] and not any(v[metric] for v in theirs.values()):
                    continue  # measured by neither (no iterations, say): nothing to compare
                thin = thin_tail(metric, counts)
                if thin and (flow, step, metric) not in named:
                    if skipped is not None and phase is None:
                        skipped.append(f"{flow}{'/' + step if step else ''} {metric}: {thin}")
                    continue
                c = compare(
                    metric,
                    mine[metric],
                    [v[metric] for v in theirs.values()],
                    baseline_runs=tuple(theirs),
                    min_runs=min_runs,
                    tolerance=(tolerances or {}).get(metric),
                    floor=floor_ms,
                )
                comparisons.append(ScopedComparison(c, flow, step, phase))
            comparisons += outages(flow, step, phase, current, baseline, served or {})
    return comparisons


def signal_tolerances(
    suite: Suite, thresholds: Sequence[Threshold], read: Collection[str], declared: bool = True
) -> dict[str, tuple[float | None, bool]]:
    """The signals the gate compares, with (tolerance, relative): those declaring a
    `tolerance` (unless `declared` is False), and those a threshold compares with the baseline
    (default: 20 % of it)."""
    chosen: dict[str, tuple[float | None, bool]] = {}
    for name, signal in suite.signals.items():
        if declared and name in read and signal.baseline_tolerance is not None:
            chosen[name] = signal.baseline_tolerance
    for t in thresholds:
        name = t.aggregate.subject or ""
        if t.aggregate.kind is Kind.SIGNAL and t.needs_baseline and name in read:
            chosen.setdefault(name, (None, True))
    return chosen


def compare_signals(
    current: Sequence[SignalWindow],
    baseline: Mapping[str, Sequence[SignalWindow]],
    tolerances: Mapping[str, tuple[float | None, bool]],
    phases: Sequence[tuple[str, str]],
    min_runs: int = 3,
) -> list[ScopedComparison]:
    """Each chosen signal's per-window means against its baseline runs', over the whole run or,
    for chaos, per phase of every fault, as requests are (flow "*", metric `signal(NAME)`).
    Baseline runs recorded before signals were kept have no signal windows and do not count."""
    comparisons: list[ScopedComparison] = []
    split: list[tuple[str, str] | None] = list(phases) or [None]
    for name, (tolerance, relative) in sorted(tolerances.items()):
        for phase in split:
            mine = signal_means(current, name, phase)
            theirs = {run: signal_means(w, name, phase) for run, w in baseline.items()}
            theirs = {run: v for run, v in theirs.items() if v}
            c = compare(
                f"signal({name})",
                mine,
                list(theirs.values()),
                baseline_runs=tuple(theirs),
                min_runs=min_runs,
                tolerance=tolerance,
                relative=relative,
            )
            comparisons.append(ScopedComparison(c, "*", "", phase))
    return comparisons


def signal_means(
    windows: Sequence[SignalWindow], signal: str, phase: tuple[str, str] | None
) -> list[float]:
    """One signal's per-window means (windows without data left out), within a phase."""
    return [
        w.mean
        for w in windows
        if w.signal == signal
        and w.mean is not None
        and (phase is None or w.phases.get(phase[0]) == phase[1])
    ]


TAIL: Final = 10  # requests beyond a window's percentile for it to be a measurement


def thin_tail(metric: str, counts: Sequence[int]) -> str | None:
    """Why a latency percentile of these windows is noise, or None when it is not: a window's
    p99 needs about 1000 requests (10 beyond it), its p95 200. A 3 s window of 150 requests has
    its p99 at its second-slowest request, which moves by tens of percent from window to window
    and left every unchanged run `inconclusive`."""
    if metric not in LATENCY or not counts:
        return None
    needed = math.ceil(TAIL / (1 - float(metric[1:]) / 100) - 1e-9)
    typical = sorted(counts)[len(counts) // 2]
    if typical >= needed:
        return None
    return f"about {typical} requests per window, {needed} needed for a {metric}"


def values_by_metric(
    windows: Sequence[WindowRecord], flow: str, step: str, phase: tuple[str, str] | None
) -> dict[str, list[float]]:
    """Per window of one scope (flow "*": every flow): p50/p95/p99 (ms), error rate, throughput,
    and the shares of dropped and late iterations.

    A window without requests is kept: its throughput is 0 (an outage is data); its error
    rate and latency have no value (no request, no rate), and `outages` judges it."""
    values: dict[str, list[float]] = {m: [] for m in METRICS}
    for (t0, t1), w in sorted(merged_windows(windows, flow, step, phase).items()):
        for metric, pct in (("p50", 50.0), ("p95", 95.0), ("p99", 99.0)):
            value = w.hist.percentile(pct)
            if value is not None:
                values[metric].append(value / 1000)
        if w.requests:
            values["error_rate"].append(w.errors / w.requests)
        values["rps"].append(per_second(w.requests, t1 - t0) or 0.0)
        if w.iterations + w.dropped:
            values["dropped"].append(w.dropped / (w.iterations + w.dropped))
        if w.iterations:
            values["late"].append(min(1.0, w.late / w.iterations))
    return values


@dataclass
class Merged:
    """One window of one scope: every matching (flow, step) record added up."""

    requests: int = 0
    errors: int = 0
    iterations: int = 0
    dropped: int = 0
    late: int = 0
    hist: Histogram = field(default_factory=Histogram)


def merged_windows(
    windows: Sequence[WindowRecord], flow: str, step: str, phase: tuple[str, str] | None
) -> dict[tuple[int, int], Merged]:
    """Requests and latency from the step records (one step, or every step of a flow);
    iterations, dropped and late starts from the flow-level records (step ""), where the
    engine counts them, with the dropped arrivals it counts there as failed requests (so the
    error rate is result.json's)."""
    merged: dict[tuple[int, int], Merged] = {}
    for w in windows:
        if flow not in ("*", w.flow) or (step and w.step != step):
            continue
        if phase is not None and w.phases.get(phase[0]) != phase[1]:
            continue
        m = merged.setdefault((w.t0, w.t1), Merged())
        if w.step == "":
            m.iterations += w.iterations
            m.dropped += w.dropped
            m.late += w.late
            m.requests += w.requests
            m.errors += w.errors
            continue
        if w.latency:
            m.hist.add(Histogram.decode(w.latency))
        m.requests += w.requests
        m.errors += w.errors
    return merged


Served = Mapping[int, Mapping[tuple[str, str], int]]
OUTAGE_EXPECTED: Final = 20  # requests the baseline would have served: P(0 | Poisson 20) ~ 2e-9


def served_per_second(
    series: Series, duration: int, start: int = 0
) -> dict[int, dict[tuple[str, str], int]]:
    """Requests answered without error, per second and (flow, step), over [start, duration)."""
    served: dict[int, dict[tuple[str, str], int]] = {}
    for second in range(start, duration):
        slots = series.window(second, second + 1, histograms=False).slots
        served[second] = {
            key: part.counters.requests - part.counters.error_count for key, part in slots.items()
        }
    return served


def outages(
    flow: str,
    step: str,
    phase: tuple[str, str] | None,
    current: Sequence[WindowRecord],
    baseline: Mapping[str, Sequence[WindowRecord]],
    served: Served,
) -> list[ScopedComparison]:
    """Seconds in which the scope served nothing (no request, or every one failed) where every
    baseline run served it at a rate that makes silence impossible (together at least
    `OUTAGE_EXPECTED` requests over those seconds): an outage, a regression on its own.

    The shift statistics are robust to one odd window by design, so a 10 s outage in a 60 s run
    would move no median; it is judged here, second by second against the shared grid. Silent
    seconds before the scope first served are start-up (a slow first answer), not an outage."""
    if len(baseline) < 2 or not served:
        return []
    grid = sorted(merged_windows(current, flow, step, phase))
    theirs = [merged_windows(w, flow, step, phase) for w in baseline.values()]
    rates = [
        {key: (t[key].requests - t[key].errors) / max(key[1] - key[0], 1) for key in grid}
        for t in theirs
        if all(key in t for key in grid)
    ]
    if len(rates) != len(theirs):
        return []
    seconds = [(sec, key) for key in grid for sec in range(*key)]
    started = False
    dark: list[tuple[int, tuple[int, int]]] = []
    for sec, key in seconds:
        count = sum(n for k, n in served.get(sec, {}).items() if _in_scope(k, flow, step))
        started = started or count > 0
        if started and count == 0:
            dark.append((sec, key))
    expected = min((sum(r[key] for _, key in dark) for r in rates), default=0.0)
    if not dark or expected < OUTAGE_EXPECTED:
        return []
    c = Comparison(
        "outage",
        float(len(dark)),
        0.0,
        None,
        None,
        None,
        0.0,
        "regression",
        tuple(baseline),
        f"served nothing in {len(dark)}s ({_spans([sec for sec, _ in dark])}) where every "
        f"baseline run served at least {expected:.0f} requests",
    )
    return [ScopedComparison(c, flow, step, phase)]


def _in_scope(key: tuple[str, str], flow: str, step: str) -> bool:
    if flow not in ("*", key[0]):
        return False
    return key[1] == step if step else key[1] != ""


def _spans(seconds: Sequence[int]) -> str:
    """`25-35s, 50-51s`: consecutive seconds as half-open spans."""
    spans: list[list[int]] = []
    for sec in seconds:
        if spans and spans[-1][1] == sec:
            spans[-1][1] = sec + 1
        else:
            spans.append([sec, sec + 1])
    return ", ".join(f"{a}-{b}s" for a, b in spans)


def comparison_row(scoped: ScopedComparison) -> dict[str, Any]:
    c = scoped.comparison
    return {
        "flow": scoped.flow,
        "step": scoped.step or None,
        "phase": None
        if scoped.phase is None
        else {"fault": scoped.phase[0], "phase": scoped.phase[1]},
        "metric": c.metric,
        "current": c.current,
        "baseline": c.baseline,
        "shift": c.shift,
        "low": c.low,
        "high": c.high,
        "tolerance": c.tolerance,
        "verdict": c.outcome,
        "detail": c.detail,
    }


def gate_warnings(suite: Suite) -> list[str]:
    """`contval validate`'s warnings: scenarios that can never be gated against a baseline, and
    workloads run alongside whose own thresholds name a baseline they can never have."""
    warnings = []
    for name, scenario in suite.scenarios.items():
        why = gate_blind_spot(suite, name)
        if why is not None:
            warnings.append(f"scenario `{name}` cannot be gated against a baseline: {why}")
        for part, side in scenario.alongside.items():
            named = any(t.needs_baseline for t in map(parse_threshold, side.thresholds))
            why = gate_blind_spot(suite, name, part) if named else None
            if why is not None:
                warnings.append(
                    f"workload `{part}` of scenario `{name}` names its baseline in its "
                    f"thresholds, but cannot be gated against one: {why}"
                )
    return warnings
