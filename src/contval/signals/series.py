"""A signal's result.json entry: its per-second series over the load's seconds, and provenance.

Shape (documented in docs/signals.md, `signals.NAME` of a scenario's result entry):
`{"source", "expression", "kind", "unit", "series": [value | null per second], "no_data": [second,
...], "scrapes", "failed", "malformed"}`. `null` is a second without data, never zero.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Any

from contval.signals.derive import Kind, Scrape, per_second
from contval.signals.scrape import Scraper
from contval.signals.selector import Selector, parse_selector
from contval.spec.signals import Signal


def kind_and_selector(signal: Signal) -> tuple[Kind, Selector]:
    """What the spec asks for, in the form `derive` computes."""
    if signal.histogram_quantile is not None:
        q, metric = signal.histogram_quantile
        return Kind("histogram_quantile", q), parse_selector(metric)
    if signal.rate is not None:
        return Kind("rate"), parse_selector(signal.rate)
    return Kind("gauge"), parse_selector(signal.gauge or "")


def values(
    signal: Signal, scraper: Scraper, seconds: int, origin: float = 0.0
) -> list[float | None]:
    """The signal for the load's seconds [0, seconds); `origin` is the load's second 0 on the
    scraper's clock (its scrapes' times are moved to the load's)."""
    kind, selector = kind_and_selector(signal)
    scrapes = list(scraper.scrapes)  # the scraper's thread may still be appending
    if origin:
        scrapes = [Scrape(s.t - origin, s.samples) for s in scrapes]
    return per_second(kind, selector, scrapes, seconds)


@dataclass
class LiveValues:
    """A signal while the load runs (what `abort` thresholds read every second). The seconds
    that can no longer change are kept, so each call derives only the last few: checking
    every second of a long run stays cheap."""

    signal: Signal
    settled: list[float | None] = field(default_factory=list)

    def __call__(self, scraper: Scraper, seconds: int, origin: float) -> list[float | None]:
        kind, selector = kind_and_selector(self.signal)
        count = len(scraper.scrapes)  # the scraper's thread may still be appending
        known = len(self.settled)
        at = bisect_left(scraper.scrapes, known + origin, hi=count, key=lambda s: s.t)
        tail = [Scrape(s.t - origin, s.samples) for s in scraper.scrapes[max(0, at - 2) : count]]
        fresh = per_second(kind, selector, tail, seconds)
        out = self.settled[:seconds] + fresh[min(known, seconds) :]
        done = min(seconds, _settled_until(tail))
        if done > known:
            self.settled = out[:done]
        return out


def _settled_until(scrapes: list[Scrape]) -> int:
    """The seconds before this one can no longer change: the last read's second is still open,
    and so are the seconds its interval spans back to the read before it."""
    if not scrapes:
        return 0
    last = math.floor(scrapes[-1].t)
    for scrape in reversed(scrapes):
        if math.floor(scrape.t) < last:
            return math.floor(scrape.t) + 1
    return 0


def entry(signal: Signal, scraper: Scraper, seconds: int, origin: float = 0.0) -> dict[str, Any]:
    """The signal's result entry for a load of `seconds` seconds."""
    kind, _ = kind_and_selector(signal)
    series = values(signal, scraper, seconds, origin)
    return {
        "source": signal.source,
        "expression": signal.expression,
        "kind": kind.name,
        "unit": signal.unit,
        "series": series,
        "no_data": [second for second, value in enumerate(series) if value is None],
        "scrapes": len(scraper.scrapes),
        "failed": scraper.failed,
        "malformed": scraper.malformed,
    }
