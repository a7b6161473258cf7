"""One owner of a scenario's verdict: its stop reason, its verdict, its exit code and its
history record are decided here, once, from typed outcomes.

Why one place: the verdict used to be set in three steps (thresholds, then the run recorded in
the history, then thresholds naming the baseline), so a run that `p95 < baseline + 10%` failed
had already been recorded as passing and joined the next rolling baseline. Here the run is
compared first, judged completely, and only then recorded, with its final verdict; which
recorded runs join rolling baselines is `contval.baseline.policy`'s rule.

Stops are an enum (`Stop`), noted where they happen (`note`), never parsed back from text.

A scenario that runs workloads side by side (`alongside`) is compared as a whole and each of its
workloads against a baseline of its own (`contval.pipeline.part_gate`); the same rule
(`fails_gate`) judges every one of those comparisons, a workload's regression fails the
scenario as the scenario's own does (exit 5), and the scenario's run and its workloads' are
recorded together, with the scenario's one final verdict: a failed run joins no baseline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from rich.console import Console

from contval.baseline.policy import admits
from contval.baseline.sqlite import StoreError
from contval.baseline.store import HistoryStore
from contval.exitcodes import ExitCode, worst
from contval.pipeline.gate import GateOptions, GateResult, PendingGate, compare_run, record_all
from contval.pipeline.noise import noise_notes
from contval.pipeline.part_gate import PartGate, compare_parts, judge_part, settle_parts
from contval.pipeline.parts import failed_parts, judged_parts, part_verdict
from contval.thresholds import BaselineFigure, Verdict, evaluate, needs_baseline

if TYPE_CHECKING:
    from contval.engine.local import RunOutcome
    from contval.pipeline.scenario import ScenarioRun

Faults = Mapping[str, tuple[int, int]]


class Stop(StrEnum):
    """Why a scenario's load ended (result.json `stop`)."""

    COMPLETED = "completed"
    ABORTED = "aborted"  # an `abort` threshold failed
    INTERRUPTED = "interrupted"  # SIGINT / SIGTERM
    WORKER_FAILED = "worker_failed"
    WORKER_LOST = "worker_lost"  # on_worker_loss: continue went on without a lost worker
    WORKERS_NOT_STARTED = "workers_not_started"
    CHAOS_FAILED = "chaos_failed"  # a fault could not be driven
    STEADY_STATE = "steady_state"  # `before` thresholds did not hold when a fault was due
    FAULT_TOO_SHORT = "fault_too_short"  # a fault was active for too little of its phase
    GENERATOR_SATURATED = "generator_saturated"  # the load generator could not keep up


class ScenarioVerdict(StrEnum):
    """A scenario's verdict (result.json `scenarios[].verdict`)."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"  # the run could not be completed: no verdict about the system
    INVALID = "invalid"  # the experiment did not happen as planned
    NOT_GATED = "not_gated"  # nothing judged it: no thresholds, no baseline to compare with


ERROR_STOPS: Final = frozenset(
    {
        Stop.INTERRUPTED,
        Stop.WORKER_FAILED,
        Stop.WORKERS_NOT_STARTED,
        Stop.CHAOS_FAILED,
        Stop.GENERATOR_SATURATED,
    }
)
INVALID_STOPS: Final = frozenset({Stop.STEADY_STATE, Stop.FAULT_TOO_SHORT})


@dataclass(frozen=True)
class StopCause:
    kind: Stop
    text: str | None = None


def note(run: ScenarioRun, kind: Stop, text: str) -> None:
    """Remember why the load stopped early; the first cause wins (later ones are its echo)."""
    if run.stop is None:
        run.stop = StopCause(kind, text)


def stop_cause(run: ScenarioRun, outcome: RunOutcome, interrupted: str | None) -> StopCause:
    """The one reason the scenario ended, by precedence: a worker failure, a saturated load
    generator (the measurement failed), a cause noted as it happened, an interrupt, else a
    completed run."""
    if outcome.failures:
        return StopCause(Stop.WORKER_FAILED, outcome.stop_reason or outcome.failures[0])
    if outcome.saturated is not None:  # the measurement failed, not the system
        return StopCause(Stop.GENERATOR_SATURATED, outcome.saturated.reason())
    if run.stop is not None:
        return run.stop
    if run.invalid is not None:  # set by a caller that did not note a kind
        return StopCause(Stop.STEADY_STATE, run.invalid)
    if interrupted or outcome.stop_reason:  # an early stop nobody explained: not complete
        return StopCause(Stop.INTERRUPTED, outcome.stop_reason or interrupted)
    if outcome.lost:  # judged on what was measured, never complete
        return StopCause(Stop.WORKER_LOST, "; ".join(outcome.lost))
    return StopCause(Stop.COMPLETED, None)


def not_started(run: ScenarioRun, detail: str) -> ExitCode:
    """The workers never started: an error, never judged, never recorded."""
    run.entry.update(
        verdict=ScenarioVerdict.ERROR.value,
        stop=Stop.WORKERS_NOT_STARTED.value,
        stop_reason="workers failed to start",
        detail=detail,
    )
    return ExitCode.RUN_INCOMPLETE


def decide(
    run: ScenarioRun,
    outcome: RunOutcome,
    faults: Faults,
    console: Console,
    interrupted: str | None = None,
) -> ExitCode:
    """Judge a finished scenario (its thresholds are evaluated in `run.entry`), compare it with
    its baseline, record it once with its final verdict, and return its exit code."""
    cause = stop_cause(run, outcome, interrupted)
    verdict, code = _first_verdict(run, cause)
    if verdict in (ScenarioVerdict.PASS, ScenarioVerdict.FAIL):
        verdict, gate_code = _gate(run, outcome, faults, console, verdict, cause)
        code = worst(code, gate_code)
    run.entry.update(
        verdict=verdict.value,
        complete=verdict not in (ScenarioVerdict.ERROR, ScenarioVerdict.INVALID)
        and cause.kind == Stop.COMPLETED,
        stop=cause.kind.value,
        stop_reason=cause.text,
        failures=outcome.failures,
    )
    return code


def _first_verdict(run: ScenarioRun, cause: StopCause) -> tuple[ScenarioVerdict, ExitCode]:
    """What the stop and the thresholds that do not name the baseline say."""
    if cause.kind in ERROR_STOPS:
        return ScenarioVerdict.ERROR, ExitCode.RUN_INCOMPLETE
    if cause.kind in INVALID_STOPS:
        return ScenarioVerdict.INVALID, ExitCode.THRESHOLD_FAILED
    verdicts = {
        r["verdict"]
        for t, r in zip(run.thresholds, run.entry["thresholds"], strict=True)
        if not needs_baseline(t)
    }
    if cause.kind == Stop.ABORTED or Verdict.FAIL in verdicts or Verdict.NO_DATA in verdicts:
        return ScenarioVerdict.FAIL, ExitCode.THRESHOLD_FAILED
    if failed_parts(run.entry):  # a workload run side by side failed its own thresholds
        return ScenarioVerdict.FAIL, ExitCode.THRESHOLD_FAILED
    return ScenarioVerdict.PASS, ExitCode.OK


def _gate(
    run: ScenarioRun,
    outcome: RunOutcome,
    faults: Faults,
    console: Console,
    verdict: ScenarioVerdict,
    cause: StopCause,
) -> tuple[ScenarioVerdict, ExitCode]:
    """Compare with the baseline, judge the thresholds naming it, then record the run."""
    gate = run.options.gate
    if not gate.enabled:
        settle_parts(run)  # a workload's threshold naming the baseline has no data either
        if any(needs_baseline(t) for t in run.thresholds) or failed_parts(run.entry):
            return ScenarioVerdict.FAIL, ExitCode.THRESHOLD_FAILED  # no data: never a pass
        if not run.thresholds and not judged_parts(run.entry):
            return ScenarioVerdict.NOT_GATED, ExitCode.OK
        return verdict, ExitCode.OK
    signals = _signal_values(run)
    try:
        pending = compare_run(
            gate,
            run.options.suite,
            run.name,
            outcome.series,
            run.thresholds,
            outcome.started_at,
            run.entry["duration_s"],
            signals=signals,
        )
        parts = compare_parts(run, gate, outcome, signals)  # none without `alongside`
    except StoreError as exc:
        return _store_failed(run, console, exc)
    compared = pending.result
    code = ExitCode.OK
    failed = _baseline_thresholds(run, outcome, faults, compared.to_dict())
    failed = _part_thresholds(run, parts, faults) or failed
    if failed:
        verdict, code = ScenarioVerdict.FAIL, ExitCode.THRESHOLD_FAILED
    elif verdict == ScenarioVerdict.PASS and ungated(run, compared):
        verdict = ScenarioVerdict.NOT_GATED
    regressed = any(
        r.outcome == "regression" for r in [compared, *(p.pending.result for p in parts)]
    )
    kept = "fail" if verdict == ScenarioVerdict.FAIL or regressed else "pass"
    try:
        recorded = _record(run, gate, [pending, *(p.pending for p in parts)], kept, cause)
    except StoreError as exc:
        return _store_failed(run, console, exc)
    run.entry["baseline"] = recorded[0]
    for part, result in zip(parts, recorded[1:], strict=True):
        _settle_part(run, part, result, gate.require_baseline)
    # The scenario's verdict is the gate's too: a regression of the scenario or of any of its
    # workloads fails it (exit 5, not 1), so the scenario, the suite and the exit code never
    # disagree.
    outcomes = [compared.outcome, *(p.outcome for p in parts)]
    if any(fails_gate(o, gate.require_baseline) for o in outcomes):
        verdict, code = ScenarioVerdict.FAIL, worst(code, ExitCode.REGRESSION)
    return verdict, code


def fails_gate(outcome: str, require_baseline: bool) -> bool:
    """A comparison with a baseline that fails its scenario: a regression, or no baseline yet
    when `--require-baseline` asks for one. The one rule for the scenario and its workloads."""
    return outcome == "regression" or (outcome == "no_baseline" and require_baseline)


def _record(
    run: ScenarioRun,
    gate: GateOptions,
    pending: Sequence[PendingGate],
    kept: str,
    cause: StopCause,
) -> list[dict[str, Any]]:
    """Record the scenario's run and its workloads' own at once, each with the scenario's final
    verdict (`kept`) and joining rolling baselines by its own comparison's outcome; the
    `baseline` entry of each, with its noise notes."""
    runs = [(p, kept, admits(kept, p.result.outcome, p.result.comparisons)) for p in pending]
    recorded = record_all(gate, runs, cause.kind == Stop.COMPLETED)
    with HistoryStore(gate.store) as store:
        notes = [
            noise_notes(store, replace(p.meta, id=r.run_id))
            for p, r in zip(pending, recorded, strict=True)
        ]
    return [r.to_dict() | {"noise": n} for r, n in zip(recorded, notes, strict=True)]


def _part_thresholds(run: ScenarioRun, parts: Sequence[PartGate], faults: Faults) -> bool:
    """Judge every workload's thresholds that name its own baseline; True when one failed."""
    signals = run.signals.series(run.entry["duration_s"]) if run.signals is not None else None
    failed = False
    for part in parts:
        figures = baseline_figures(part.pending.result.to_dict())
        failed = judge_part(part, faults, figures, signals) or failed
    return failed


def _settle_part(
    run: ScenarioRun, part: PartGate, recorded: dict[str, Any], require_baseline: bool
) -> None:
    """A workload's `baseline` and its final verdict: its own thresholds and its comparison."""
    part.entry["baseline"] = recorded
    part.entry["verdict"] = part_verdict(
        part.entry["thresholds"],
        part.thresholds,
        part.outcome,
        fails_gate(part.outcome, require_baseline),
    )


def _signal_values(run: ScenarioRun) -> dict[str, list[float | None]] | None:
    """The server-side signals per second of the load, for the gate to keep and compare."""
    if run.signals is None:
        return None
    seconds = run.entry["duration_s"]
    return {name: list(s.values) for name, s in run.signals.series(seconds).items()}


def ungated(run: ScenarioRun, compared: GateResult) -> bool:
    """Nothing judged the run: no thresholds, and no baseline it could be compared with."""
    judged = run.thresholds or judged_parts(run.entry)
    return not judged and compared.outcome == "no_baseline"


def _store_failed(
    run: ScenarioRun, console: Console, exc: StoreError
) -> tuple[ScenarioVerdict, ExitCode]:
    console.print(f"[red]error:[/red] history store: {exc}", highlight=False)
    run.entry["baseline"] = {"verdict": "error", "detail": str(exc)}
    return ScenarioVerdict.ERROR, ExitCode.RUN_INCOMPLETE


def _baseline_thresholds(
    run: ScenarioRun, outcome: RunOutcome, faults: Faults, gate: dict[str, Any]
) -> bool:
    """Judge the thresholds that name the baseline, now that the comparison is known; True when
    one of them failed."""
    figures = baseline_figures(gate)
    signals = run.signals.series(run.entry["duration_s"]) if run.signals is not None else None
    failed = False
    for i, threshold in enumerate(run.thresholds):
        if not needs_baseline(threshold):
            continue
        result = evaluate(
            threshold, outcome.series, faults=faults, baseline=figures, signals=signals
        )
        run.entry["thresholds"][i] = result.to_dict()
        failed = failed or result.verdict != Verdict.PASS
    return failed


def baseline_figures(gate: dict[str, Any]) -> dict[Any, BaselineFigure]:
    """The gate's comparisons as thresholds read them (latency in seconds)."""
    figures: dict[Any, BaselineFigure] = {}
    runs = tuple(gate.get("baseline_runs", ()))
    for c in gate.get("comparisons", []):
        scale = 0.001 if c["metric"] in ("p50", "p95", "p99") else 1.0
        phase = c["phase"] or {}
        key = (c["flow"], c["step"] or "", c["metric"], phase.get("fault"), phase.get("phase"))
        base, current = c["baseline"], c.get("current")
        figures[key] = BaselineFigure(
            None if base is None else base * scale,
            c["shift"],
            c["low"],
            c["high"],
            runs,
            c["verdict"],
            None if current is None else current * scale,
        )
    return figures


def suite_code(
    code: ExitCode, scenarios: Sequence[Mapping[str, Any]], allow_ungated: bool
) -> ExitCode:
    """A suite in which every scenario ran but none was judged does not exit 0 (exit 6), unless
    the user said `--allow-ungated`."""
    if code != ExitCode.OK or allow_ungated or not scenarios:
        return code
    if all(s.get("verdict") == ScenarioVerdict.NOT_GATED for s in scenarios):
        return ExitCode.NOT_GATED
    return code
