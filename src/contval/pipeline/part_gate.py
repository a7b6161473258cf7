"""Each workload of a scenario that runs several side by side (`alongside`), compared with a
baseline of its own.

The scenario as a whole is compared with its baseline as before; each of its workloads (its own
first, then those alongside) is compared too, on its own series over the seconds it ran, with
its own mix and its own thresholds, against the runs of that workload alone (the history keys
them by scenario and workload name, `contval.baseline.store`). This module only compares and
judges the thresholds that name a workload's baseline; the verdict stays
`contval.pipeline.verdict`'s: it decides from these outcomes, with the same rule as the
scenario's, whether the scenario fails, what it exits with and what the history records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contval.engine.schedules import schedule_for
from contval.metrics import Series
from contval.metrics.phases import phase_series
from contval.pipeline.gate import GateOptions, PendingGate, compare_run, plan_part
from contval.pipeline.parts import part_span, part_thresholds, part_verdict
from contval.thresholds import BaselineFigure, Signals, Threshold, Verdict, evaluate

if TYPE_CHECKING:
    from contval.engine.local import RunOutcome
    from contval.pipeline.scenario import ScenarioRun

Faults = Mapping[str, tuple[int, int]]


@dataclass(frozen=True)
class PartGate:
    """One workload's comparison, not yet recorded, and where its results go."""

    name: str
    entry: dict[str, Any]  # its entry in result.json `workloads`
    thresholds: tuple[Threshold, ...]
    pending: PendingGate
    series: Series  # the seconds it ran, as its thresholds judge them (`part_entries`)

    @property
    def outcome(self) -> str:
        return self.pending.result.outcome


def compare_parts(
    run: ScenarioRun,
    gate: GateOptions,
    outcome: RunOutcome,
    signals: Mapping[str, Sequence[float | None]] | None,
) -> list[PartGate]:
    """Compare every workload of the scenario with its own baseline; nothing is written. None
    for a scenario without `alongside`. `outcome`: the scenario's (its start and its end)."""
    if run.side is None:
        return []
    suite = run.options.suite
    outcomes = run.side.part_outcomes()
    parts = []
    for entry, (name, workload, start) in zip(
        run.entry.get("workloads", ()), suite.scenarios[run.name].parts(), strict=True
    ):
        thresholds = tuple(part_thresholds(suite, run.name, name))
        duration = schedule_for(suite.workloads[workload]).duration
        t0, t1 = part_span(start, duration, outcome.series.end)
        pending = compare_run(
            gate,
            suite,
            run.name,
            outcomes[name].series,
            thresholds,
            outcome.started_at,
            entry["duration_s"],
            plan_part(suite, run.name, name),
            signals,
            workload=name,
        )
        series = phase_series(outcomes[name].series, t0, t1)
        parts.append(PartGate(name, entry, thresholds, pending, series))
    return parts


def judge_part(
    part: PartGate,
    faults: Faults,
    figures: Mapping[Any, BaselineFigure],
    signals: Signals | None,
) -> bool:
    """Judge the workload's thresholds that name its baseline, over the seconds it ran (as its
    other thresholds were), into its entry; True when one failed."""
    failed = False
    for i, threshold in enumerate(part.thresholds):
        if threshold.needs_baseline:
            result = evaluate(
                threshold, part.series, faults=faults, baseline=figures, signals=signals
            )
            part.entry["thresholds"][i] = result.to_dict()
            failed = failed or result.verdict != Verdict.PASS
    return failed


def settle_parts(run: ScenarioRun) -> None:
    """Without a comparison (history off), each workload's verdict from all its thresholds:
    one naming the baseline has no data, never a pass."""
    suite = run.options.suite
    for entry in run.entry.get("workloads", ()):
        parsed = part_thresholds(suite, run.name, entry["name"])
        entry["verdict"] = part_verdict(entry["thresholds"], parsed, "no_baseline")


__all__ = ["PartGate", "compare_parts", "judge_part", "settle_parts"]
