"""What the history store knows, for people: baselines, run-to-run comparisons, trends, and
the noise floor of an unchanged build (`contval baseline|compare|history|calibrate`).

A workload run `alongside` a scenario has runs and a baseline of its own; these commands name
it `SCENARIO/WORKLOAD` (`contval baseline show rush-hour/buyers`): suite, scenario and workload
names never contain `/`, so the key reads one way only."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contval.baseline.records import RunMeta
from contval.baseline.stats import as_values, hodges_lehmann, mw_interval
from contval.baseline.store import HistoryStore, UnknownRun
from contval.pipeline.gate import values_by_metric

KEY_METRICS = ("p50", "p95", "p99", "error_rate", "rps")


@dataclass(frozen=True)
class BaselineRow:
    suite: str
    scenario: str
    env: str
    mode: str
    runs: tuple[RunMeta, ...]
    fingerprint: str
    windows: int | None = None  # windows per run (the newest run's): under 3, never gated
    workload: str | None = None  # one workload run alongside; None: the scenario as a whole

    @property
    def key(self) -> str:
        """`scenario`, or `scenario/workload`: what `contval baseline show` takes."""
        return self.scenario if self.workload is None else f"{self.scenario}/{self.workload}"


def split_key(key: str) -> tuple[str, str | None]:
    """`rush-hour/buyers` → (`rush-hour`, `buyers`); `rush-hour` → (`rush-hour`, None)."""
    scenario, _, workload = key.partition("/")
    return scenario, workload or None


def baselines(
    store: HistoryStore, suite: str | None = None, env: str | None = None
) -> list[BaselineRow]:
    """Every (suite, scenario, env) the store has runs of, with its current baseline, each
    workload run alongside with its own right after its scenario."""
    newest: dict[tuple[str, str, str, str], RunMeta] = {}
    for run in store.runs(suite=suite, env=env, every_workload=True):
        newest.setdefault((run.suite, run.scenario, run.env, run.workload or ""), run)
    rows = []
    for (s, scenario, e, _), run in sorted(newest.items()):
        chosen = store.baseline(s, scenario, e, run.fingerprint, workload=run.workload)
        grid = {(w.t0, w.t1) for w in store.windows(run.id or "")}
        rows.append(
            BaselineRow(
                s, scenario, e, chosen.mode, chosen.runs, run.fingerprint, len(grid), run.workload
            )
        )
    return rows


def find_scenario(store: HistoryStore, key: str, suite: str | None, env: str) -> RunMeta | None:
    """The newest run of a scenario, or of one of its workloads (`SCENARIO/WORKLOAD`): its
    suite, scenario, workload, env and fingerprint identify the baseline."""
    scenario, workload = split_key(key)
    runs = store.runs(suite=suite, scenario=scenario, env=env, limit=1, workload=workload)
    return runs[0] if runs else None


def promote(store: HistoryStore, run_ids: Sequence[str]) -> RunMeta:
    """Pin these runs as the baseline of their scenario (or of their workload, for runs of a
    workload run alongside); they must share suite, scenario, workload and env."""
    runs = [store.run(run_id) for run_id in run_ids]
    scopes = {(r.suite, r.key, r.env) for r in runs}
    if len(scopes) != 1:
        raise ValueError(
            "runs to promote must share suite, scenario (and workload) and environment; got "
            + ", ".join(f"{s}/{c}@{e}" for s, c, e in sorted(scopes))
        )
    first = runs[0]
    store.pin(first.suite, first.scenario, first.env, run_ids, workload=first.workload)
    return first


def run_pairs(store: HistoryStore, run_a: str, run_b: str) -> list[tuple[str, str]]:
    """The scenario runs to compare. Either id may be a suite run's (`s-…`, what `contval run`
    prints): it stands for each of its scenarios' runs, paired with the same scenario's run on
    the other side."""
    a, b = _scenario_runs(store, run_a), _scenario_runs(store, run_b)
    if len(a) == 1 and len(b) == 1:
        return [(next(iter(a.values())), next(iter(b.values())))]
    common = [name for name in a if name in b]
    if not common:
        raise ValueError(f"{run_a} and {run_b} share no scenario that was recorded")
    return [(a[name], b[name]) for name in common]


def _scenario_runs(store: HistoryStore, run_id: str) -> dict[str, str]:
    """{scenario (or `scenario/workload`): its run id} for a scenario run id or a suite run id
    (whose scenarios' workloads run alongside each have a run of their own)."""
    try:
        return {store.run(run_id).key: run_id}
    except UnknownRun:
        doc = store.document(run_id)  # raises UnknownRun naming both kinds of id
    found = {}
    for s in doc.get("scenarios", []):
        entries = [
            (s["name"], s),
            *((f"{s['name']}/{p['name']}", p) for p in s.get("workloads", [])),
        ]
        for key, entry in entries:
            baseline = entry.get("baseline")
            if isinstance(baseline, dict) and baseline.get("run_id"):
                found[key] = baseline["run_id"]
    return found


def compare_runs(store: HistoryStore, run_a: str, run_b: str) -> list[dict[str, Any]]:
    """B against A, per flow and metric: the Hodges-Lehmann shift of B's windows against A's
    with its Mann-Whitney interval. Two single runs cannot show run-to-run noise, so the verdict
    is the window-level one: `different` when the interval excludes 0, else `same`."""
    a, b = store.run(run_a), store.run(run_b)
    if a.workload != b.workload:
        raise ValueError(
            f"{run_a} is a run of {a.key} and {run_b} of {b.key}: a workload run alongside is "
            "compared only with runs of the same workload"
        )
    if a.fingerprint != b.fingerprint:
        raise ValueError(
            f"{run_a} and {run_b} ran different workloads (fingerprints differ): "
            "unlike runs are never compared"
        )
    current, reference = store.windows(run_b), store.windows(run_a)
    rows = []
    for flow in ["*", *sorted({w.flow for w in current})]:
        mine = values_by_metric(current, flow, "", None)
        theirs = values_by_metric(reference, flow, "", None)
        for metric in KEY_METRICS:
            rows.append(_pair(flow, metric, mine[metric], theirs[metric]))
    return rows


def _pair(flow: str, metric: str, b: list[float], a: list[float]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "flow": flow,
        "step": None,
        "phase": None,
        "metric": metric,
        "current": statistics.median(b) if b else None,
        "baseline": statistics.median(a) if a else None,
        "shift": None,
        "low": None,
        "high": None,
        "verdict": "no_data",
    }
    if len(a) < 3 or len(b) < 3:
        return row
    relative = metric != "error_rate"
    x, y = as_values(b), as_values(a)
    if relative:
        x, y = np.log(np.maximum(x, 1e-9)), np.log(np.maximum(y, 1e-9))
    shift = hodges_lehmann(x, y)
    low, high = mw_interval(x, y, 0.95)

    def scale(v: float) -> float:
        return float(np.expm1(v)) if relative else float(v)

    row.update(
        shift=scale(shift),
        low=scale(low),
        high=scale(high),
        verdict="different" if low > 0 or high < 0 else "same",
    )
    return row


def trend(
    store: HistoryStore, scenario: str, suite: str | None, env: str, limit: int = 20
) -> list[dict[str, Any]]:
    """Key metrics of the whole scenario (or of one of its workloads: `SCENARIO/WORKLOAD`)
    across its runs, oldest first."""
    name, workload = split_key(scenario)
    rows = []
    runs = store.runs(suite=suite, scenario=name, env=env, limit=limit, workload=workload)
    for run in reversed(runs):
        values = values_by_metric(store.windows(run.id or ""), "*", "", None)
        row: dict[str, Any] = {"run": run, "fingerprint": run.fingerprint[:8]}
        for metric in KEY_METRICS:
            row[metric] = statistics.median(values[metric]) if values[metric] else None
        rows.append(row)
    return rows


def noise(store: HistoryStore, run_ids: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """Run-to-run spread of each key metric over these runs (an unchanged build's noise)."""
    per_metric: dict[str, list[float]] = {m: [] for m in KEY_METRICS}
    for run_id in run_ids:
        windows = values_by_metric(store.windows(run_id), "*", "", None)
        for metric in KEY_METRICS:
            if windows[metric]:
                per_metric[metric].append(statistics.median(windows[metric]))
    result: dict[str, dict[str, float | None]] = {}
    for metric, values in per_metric.items():
        mean: float | None = statistics.fmean(values) if values else None
        sd: float | None = statistics.stdev(values) if len(values) >= 2 else None
        relative: float | None = None
        if metric == "error_rate":
            relative = sd  # error rates move in absolute points
        elif mean and sd is not None:
            relative = sd / mean
        result[metric] = {
            "mean": mean,
            "sd": sd,
            "relative_sd": relative,
            "suggested_tolerance": _suggest(metric, relative),
        }
    return result


def _suggest(metric: str, relative_sd: float | None) -> float | None:
    """A tolerance wide enough that an unchanged build rarely crosses it (3 run-to-run sds),
    never tighter than the default, rounded up to a readable step."""
    if relative_sd is None:
        return None
    default = 0.005 if metric == "error_rate" else 0.10
    step = 0.001 if metric == "error_rate" else 0.01
    wanted = max(default, 3 * relative_sd)
    return round(math.ceil(wanted / step - 1e-9) * step, 4)
