"""Phases around a fault and the resilience aggregates of a chaos run.

Owns what is measured around a fault: which seconds form its `before` / `during` / `after`
phases, the pre-fault band a scope normally stays in, how many seconds the scope took to return
to that band after the fault ended (a server-side signal's too, with a band of its own), and
the per-phase numbers the results show (requests, errors, availability, percentiles). Whether
a recovery time or an error rate is good enough is `contval.thresholds`' call. Pure: no clock,
no I/O; seconds are counted from the run's start.

A fault's window is the one the run verified, not the one it planned: from the verified inject
to the revert, cut where a lapsed lease was last confirmed (`ChaosState.whole_seconds`), so a
`during` phase never counts seconds in which the fault was not known to be in effect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Generic, TypeVar

from contval.metrics.hdr import Histogram
from contval.metrics.series import Counters, KeyFilter, Series, Totals
from contval.metrics.snapshot import Key, Snapshot

Window = tuple[int, int]
"""[start, end) in whole seconds from the run's start."""

PHASES: Final = ("before", "during", "after")
RECOVERY_STREAK: Final = 5
"""Consecutive in-band seconds (with requests) that count as recovered."""
ERROR_FACTOR: Final = 2.0
ERROR_SLACK: Final = 0.01
P95_FACTOR: Final = 1.5
P95_SLACK_US: Final = 20_000
SIGNAL_SPREAD: Final = 0.5
SIGNAL_SLACK: Final = 0.1


def phase_range(phase: str, fault: Window, start: int, end: int) -> Window:
    """[t0, t1) of `phase` around `fault` inside the series' [start, end), never inverted.

    before = [start, F.start), during = [F.start, F.end), after = [F.end, end): the three
    phases tile the run exactly, so their counts always add up to the whole run's.
    """
    f0, f1 = fault
    t0, t1 = {"before": (start, f0), "during": (f0, f1), "after": (f1, end)}[phase]
    t0 = min(max(t0, start), end)
    return t0, min(max(t1, t0), end)


def phase_series(series: Series, t0: int, t1: int) -> Series:
    """The seconds [t0, t1) as a series of their own, so whole-run and `over` evaluation apply
    to one phase unchanged. Empty snapshots pin both edges: a phase whose first or last seconds
    saw nothing still has its true length (rps and window counts depend on it)."""
    if t1 <= t0:
        return Series()
    inner = [snap for snap in series.snapshots() if t0 <= snap.second < t1]
    return Series([Snapshot(t0), *inner, Snapshot(t1 - 1)])


@dataclass(frozen=True, slots=True)
class Slots:
    """A key filter for a scope: everything (flow None), one flow, or one step of a flow."""

    flow: str | None = None
    step: str | None = None

    def __call__(self, key: Key) -> bool:
        flow, step = key
        return (self.flow is None or flow == self.flow) and (self.step is None or step == self.step)


def merged(totals: Totals) -> tuple[Counters, Histogram]:
    """All slots of `totals` added up: counters and request latency."""
    counters, latency = Counters(), Histogram()
    for part in totals.slots.values():
        counters = counters + part.counters
        latency.add(part.latency)
    return counters, latency


@dataclass(frozen=True, slots=True)
class Band:
    """How bad a second may be and still count as normal, derived from the pre-fault baseline.

    Relative limits alone would make a clean baseline (0 % errors, 2 ms p95) impossible to
    return to, so each limit also has an absolute slack: error rate at most
    max(2 × baseline, baseline + 1 point), p95 at most max(1.5 × baseline, baseline + 20 ms).
    """

    baseline_error_rate: float
    baseline_p95_us: int | None
    max_error_rate: float
    max_p95_us: float | None

    @classmethod
    def of(cls, counters: Counters, latency: Histogram) -> Band | None:
        """The band of a baseline; None when the baseline saw no requests (nothing to hold)."""
        if counters.requests == 0:
            return None
        rate = counters.error_count / counters.requests
        p95 = latency.percentile(95)
        top = None if p95 is None else max(P95_FACTOR * p95, p95 + P95_SLACK_US)
        return cls(rate, p95, max(ERROR_FACTOR * rate, rate + ERROR_SLACK), top)

    def holds(self, counters: Counters, latency: Histogram) -> bool | None:
        """Whether one second is inside the band; None for a second without requests."""
        if counters.requests == 0:
            return None
        if counters.error_count / counters.requests > self.max_error_rate:
            return False
        p95 = latency.percentile(95)
        return self.max_p95_us is None or p95 is None or p95 <= self.max_p95_us

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline_error_rate": self.baseline_error_rate,
            "baseline_p95_ms": _ms(self.baseline_p95_us),
            "max_error_rate": self.max_error_rate,
            "max_p95_ms": _ms(self.max_p95_us),
        }


def baseline(
    series: Series, fault: str, faults: Mapping[str, Window], keys: KeyFilter
) -> Band | None:
    """The band from `fault`'s before phase, leaving out seconds inside any other fault:
    an earlier fault's slow seconds would otherwise widen the band of the next one."""
    t0, t1 = phase_range("before", faults[fault], series.start, series.end)
    others = [w for name, w in faults.items() if name != fault]
    counters, latency = Counters(), Histogram()
    for second in range(t0, t1):
        if any(a <= second < b for a, b in others):
            continue
        c, h = merged(series.window(second, second + 1, keys))
        counters = counters + c
        latency.add(h)
    return Band.of(counters, latency)


class RecoveryStatus(StrEnum):
    RECOVERED = "recovered"
    NOT_RECOVERED = "not_recovered"
    NO_DATA = "no_data"


B = TypeVar("B", "Band", "SignalBand")


@dataclass(frozen=True, slots=True)
class Recovery(Generic[B]):
    """How long a scope took to get back into its band after one fault ended.

    `seconds` counts from the fault's end to the first second of the in-band streak; when the
    scope never recovered it is the time from the fault's end to the end of the run (a lower
    bound on the real recovery time), and None when there was nothing to measure.
    """

    fault: str
    status: RecoveryStatus
    seconds: int | None
    window: Window | None
    band: B | None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.status),
            "seconds": self.seconds,
            "window": list(self.window) if self.window else None,
            "band": self.band.to_dict() if self.band else None,
            "detail": self.detail,
        }


def recovery(
    series: Series, fault: str, faults: Mapping[str, Window], keys: KeyFilter | None = None
) -> Recovery[Band]:
    """Seconds from the end of `fault` until `keys`' per-second error rate and p95 stay in the
    pre-fault band for RECOVERY_STREAK seconds with requests; seconds without requests are
    skipped (they neither break nor extend a streak: a quiet second shows nothing)."""
    scope = keys or Slots()
    band = baseline(series, fault, faults, scope)
    if band is None:
        return Recovery(
            fault, RecoveryStatus.NO_DATA, None, None, None, f"no requests before {fault}"
        )

    def inside(second: int) -> bool | None:
        return band.holds(*merged(series.window(second, second + 1, scope)))

    return settle(fault, faults[fault][1], (series.start, series.end), inside, band)


def settle(
    fault: str,
    end_of_fault: int,
    span: Window,
    inside: Callable[[int], bool | None],
    band: B,
) -> Recovery[B]:
    """The one recovery rule, whatever is measured: the first of RECOVERY_STREAK consecutive
    seconds (within `span`) in which `inside` holds, counted from `end_of_fault`; a second
    for which `inside` says None (nothing measured) neither breaks nor extends a streak."""
    start, end = span
    if end <= end_of_fault:
        detail = f"the run ended before {fault} did"
        return Recovery(fault, RecoveryStatus.NO_DATA, None, None, band, detail)
    first, streak = end_of_fault, 0
    for second in range(max(end_of_fault, start), end):
        holds = inside(second)
        if holds is None:
            continue
        if not holds:
            streak = 0
            continue
        first = second if streak == 0 else first
        streak += 1
        if streak == RECOVERY_STREAK:
            window = (end_of_fault, first)
            return Recovery(fault, RecoveryStatus.RECOVERED, first - end_of_fault, window, band)
    detail = f"not recovered within the run ({end - end_of_fault}s observed after {fault})"
    if streak:
        detail += f"; back in band from second {first}, {streak} of {RECOVERY_STREAK} seconds"
    window = (end_of_fault, end)
    return Recovery(fault, RecoveryStatus.NOT_RECOVERED, end - end_of_fault, window, band, detail)


@dataclass(frozen=True, slots=True)
class SignalBand:
    """Where a server-side signal normally stays: the range of its pre-fault seconds, widened
    on both sides by half that range or SIGNAL_SLACK of its larger magnitude, whichever is
    more. Two-sided, since a signal has no known bad direction (a queue grows, a throughput
    falls); a signal flat at 0 before the fault (an empty queue) has the band [0, 0]."""

    low: float
    high: float
    min_seen: float
    max_seen: float

    @classmethod
    def of(cls, values: Iterable[float]) -> SignalBand | None:
        """The band of the pre-fault values; None without any (nothing to return to)."""
        seen = list(values)
        if not seen:
            return None
        lo, hi = min(seen), max(seen)
        margin = max(SIGNAL_SPREAD * (hi - lo), SIGNAL_SLACK * max(abs(lo), abs(hi)))
        return cls(lo - margin, hi + margin, lo, hi)

    def holds(self, value: float | None) -> bool | None:
        return None if value is None else self.low <= value <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {"min": self.min_seen, "max": self.max_seen, "low": self.low, "high": self.high}


def signal_recovery(
    values: Sequence[float | None], fault: str, faults: Mapping[str, Window]
) -> Recovery[SignalBand]:
    """Seconds from the end of `fault` until a signal (one value per second of the load, None =
    no data) stays in its pre-fault band for RECOVERY_STREAK seconds with data; the band
    leaves out seconds inside any other fault, as the client metrics' band does."""
    f0, _ = faults[fault]
    others = [w for name, w in faults.items() if name != fault]
    before = [
        v
        for second, v in enumerate(values[: max(f0, 0)])
        if v is not None and not any(a <= second < b for a, b in others)
    ]
    band = SignalBand.of(before)
    if band is None:
        detail = f"no value of the signal before {fault}"
        return Recovery(fault, RecoveryStatus.NO_DATA, None, None, None, detail)
    return settle(fault, faults[fault][1], (0, len(values)), lambda s: band.holds(values[s]), band)


def _ms(us: float | None) -> float | None:
    return None if us is None else round(us / 1000, 3)


def stats(counters: Counters, latency: Histogram) -> dict[str, Any]:
    """One scope's numbers for one phase; rates and percentiles are None without requests."""
    requests, errors = counters.requests, counters.error_count
    rate = errors / requests if requests else None
    return {
        "requests": requests,
        "errors": errors,
        "error_rate": rate,
        "availability": None if rate is None else 1.0 - rate,
        "p50_ms": _ms(latency.percentile(50)),
        "p95_ms": _ms(latency.percentile(95)),
        "p99_ms": _ms(latency.percentile(99)),
    }


def _phase(series: Series, window: Window, flows: list[str]) -> dict[str, Any]:
    totals = series.window(*window)
    return {
        "window": list(window),
        "total": stats(*merged(totals)),
        "flows": {flow: stats(*merged(_only(totals, flow))) for flow in flows},
    }


def _only(totals: Totals, flow: str) -> Totals:
    slots = {key: part for key, part in totals.slots.items() if key[0] == flow}
    return Totals(totals.start, totals.end, slots)


def phase_summary(
    series: Series,
    faults: Mapping[str, Window],
    flows: Iterable[str],
    signals: Mapping[str, Sequence[float | None]] | None = None,
) -> dict[str, Any]:
    """Per fault: its window, then per phase the whole scenario's and each flow's numbers, and
    each flow's recovery. `flows` names the rows (declared flows), so a flow that sent nothing
    in a phase shows zero requests rather than vanishing. Latencies in ms (3 decimals).
    `signals` (server-side signals, one value per second of the load) adds each signal's
    recovery under `recovery.signals`, measured as `recovery_time(signal(NAME))` is."""
    names = list(flows)
    summary: dict[str, Any] = {}
    for fault, window in faults.items():
        entry: dict[str, Any] = {"window": list(window)}
        for phase in PHASES:
            entry[phase] = _phase(
                series, phase_range(phase, window, series.start, series.end), names
            )
        entry["recovery"] = {
            "total": recovery(series, fault, faults).to_dict(),
            "flows": {
                flow: recovery(series, fault, faults, Slots(flow)).to_dict() for flow in names
            },
        }
        if signals is not None:
            entry["recovery"]["signals"] = {
                name: signal_recovery(values, fault, faults).to_dict()
                for name, values in signals.items()
            }
        summary[fault] = entry
    return summary
