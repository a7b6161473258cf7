"""The signals of one scenario's load: every declared source probed before the load, scraped on
its own thread in the controller process while the load runs, and turned into per-second series.

Times are recorded on the monotonic clock and aligned with the load's second 0 (the
controller's common start) only when a series is asked for, so the scrapers can start before
the load does and take the reading that second 0's rates start from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contval.signals.scrape import Scraper, SourceError, check_names, probe_names
from contval.signals.series import entry, kind_and_selector, values
from contval.spec.models import Suite
from contval.spec.signals import Signal
from contval.thresholds.signals import SignalSeries


def source_url(suite: Suite, source: str) -> str:
    """The exposition's URL: the source's target's base URL (as retargeted) plus its path."""
    scrape = suite.metrics_sources[source].scrape
    return str(suite.targets[scrape.target]).rstrip("/") + scrape.path


@dataclass
class SignalRun:
    """The scrapers of the sources the suite's signals read, one thread each."""

    signals: Mapping[str, Signal]
    urls: Mapping[str, str]
    every: Mapping[str, float]
    scrapers: dict[str, Scraper] = field(default_factory=dict)
    origin: float | None = None
    """The load's second 0 on the monotonic clock, once the load has started."""

    @classmethod
    def for_suite(cls, suite: Suite) -> SignalRun | None:
        """None when the suite declares no signals (nothing to scrape)."""
        if not suite.signals:
            return None
        used = sorted({signal.source for signal in suite.signals.values()})
        return cls(
            dict(suite.signals),
            {name: source_url(suite, name) for name in used},
            {name: suite.metrics_sources[name].scrape.every for name in used},
        )

    def probe(self, timeout: float = 5.0) -> None:
        """Each source answers and offers every metric its signals name, else SourceError
        (naming the source, or the signal with the names the source does offer)."""
        for source, url in self.urls.items():
            offered = probe_names(source, url, timeout)
            selectors = [
                (name, kind_and_selector(signal)[1])
                for name, signal in self.signals.items()
                if signal.source == source
            ]
            check_names(source, selectors, offered)

    def start(self) -> None:
        """One scraper thread per source (times on the monotonic clock, aligned later)."""
        for source, url in self.urls.items():
            scraper = Scraper(url, self.every[source])
            self.scrapers[source] = scraper
            scraper.start(origin=0.0)

    def stop(self) -> None:
        """Stop every scraper, each after one last reading (the load's last second)."""
        for scraper in self.scrapers.values():
            scraper.stop()

    def series(self, seconds: int) -> dict[str, SignalSeries]:
        """Each signal's values for the load's seconds [0, seconds): None = no data."""
        return {
            name: SignalSeries(self._values(name, signal, seconds), signal.unit)
            for name, signal in self.signals.items()
        }

    def _values(self, name: str, signal: Signal, seconds: int) -> list[float | None]:
        scraper = self.scrapers.get(signal.source)
        if scraper is None or self.origin is None:
            return [None] * seconds
        return values(signal, scraper, seconds, self.origin)

    def entries(self, seconds: int) -> dict[str, dict[str, Any]]:
        """result.json's `signals` of the scenario (docs/signals.md)."""
        out: dict[str, dict[str, Any]] = {}
        for name, signal in self.signals.items():
            scraper = self.scrapers.get(signal.source) or Scraper(self.urls[signal.source], 1.0)
            out[name] = entry(signal, scraper, seconds, self.origin or 0.0)
        return out


__all__ = ["SignalRun", "SourceError", "source_url"]
