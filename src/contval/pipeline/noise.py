"""Noise feedback: a comparison that is `inconclusive` in most of a scenario's recent runs is
too noisy for its tolerance, and the gate says so, with the tolerance `contval calibrate`
would suggest for it (issue 12: a gate that says "inconclusive" to most unchanged builds
teaches people to ignore it)."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any, Final

from contval.baseline.records import RunMeta
from contval.baseline.store import HistoryStore
from contval.pipeline.gate import values_by_metric
from contval.pipeline.history import _suggest

RECENT: Final = 10  # runs looked at
MIN_RUNS: Final = 3  # fewer recent runs say nothing about "most"


def noise_notes(store: HistoryStore, meta: RunMeta) -> list[dict[str, Any]]:
    """Comparisons inconclusive in most of the scenario's (or its workload's) last `RECENT` runs
    (this one included), each with the tolerance its run-to-run noise calls for."""
    runs = store.runs(
        meta.suite, meta.scenario, meta.env, meta.fingerprint, RECENT, workload=meta.workload
    )
    if len(runs) < MIN_RUNS:
        return []
    counts = Counter(key for run in runs for key in run.inconclusive)
    notes = []
    for key, count in sorted(counts.items()):
        if 2 * count <= len(runs):
            continue
        flow, step, metric, fault, phase = key.split("|")
        suggested = suggest(store, runs, flow, step, metric, (fault, phase) if fault else None)
        notes.append(
            {
                "flow": flow,
                "step": step or None,
                "metric": metric,
                "phase": {"fault": fault, "phase": phase} if fault else None,
                "inconclusive": count,
                "of": len(runs),
                "suggested_tolerance": suggested,
                "detail": _detail(flow, step, metric, fault, phase, count, len(runs), suggested),
            }
        )
    return notes


def suggest(
    store: HistoryStore,
    runs: Sequence[RunMeta],
    flow: str,
    step: str,
    metric: str,
    phase: tuple[str, str] | None,
) -> float | None:
    """What `contval calibrate` suggests from these runs: 3 run-to-run sds of the metric's
    median window, never under the default, rounded up."""
    medians = []
    for run in runs:
        values = values_by_metric(store.windows(run.id or ""), flow, step, phase).get(metric)
        if values:
            medians.append(statistics.median(values))
    if len(medians) < 2:
        return None
    sd = statistics.stdev(medians)
    if metric in ("error_rate", "dropped", "late"):
        return _suggest("error_rate", sd)
    mean = statistics.fmean(medians)
    return _suggest(metric, sd / mean) if mean > 0 else None


def _detail(
    flow: str,
    step: str,
    metric: str,
    fault: str,
    phase: str,
    count: int,
    runs: int,
    suggested: float | None,
) -> str:
    scope = flow + (f"/{step}" if step else "") + (f" ({phase} {fault})" if fault else "")
    points = metric in ("error_rate", "dropped", "late")
    text = f"{scope} {metric}: inconclusive in {count} of the last {runs} runs (too noisy)"
    if suggested is None:
        return text
    value = f"{suggested * 100:.1f}{' pp' if points else '%'}"
    return f"{text}; `contval calibrate` would suggest a tolerance of {value}"
