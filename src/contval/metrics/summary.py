"""End-of-run (or any window) summaries per flow and per step, in the units people read.

This is what the results file, the console table and the reports show: counts, error rate,
throughput and latency percentiles in milliseconds. Nothing here decides pass or fail.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from contval.metrics.hdr import Histogram
from contval.metrics.rates import per_second
from contval.metrics.series import Counters, SlotTotals, TimingTotals, Totals
from contval.metrics.snapshot import Failure

US_PER_MS = 1000.0


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Percentiles in milliseconds; all None when nothing was recorded (no data, not zero)."""

    count: int
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    max: float | None
    mean: float | None

    @classmethod
    def of(cls, hist: Histogram) -> LatencySummary:
        def ms(us: float | None) -> float | None:
            return None if us is None else us / US_PER_MS

        return cls(
            count=hist.count,
            p50=ms(hist.percentile(50)),
            p90=ms(hist.percentile(90)),
            p95=ms(hist.percentile(95)),
            p99=ms(hist.percentile(99)),
            max=ms(hist.max()),
            mean=ms(hist.mean()),
        )


@dataclass(frozen=True, slots=True)
class TimingSummary:
    """A step's timing breakdown (k6's): means per response, connection setup per connection.

    `waiting` is request written → first response byte (k6's http_req_waiting, time to first
    byte), `receiving` first → last byte, both means in ms over `responses`; `connect` (TCP,
    through the proxy's tunnel if any) and `tls` (handshake) are percentiles over the
    `connections_new` connections the step opened; the other responses reused one."""

    responses: int
    connections_new: int
    connections_reused: int
    bytes_sent: int
    bytes_received: int
    waiting: float | None
    receiving: float | None
    connect: LatencySummary
    tls: LatencySummary

    @classmethod
    def of(cls, t: TimingTotals) -> TimingSummary | None:
        if t.responses <= 0:
            return None
        n = t.responses
        return cls(
            responses=n,
            connections_new=t.opened,
            connections_reused=n - t.opened,
            bytes_sent=t.bytes_sent,
            bytes_received=t.bytes_received,
            waiting=t.waiting / n * US_PER_MS,
            receiving=t.receiving / n * US_PER_MS,
            connect=LatencySummary.of(t.connect),
            tls=LatencySummary.of(t.tls),
        )


@dataclass(frozen=True, slots=True)
class StepSummary:
    """One step: its requests, errors, throughput and request latency."""

    requests: int
    errors: int
    error_rate: float | None
    rps: float | None
    latency: LatencySummary
    duration: LatencySummary
    not_reached: int = 0
    """Iterations that ended at an earlier failed step of the flow."""
    failures: tuple[Failure, ...] = ()
    """Distinct failed checks, most frequent first: (condition, expected, actual, count)."""
    failures_other: int = 0
    timing: TimingSummary | None = None
    """The breakdown of the step's responses; None when none came (a think or python step)."""


@dataclass(frozen=True, slots=True)
class FlowSummary:
    """One flow: all its steps' requests together, its iterations, and iteration duration."""

    requests: int
    errors: int
    error_rate: float | None
    rps: float | None
    iterations: int
    dropped_iterations: int
    late_starts: int
    latency: LatencySummary
    duration: LatencySummary
    steps: dict[str, StepSummary]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rate(c: Counters, seconds: int) -> tuple[float | None, float | None]:
    error_rate = c.error_count / c.requests if c.requests else None
    return error_rate, per_second(c.requests, seconds)


def _merged(parts: list[SlotTotals], attr: str) -> Histogram:
    total = Histogram()
    for part in parts:
        total.add(getattr(part, attr))
    return total


def summarize_step(t: SlotTotals, seconds: int) -> StepSummary:
    error_rate, rps = _rate(t.counters, seconds)
    return StepSummary(
        requests=t.counters.requests,
        errors=t.counters.error_count,
        error_rate=error_rate,
        rps=rps,
        latency=LatencySummary.of(t.latency),
        duration=LatencySummary.of(t.duration),
        not_reached=t.counters.not_reached,
        failures=t.failures,
        failures_other=t.failures_other,
        timing=TimingSummary.of(t.timing),
    )


def summarize(totals: Totals) -> dict[str, FlowSummary]:
    """One summary per flow (sorted by name), each with its steps in first-seen order."""
    flows = sorted({flow for flow, _ in totals.slots})
    result: dict[str, FlowSummary] = {}
    for flow in flows:
        parts = totals.select(flow)
        c = totals.counters(flow)
        error_rate, rps = _rate(c, totals.seconds)
        whole = totals.slots.get((flow, ""))
        result[flow] = FlowSummary(
            requests=c.requests,
            errors=c.error_count,
            error_rate=error_rate,
            rps=rps,
            iterations=c.iterations,
            dropped_iterations=c.dropped_iterations,
            late_starts=c.late_starts,
            latency=LatencySummary.of(_merged(parts, "latency")),
            duration=LatencySummary.of(whole.duration if whole else Histogram()),
            steps={
                step: summarize_step(t, totals.seconds)
                for (f, step), t in totals.slots.items()
                if f == flow and step
            },
        )
    return result
