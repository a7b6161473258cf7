"""The baseline gate: compare a finished scenario with its baseline runs, then store it.

Per flow (and per step a threshold names) and per metric (p50/p95/p99 latency, error rate,
throughput), the current run's 10-second windows are compared with those of the baseline
runs (`contval.baseline.compare`). Chaos scenarios compare each phase of each fault with the
same phase of their baseline. The run is stored afterwards, so it is never its own baseline;
only passing runs are accepted into rolling baselines.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from contval.baseline.compare import METRICS, Comparison, compare, summarize
from contval.baseline.fingerprint import fingerprint
from contval.baseline.records import RunMeta, WindowRecord
from contval.baseline.store import HistoryStore
from contval.baseline.windows import windows_of
from contval.metrics import Histogram, Series
from contval.spec import Suite
from contval.thresholds import Threshold

Window = tuple[int, int]
PHASES = ("before", "during", "after")


@dataclass(frozen=True)
class GateOptions:
    store: str | None = None  # path; None: CONTVAL_STORE or .contval/history.db
    env: str = "local"
    label: str | None = None
    require_baseline: bool = False
    enabled: bool = True


@dataclass
class GateResult:
    outcome: str  # pass | regression | inconclusive | no_baseline | improvement
    mode: str = "rolling"
    fingerprint: str = ""
    baseline_runs: tuple[str, ...] = ()
    run_id: str | None = None
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.outcome,
            "mode": self.mode,
            "fingerprint": self.fingerprint,
            "baseline_runs": list(self.baseline_runs),
            "run_id": self.run_id,
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
) -> GateResult:
    """Compare with the baseline, then record this run. Pure but for the store."""
    store = HistoryStore(options.store)
    try:
        print_ = fingerprint(suite, scenario)
        windows = windows_of(series, size=window_size(series, faults), faults=dict(faults))
        baseline = store.baseline(suite.name, scenario, options.env, print_)
        base_windows = {r.id: store.windows(r.id) for r in baseline.runs if r.id}
        scopes = _scopes(suite, scenario, thresholds)
        policy = suite.scenarios[scenario].baseline
        comparisons = compare_all(
            windows,
            base_windows,
            scopes,
            list(faults),
            policy.min_runs,
            policy.tolerances(),
            floor_ms=policy.latency_floor * 1000,
        )
        outcome = summarize(s.comparison for s in comparisons)
        passed = verdict == "pass" and outcome != "regression"  # inconclusive does not fail
        meta = RunMeta(
            suite=suite.name,
            scenario=scenario,
            fingerprint=print_,
            started_at=datetime.fromtimestamp(started_at, UTC).isoformat(),
            env=options.env,
            label=options.label or git_label(),
            verdict="pass" if passed else "fail",
            duration_s=duration_s,
            accepted=passed,
        )
        run_id = store.record_run(meta, windows)
    finally:
        store.close()
    detail = _detail(
        outcome, baseline.runs, baseline.mismatched, suite.scenarios[scenario].baseline.min_runs
    )
    return GateResult(
        outcome,
        baseline.mode,
        print_,
        baseline.run_ids,
        run_id,
        [comparison_row(c) for c in comparisons],
        detail,
    )


def window_size(series: Series, faults: Mapping[str, Window]) -> int:
    """10 s windows; shorter for chaos, so each phase (before, during, after) has at least
    3 windows to compare (a phase of 10 s gets 3 s windows; never under 2 s)."""
    if not faults:
        return 10
    start, end = series.start, series.end
    shortest = min(min(f0 - start, f1 - f0, end - f1) for f0, f1 in faults.values())
    return max(2, min(10, shortest // 3))


def _detail(outcome: str, runs: Sequence[RunMeta], mismatched: Sequence[str], min_runs: int) -> str:
    if outcome == "no_baseline":
        text = f"no baseline yet: {len(runs)} comparable passing run(s), {min_runs} needed"
    else:
        text = f"compared with {len(runs)} baseline run(s)"
    if mismatched:
        text += f"; pinned runs with another fingerprint left out: {', '.join(mismatched)}"
    return text


def _scopes(suite: Suite, scenario: str, thresholds: Sequence[Threshold]) -> list[tuple[str, str]]:
    """Every flow the scenario runs, plus the flow/step pairs its thresholds name."""
    from contval.pipeline.preflight import flows_used

    mix = suite.workloads[suite.scenarios[scenario].workload].mix
    scopes = [("*", "")]  # the whole scenario, all flows together
    scopes += [(flow, "") for flow in mix if flow in flows_used(suite, scenario)]
    for t in thresholds:
        flow, step = t.scope.flow, t.scope.step
        if flow and step and (flow, step) not in scopes:
            scopes.append((flow, step))
    return scopes


@dataclass(frozen=True)
class ScopedComparison:
    comparison: Comparison
    flow: str
    step: str
    phase: tuple[str, str] | None


def compare_all(
    current: Sequence[WindowRecord],
    baseline: Mapping[str, Sequence[WindowRecord]],
    scopes: Sequence[tuple[str, str]],
    faults: Sequence[str],
    min_runs: int = 3,
    tolerances: Mapping[str, float] | None = None,
    floor_ms: float | None = None,
) -> list[ScopedComparison]:
    phases: list[tuple[str, str] | None] = [None]
    if faults:
        phases = [(fault, phase) for fault in faults for phase in PHASES]
    comparisons: list[ScopedComparison] = []
    for flow, step in scopes:
        for phase in phases:
            mine = values_by_metric(current, flow, step, phase)
            theirs = {run: values_by_metric(w, flow, step, phase) for run, w in baseline.items()}
            for metric in METRICS:
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
    return comparisons


def values_by_metric(
    windows: Sequence[WindowRecord], flow: str, step: str, phase: tuple[str, str] | None
) -> dict[str, list[float]]:
    """Per 10-second window of one scope (flow "*": every flow): p50/p95/p99 (ms), error rate
    and throughput."""
    merged: dict[tuple[int, int], tuple[int, int, Histogram]] = {}
    for w in windows:
        if flow not in ("*", w.flow):
            continue
        if (step and w.step != step) or (not step and w.step == ""):
            continue
        if phase is not None and w.phases.get(phase[0]) != phase[1]:
            continue
        requests, errors, hist = merged.get((w.t0, w.t1), (0, 0, Histogram()))
        if w.latency:
            hist.add(Histogram.decode(w.latency))
        merged[(w.t0, w.t1)] = (requests + w.requests, errors + w.errors, hist)
    values: dict[str, list[float]] = {m: [] for m in METRICS}
    for (t0, t1), (requests, errors, hist) in sorted(merged.items()):
        if not requests:
            continue
        for metric, pct in (("p50", 50.0), ("p95", 95.0), ("p99", 99.0)):
            value = hist.percentile(pct)
            if value is not None:
                values[metric].append(value / 1000)
        values["error_rate"].append(errors / requests)
        values["rps"].append(requests / max(t1 - t0, 1))
    return values


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
