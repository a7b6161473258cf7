"""`result.json`: what a run measured and decided, in a stable shape pipelines can read
(documented in docs/result.md). Built from the merged series; written as the run goes, so a
run killed half-way leaves a readable file with `complete: false`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from contval.metrics import ErrorClass, Histogram, Series, Snapshot, summarize
from contval.metrics.rates import per_second
from contval.metrics.series import SlotTotals
from contval.metrics.snapshot import Failure
from contval.metrics.summary import LatencySummary, StepSummary, TimingSummary, summarize_step
from contval.report.seconds import seconds_path
from contval.spec.models import Flow
from contval.spec.secrets import NO_SECRETS, Redactor
from contval.spec.steps import IncludeStep, PollStep, PythonStep, RequestStep

SCHEMA = "contval/result/v1"


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _rps(value: float | None) -> float | None:
    """Every `rps` of result.json rounded alike: one run shows one number."""
    return None if value is None else round(value, 3)


def latency_dict(summary: LatencySummary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "p50": _ms(summary.p50),
        "p90": _ms(summary.p90),
        "p95": _ms(summary.p95),
        "p99": _ms(summary.p99),
        "max": _ms(summary.max),
        "mean": _ms(summary.mean),
    }


def second_row(snapshot: Snapshot, active: int, lag_ms: float, rss_mb: float) -> dict[str, Any]:
    """One row of the per-second series: counts, throughput and latency of that second."""
    hist = Histogram()
    requests = errors = iterations = dropped = 0
    for slot in snapshot.slots:
        requests += slot.requests
        errors += sum(slot.errors)
        iterations += slot.iterations
        dropped += slot.dropped_iterations
        hist.add_encoded(slot.latency)

    def ms(pct: float) -> float | None:
        value = hist.percentile(pct)
        return None if value is None else round(value / 1000, 3)

    return {
        "t": snapshot.second,
        "requests": requests,
        "errors": errors,
        "iterations": iterations,
        "dropped_iterations": dropped,
        "p50_ms": ms(50),
        "p95_ms": ms(95),
        "p99_ms": ms(99),
        "active": active,
        "lag_ms": lag_ms,
        "worker_rss_mb": rss_mb,
    }


def totals_dict(series: Series, elapsed: float, interrupted: int) -> dict[str, Any]:
    c = series.totals().counters()
    rps = per_second(c.requests, elapsed)
    checks = c.checks_passed + c.checks_failed
    return {
        "requests": c.requests,
        "errors": c.error_count,
        "error_rate": c.error_count / c.requests if c.requests else None,
        "errors_by_class": {kind.name.lower(): c.errors[kind] for kind in ErrorClass},
        "iterations": c.iterations,
        "dropped_iterations": c.dropped_iterations,
        "late_starts": c.late_starts,
        "interrupted_iterations": interrupted,
        "rps": _rps(rps),
        "checks": {
            "passed": c.checks_passed,
            "failed": c.checks_failed,
            "rate": c.checks_passed / checks if checks else None,
        },
    }


def step_order(flows: Mapping[str, Flow]) -> dict[str, list[str]]:
    """Each flow's measured steps in the order it runs them (included flows' steps where they
    are included): the order of every table of flows and steps."""

    def steps(name: str, seen: tuple[str, ...]) -> list[str]:
        names: list[str] = []
        for step in (*flows[name].setup, *flows[name].steps):  # setup: once per VU, first
            if isinstance(step, IncludeStep):
                if step.include in flows and step.include not in seen:
                    names += [n for n in steps(step.include, (*seen, name)) if n not in names]
            elif isinstance(step, RequestStep | PollStep | PythonStep) and step.name not in names:
                names.append(step.name)
        return names

    return {name: steps(name, ()) for name in flows}


def _ordered(names: Sequence[str], order: Sequence[str]) -> list[str]:
    """`names` in `order`; any not in it after them, sorted (a name the suite does not have)."""
    known = [n for n in order if n in names]
    return known + sorted(n for n in names if n not in known)


_NEVER_RUN: Final = summarize_step(SlotTotals(), 0)
"""A declared step with no data at all: zeros, no latency."""


def failures_list(failures: Sequence[Failure]) -> list[dict[str, Any]]:
    """Distinct failed checks, most frequent first (texts already bounded, escaped, redacted)."""
    return [
        {"condition": condition, "expected": expected, "actual": actual, "count": count}
        for condition, expected, actual, count in sorted(failures, key=lambda f: (-f[3], f[:3]))
    ]


def step_dict(step: StepSummary) -> dict[str, Any]:
    """One step of a flow in result.json."""
    return {
        "requests": step.requests,
        "errors": step.errors,
        "error_rate": step.error_rate,
        "rps": _rps(step.rps),
        "latency": latency_dict(step.latency),
        "duration": latency_dict(step.duration) if step.duration.count else None,
        "not_reached": step.not_reached,
        "failures": failures_list(step.failures),
        "failures_other": step.failures_other,
        "timing": timing_dict(step.timing),
    }


def timing_dict(timing: TimingSummary | None) -> dict[str, Any] | None:
    """A step's timing breakdown in result.json (docs/result.md); null without responses."""
    if timing is None:
        return None
    return {
        "responses": timing.responses,
        "connections": {"new": timing.connections_new, "reused": timing.connections_reused},
        "connect": latency_dict(timing.connect) if timing.connect.count else None,
        "tls": latency_dict(timing.tls) if timing.tls.count else None,
        "waiting_ms": _ms(timing.waiting),
        "receiving_ms": _ms(timing.receiving),
        "bytes_sent": timing.bytes_sent,
        "bytes_received": timing.bytes_received,
    }


def flows_dict(
    series: Series, kinds: Mapping[str, str], order: Mapping[str, Sequence[str]] | None = None
) -> dict[str, Any]:
    """Per flow and step, in declared order (`order`: flow → its steps, as `step_order`)."""
    order = order or {}
    summaries = summarize(series.totals())
    flows: dict[str, Any] = {}
    for name in _ordered(list(summaries), list(order)):
        flow = summaries[name]
        # Every declared step is listed, measured or not: a step no iteration reached is a row
        # of zeros (and its `not_reached` count), never a row that silently vanished.
        steps = _ordered(
            [*flow.steps, *(s for s in order.get(name, ()) if s not in flow.steps)],
            order.get(name, ()),
        )
        flows[name] = {
            "kind": kinds.get(name, "user"),
            "requests": flow.requests,
            "errors": flow.errors,
            "error_rate": flow.error_rate,
            "rps": _rps(flow.rps),
            "iterations": flow.iterations,
            "dropped_iterations": flow.dropped_iterations,
            "late_starts": flow.late_starts,
            "latency": latency_dict(flow.latency),
            "duration": latency_dict(flow.duration),
            "steps": {
                step_name: step_dict(flow.steps.get(step_name) or _NEVER_RUN) for step_name in steps
            },
        }
    return flows


def redact_document(value: Any, redactor: Redactor) -> Any:
    """A copy of a JSON-like document with every string (keys too) redacted."""
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, dict):
        return {
            redactor.redact(k) if isinstance(k, str) else k: redact_document(v, redactor)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_document(v, redactor) for v in value]
    return value


@dataclass
class ResultFile:
    """The results document, rewritten atomically whenever it changes materially."""

    path: Path
    suite: str
    suite_file: str
    started_at: float
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = False
    verdict: str = "running"
    exit_code: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Suite-run fields (run_id, env, label, health, pipeline), after `exit_code`."""
    redactor: Redactor = NO_SECRETS
    """The suite's secrets: every string of the document is redacted (`***`) on the way out,
    so neither the file nor the history and reports made from it can hold one."""

    def document(self) -> dict[str, Any]:
        document = self._document()
        return document if not self.redactor else redact_document(document, self.redactor)

    def _document(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "suite": self.suite,
            "suite_file": self.suite_file,
            "started_at": iso(self.started_at),
            "complete": self.complete,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            **self.extra,
            "scenarios": self.scenarios,
        }

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w") as handle:
            json.dump(self.document(), handle, indent=1, allow_nan=False)
            handle.write("\n")
        os.replace(tmp, self.path)
        if self.exit_code is not None:  # finished: every second is in the document now
            seconds_path(self.path).unlink(missing_ok=True)

    @property
    def seconds_path(self) -> Path:
        """The per-second log a running scenario appends to (contval.report.seconds)."""
        return seconds_path(self.path)


class FlowSeries:
    """Per flow, one value per second (columns, for charts): built as the seconds arrive, so a
    long run costs one pass over each second's snapshot and no re-decoding afterwards."""

    COLUMNS = ("requests", "errors", "p50_ms", "p95_ms", "p99_ms")

    def __init__(self) -> None:
        self.seconds: list[int] = []
        self.flows: dict[str, dict[str, list[Any]]] = {}

    def add(self, snapshot: Snapshot) -> None:
        counts: dict[str, list[int]] = {}
        hists: dict[str, Histogram] = {}
        for slot in snapshot.slots:
            c = counts.setdefault(slot.flow, [0, 0])
            c[0] += slot.requests
            c[1] += sum(slot.errors)
            if slot.latency is not None and slot.step:
                hists.setdefault(slot.flow, Histogram()).add_encoded(slot.latency)
        for flow in counts:
            if flow not in self.flows:
                empty: list[Any] = [None] * len(self.seconds)
                self.flows[flow] = {k: [0] * len(self.seconds) for k in self.COLUMNS[:2]}
                self.flows[flow].update({k: list(empty) for k in self.COLUMNS[2:]})
        self.seconds.append(snapshot.second)
        for flow, columns in self.flows.items():
            requests, errors = counts.get(flow, (0, 0))
            columns["requests"].append(requests)
            columns["errors"].append(errors)
            hist = hists.get(flow)
            for pct, key in ((50, "p50_ms"), (95, "p95_ms"), (99, "p99_ms")):
                value = hist.percentile(pct) if hist is not None else None
                columns[key].append(None if value is None else round(value / 1000, 3))

    def to_dict(self, order: Sequence[str] = ()) -> dict[str, Any]:
        """Per flow, in `order` (the suite's; others after, sorted)."""
        return {
            flow: {"t": list(self.seconds), **{k: list(v) for k, v in self.flows[flow].items()}}
            for flow in _ordered(list(self.flows), order)
        }
