"""Per-second values of a signal from a run's scrapes: gauges, counter rates, histogram quantiles.

Each scrape is a point in time; a second of the run gets the value of the interval that ends in it
(a gauge's last reading, a counter's increase over the interval per second, a histogram's quantile
of the observations that arrived in the interval). A second without a successful scrape ending in
it, or whose interval begins with a failed scrape, is `None` (no_data): a gate never guesses.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from contval.signals.selector import Selector

Labels = tuple[tuple[str, str], ...]
Samples = Mapping[tuple[str, Labels], float]


@dataclass(frozen=True)
class Scrape:
    """One read of a source: when (seconds since the load began) and what, or None if it failed."""

    t: float
    samples: Samples | None


@dataclass(frozen=True)
class Kind:
    """How to turn samples into a value: gauge, rate, or histogram_quantile at `q`."""

    name: str
    q: float = 0.0


def _select(samples: Samples, sel: Selector, drop: str = "") -> dict[Labels, float]:
    """The selected samples by their labels (without `drop`, e.g. `le`, kept apart)."""
    out: dict[Labels, float] = {}
    for (name, labels), value in samples.items():
        if sel.matches(name, dict(labels)):
            out[labels] = value
    return out


def gauge(samples: Samples, sel: Selector) -> float | None:
    """The sum of the selected gauges (None when the source offers none of them)."""
    values = _select(samples, sel)
    return math.fsum(values.values()) if values else None


def increase(before: Samples, after: Samples, sel: Selector) -> dict[Labels, float]:
    """Each selected counter's increase; one that went down was reset, so it counted from 0."""
    old, new = _select(before, sel), _select(after, sel)
    return {k: (v - old[k] if k in old and v >= old[k] else v) for k, v in new.items()}


def quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """Prometheus's histogram_quantile over cumulative bucket counts (linear within a bucket)."""
    bounds = sorted(buckets)
    if not bounds or not math.isinf(bounds[-1]):
        return None
    total = buckets[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower if len(bounds) > 1 else None
            inside = count - below
            return bound if inside <= 0 else lower + (bound - lower) * (rank - below) / inside
        lower, below = bound, count
    return None


def interval_value(
    kind: Kind, before: Samples, after: Samples, dt: float, sel: Selector
) -> float | None:
    """The signal's value over one interval between two successful scrapes."""
    if kind.name == "gauge":
        return gauge(after, sel)
    return from_increases(kind, increase(before, after, sel), dt)


def from_increases(kind: Kind, deltas: Mapping[Labels, float], dt: float) -> float | None:
    """A rate or a quantile from the counters' increases over `dt` seconds. A counter the
    source does not expose (yet) for the selected labels was never incremented: its rate is 0
    (the source answered; its names were checked at start); a histogram without observations
    has no quantile."""
    if not deltas:
        return 0.0 if kind.name == "rate" and dt > 0 else None
    if kind.name == "rate":
        return math.fsum(deltas.values()) / dt if dt > 0 else None
    buckets: dict[float, float] = {}
    for labels, delta in deltas.items():
        le = dict(labels).get("le")
        if le is not None:
            bound = float(le)
            buckets[bound] = buckets.get(bound, 0.0) + delta
    return quantile(kind.q, buckets)


def per_second(
    kind: Kind, sel: Selector, scrapes: Sequence[Scrape], seconds: int
) -> list[float | None]:
    """The signal for seconds 0..seconds-1 of the run; None where there is no data."""
    if kind.name == "gauge":
        return _gauges(sel, scrapes, seconds)
    return _increases(kind, sel, scrapes, seconds)


def _gauges(sel: Selector, scrapes: Sequence[Scrape], seconds: int) -> list[float | None]:
    """The last reading in each second; a second between two readings (a read every 2s or more)
    takes the later one, unless the earlier read failed."""
    out: list[float | None] = [None] * seconds
    prev: Scrape | None = None
    for scrape in scrapes:
        if prev is not None and prev.samples is not None and scrape.samples is not None:
            value = gauge(scrape.samples, sel)
            first = max(0, math.floor(prev.t) + 1 if prev.t >= 0 else 0)
            last = min(seconds - 1, math.floor(scrape.t))
            for second in range(first, last + 1):
                out[second] = value
        elif scrape.samples is not None:
            second = math.floor(scrape.t)
            if 0 <= second < seconds:
                out[second] = gauge(scrape.samples, sel)
        prev = scrape
    return out


def _increases(
    kind: Kind, sel: Selector, scrapes: Sequence[Scrape], seconds: int
) -> list[float | None]:
    """Second k gets the increase from the last read before its first read to its last read
    (all the intervals that end in it, so reads faster than 1/s lose nothing), per second of
    that span; a failed read anywhere in the span makes the second no data. A second without a
    read of its own takes the value of the interval that spans it."""
    groups: dict[int, list[tuple[float, float, dict[Labels, float] | None]]] = {}
    for before, after in itertools.pairwise(scrapes):
        deltas = None
        if before.samples is not None and after.samples is not None:
            deltas = increase(before.samples, after.samples, sel)
        groups.setdefault(math.floor(after.t), []).append((before.t, after.t, deltas))
    out: list[float | None] = [None] * seconds
    for second, group in sorted(groups.items()):
        value: float | None = None
        if all(deltas is not None for _, _, deltas in group):
            merged: dict[Labels, float] = {}
            for _, _, deltas in group:
                for labels, delta in (deltas or {}).items():
                    merged[labels] = merged.get(labels, 0.0) + delta
            value = from_increases(kind, merged, group[-1][1] - group[0][0])
        start = group[0][0]
        first = max(0, math.floor(start) + 1 if start >= 0 else 0)
        for k in range(first, min(seconds - 1, second) + 1):
            out[k] = value
    return out
