"""Rows of the history store's tables and the records they hold, each way (`baseline.store`).

One function per direction and table, and the column lists they follow, so a schema change
touches one module.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from contval.baseline.records import RunMeta, SignalWindow, WindowRecord

RUN_COLUMNS: Final = (
    "id, suite, scenario, env, fingerprint, label, verdict, started_at, duration_s, "
    "complete, created_at, accepted, pinned, inconclusive, workload"
)
WHOLE: Final = ""
"""The `workload` column of a run of the scenario as a whole (schema 6); a workload run
`alongside` others has its own name there, and baselines of its own."""
WINDOW_COLUMNS: Final = (
    "flow, step, t0, t1, phases, requests, errors, iterations, latency, duration, dropped, late"
)
SIGNAL_COLUMNS: Final = "signal, t0, t1, phases, seconds, mean, peak"


def workload_column(workload: str | None) -> str:
    """A workload as the `workload` column holds it (`WHOLE` for the scenario as a whole)."""
    return WHOLE if workload is None else workload


def run_row(meta: RunMeta) -> tuple[Any, ...]:
    return (
        meta.id,
        meta.suite,
        meta.scenario,
        meta.env,
        meta.fingerprint,
        meta.label,
        meta.verdict,
        meta.started_at,
        meta.duration_s,
        int(meta.complete),
        meta.created_at,
        int(meta.accepted),
        int(meta.pinned),
        json.dumps(list(meta.inconclusive)),
        workload_column(meta.workload),
    )


def run_of(row: Sequence[Any]) -> RunMeta:
    (run_id, suite, scenario, env, fp, label, verdict, started, duration) = row[:9]
    complete, created, accepted, pinned, inconclusive, workload = row[9:]
    return RunMeta(
        suite=suite,
        scenario=scenario,
        fingerprint=fp,
        started_at=started,
        env=env,
        label=label,
        verdict=verdict,
        duration_s=float(duration),
        complete=bool(complete),
        id=run_id,
        created_at=created,
        accepted=bool(accepted),
        pinned=bool(pinned),
        inconclusive=tuple(json.loads(inconclusive or "[]")),
        workload=workload or None,
    )


def window_row(w: WindowRecord) -> tuple[Any, ...]:
    phases = json.dumps(dict(sorted(w.phases.items())))
    return (w.flow, w.step, w.t0, w.t1, phases, w.requests, w.errors, w.iterations, w.latency,
            w.duration, w.dropped, w.late)  # fmt: skip


def window_of(row: Sequence[Any]) -> WindowRecord:
    flow, step, t0, t1, phases, requests, errors, iterations, latency, duration = row[:10]
    dropped, late = row[10:]
    return WindowRecord(
        flow,
        step,
        t0,
        t1,
        requests,
        errors,
        iterations,
        latency,
        duration,
        json.loads(phases),
        dropped,
        late,
    )


def signal_row(w: SignalWindow) -> tuple[Any, ...]:
    phases = json.dumps(dict(sorted(w.phases.items())))
    return (w.signal, w.t0, w.t1, phases, w.seconds, w.mean, w.peak)


def signal_window_of(row: Sequence[Any]) -> SignalWindow:
    signal, t0, t1, phases, seconds, mean, peak = row
    return SignalWindow(signal, t0, t1, seconds, mean, peak, json.loads(phases))
