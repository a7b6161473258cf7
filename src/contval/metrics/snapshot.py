"""Per-second snapshots: plain, serialisable data that merges exactly across workers.

A snapshot holds, for one second of the run, each active slot's counters and the encoded HDR
histograms of what it recorded in that second. Merging adds counters and histogram counts, so
the merge of N workers' snapshots is exactly what one recorder seeing every request would have
produced — which is what lets a run scale out without approximating percentiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contval.metrics.hdr import Histogram

_ZERO_ERRORS = (0,) * 13  # one per ErrorClass (asserted in recorder)
Key = tuple[str, str]
"""(flow, step); step "" is the flow's whole iteration."""
Failure = tuple[str, str, str, int]
"""One distinct failed check and how often: (condition, expected, actual, count), the texts
already bounded, escaped and with secrets redacted by the worker that saw them."""
MAX_FAILURES = 20
"""Distinct failures kept per (flow, step); the rest are counted as `failures_other`."""


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Where one (flow, step)'s responses spent their time, k6-style, during one interval.

    Sums, not histograms, for what every response pays (one addition each on the hot path):
    `waiting` (request written → first response byte, k6's http_req_waiting) and `receiving`
    (first → last byte) in seconds over `responses`; bytes each way; `opened` of the responses
    came on a new connection, whose TCP connect (proxy tunnel included) and TLS handshake
    times are encoded histograms (µs) like latency; the rest reused a keep-alive connection.
    """

    responses: int = 0
    waiting: float = 0.0
    receiving: float = 0.0
    bytes_sent: int = 0
    bytes_received: int = 0
    opened: int = 0
    connect: str | None = None
    tls: str | None = None

    @property
    def reused(self) -> int:
        return self.responses - self.opened

    def to_dict(self) -> dict[str, Any]:
        return {
            "responses": self.responses,
            "waiting": self.waiting,
            "receiving": self.receiving,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "opened": self.opened,
            "connect": self.connect,
            "tls": self.tls,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Breakdown | None:
        return None if data is None else cls(**data)


def merge_breakdowns(parts: Iterable[Breakdown | None]) -> Breakdown | None:
    """Add up breakdowns (None: nothing timed); histograms are summed exactly."""
    present = [p for p in parts if p is not None]
    if len(present) <= 1:
        return present[0] if present else None
    return Breakdown(
        sum(p.responses for p in present),
        sum(p.waiting for p in present),
        sum(p.receiving for p in present),
        sum(p.bytes_sent for p in present),
        sum(p.bytes_received for p in present),
        sum(p.opened for p in present),
        _merge_encoded(p.connect for p in present),
        _merge_encoded(p.tls for p in present),
    )


@dataclass(frozen=True, slots=True)
class SlotSnapshot:
    """One (flow, step) during one second. `errors` is indexed by `ErrorClass`."""

    flow: str
    step: str
    requests: int = 0
    errors: tuple[int, ...] = _ZERO_ERRORS
    checks_passed: int = 0
    checks_failed: int = 0
    iterations: int = 0
    dropped_iterations: int = 0
    late_starts: int = 0
    latency: str | None = None
    duration: str | None = None
    failures: tuple[Failure, ...] = ()
    failures_other: int = 0
    not_reached: int = 0
    """Iterations that ended at an earlier failed step, so never ran this one."""
    breakdown: Breakdown | None = None
    """The timing breakdown of the step's responses (None: no response this interval)."""

    @property
    def key(self) -> Key:
        return (self.flow, self.step)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "requests": self.requests,
            "errors": list(self.errors),
            "checks_passed": self.checks_passed,
            "checks_failed": self.checks_failed,
            "iterations": self.iterations,
            "dropped_iterations": self.dropped_iterations,
            "late_starts": self.late_starts,
            "latency": self.latency,
            "duration": self.duration,
            "failures": [list(f) for f in self.failures],
            "failures_other": self.failures_other,
            "not_reached": self.not_reached,
            "breakdown": None if self.breakdown is None else self.breakdown.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlotSnapshot:
        """Also reads snapshots written before the newest error classes (shorter `errors`)."""
        errors = tuple(data["errors"])
        width = len(_ZERO_ERRORS)
        errors = errors + (0,) * (width - len(errors)) if len(errors) < width else errors
        failures = tuple(
            (str(c), str(e), str(a), int(n)) for c, e, a, n in data.get("failures", ())
        )
        breakdown = Breakdown.from_dict(data.get("breakdown"))
        return cls(**{**data, "errors": errors, "failures": failures, "breakdown": breakdown})


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything recorded during `second` (counted from the start of the run)."""

    second: int
    slots: tuple[SlotSnapshot, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"second": self.second, "slots": [s.to_dict() for s in self.slots]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Snapshot:
        return cls(
            second=int(data["second"]),
            slots=tuple(SlotSnapshot.from_dict(s) for s in data["slots"]),
        )


def merge_slots(parts: Iterable[SlotSnapshot]) -> SlotSnapshot:
    """Add up snapshots of the same (flow, step); histograms are summed exactly."""
    items = list(parts)
    if not items:
        raise ValueError("nothing to merge")
    if len(items) == 1:
        return items[0]
    first = items[0]
    if any(p.key != first.key for p in items):
        raise ValueError("merge_slots needs snapshots of a single (flow, step)")
    failures, other = (
        merge_failures((p.failures, p.failures_other) for p in items)
        if any(p.failures or p.failures_other for p in items)
        else ((), 0)
    )
    return SlotSnapshot(
        flow=first.flow,
        step=first.step,
        requests=sum(p.requests for p in items),
        errors=tuple(sum(col) for col in zip(*(p.errors for p in items), strict=True)),
        checks_passed=sum(p.checks_passed for p in items),
        checks_failed=sum(p.checks_failed for p in items),
        iterations=sum(p.iterations for p in items),
        dropped_iterations=sum(p.dropped_iterations for p in items),
        late_starts=sum(p.late_starts for p in items),
        latency=_merge_encoded(p.latency for p in items),
        duration=_merge_encoded(p.duration for p in items),
        failures=failures,
        failures_other=other,
        not_reached=sum(p.not_reached for p in items),
        breakdown=merge_breakdowns(p.breakdown for p in items),
    )


def merge_failures(
    parts: Iterable[tuple[Iterable[Failure], int]], limit: int = MAX_FAILURES
) -> tuple[tuple[Failure, ...], int]:
    """Add up (failures, other) pairs: the `limit` most frequent distinct failures are kept
    (ties by text, so equal data merges alike in any order), the rest go to `other`."""
    counts: dict[tuple[str, str, str], int] = {}
    other = 0
    for failures, extra in parts:
        other += extra
        for condition, expected, actual, count in failures:
            key = (condition, expected, actual)
            counts[key] = counts.get(key, 0) + count
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    other += sum(count for _, count in ranked[limit:])
    return tuple((*key, count) for key, count in ranked[:limit]), other


def _merge_encoded(blobs: Iterable[str | None]) -> str | None:
    present = [b for b in blobs if b is not None]
    if len(present) <= 1:
        return present[0] if present else None
    total = Histogram()
    for blob in present:
        total.add_encoded(blob)
    return total.encode()


def merge(snapshots: Iterable[Snapshot]) -> list[Snapshot]:
    """Merge snapshots from any number of workers: one snapshot per second, sorted by second,
    slots sorted by (flow, step) so equal data always yields equal snapshots."""
    by_second: dict[int, dict[Key, list[SlotSnapshot]]] = {}
    for snap in snapshots:
        per_key = by_second.setdefault(snap.second, {})
        for slot in snap.slots:
            per_key.setdefault(slot.key, []).append(slot)
    return [
        Snapshot(
            second=second,
            slots=tuple(merge_slots(per_key[k]) for k in sorted(per_key)),
        )
        for second, per_key in sorted(by_second.items())
    ]
