"""The signals of one scenario's load: every declared source checked before the load, scrape
sources read on their own thread in the controller process while the load runs, Prometheus
sources asked for range queries over exactly the load's window; all turned into per-second
series aligned with the load's seconds.

Scrape times are recorded on the monotonic clock and aligned with the load's second 0 (the
controller's common start) only when a series is asked for, so the scrapers can start before
the load does and take the reading that second 0's rates start from. Prometheus is asked in
wall-clock time, from the load's wall-clock start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contval.signals.promnames import check_query_names
from contval.signals.promql import RangeResult, check_query, offered_names, query_range
from contval.signals.scrape import Scraper, SourceError, check_names, probe_names
from contval.signals.series import LiveValues, entry, kind_and_selector, values
from contval.spec.models import Suite
from contval.spec.signals import Prometheus, Signal
from contval.thresholds.signals import SignalSeries


def source_url(suite: Suite, source: str) -> str:
    """A scrape source's exposition URL: its target's base URL (as retargeted) plus its path."""
    scrape = suite.metrics_sources[source].scrape
    if scrape is None:
        raise ValueError(f"metrics source {source!r} is not scraped")
    return str(suite.targets[scrape.target]).rstrip("/") + scrape.path


@dataclass
class SignalRun:
    """The scrapers of the scrape sources (one thread each) and the Prometheus servers."""

    signals: Mapping[str, Signal]
    urls: Mapping[str, str]
    every: Mapping[str, float]
    servers: Mapping[str, Prometheus] = field(default_factory=dict)
    scrapers: dict[str, Scraper] = field(default_factory=dict)
    origin: float | None = None
    """The load's second 0 on the monotonic clock, once the load has started."""
    wall_origin: float | None = None
    """The same instant in Unix time (what Prometheus is asked in)."""
    _ranges: dict[tuple[str, int], RangeResult] = field(default_factory=dict)
    _live: dict[str, LiveValues] = field(default_factory=dict)

    @classmethod
    def for_suite(cls, suite: Suite) -> SignalRun | None:
        """None when the suite declares no signals (nothing to read)."""
        if not suite.signals:
            return None
        used = sorted({signal.source for signal in suite.signals.values()})
        sources = {name: suite.metrics_sources[name] for name in used}
        scraped = {name: s.scrape for name, s in sources.items() if s.scrape is not None}
        return cls(
            dict(suite.signals),
            {name: source_url(suite, name) for name in scraped},
            {name: scrape.every for name, scrape in scraped.items()},
            {name: s.prometheus for name, s in sources.items() if s.prometheus is not None},
        )

    def probe(self, timeout: float = 5.0) -> None:
        """Each source answers and offers every metric its signals name (a Prometheus server
        accepts every query and knows every metric it reads), else SourceError naming the
        source or the signal."""
        for source, url in self.urls.items():
            offered = probe_names(source, url, timeout)
            selectors = [
                (name, kind_and_selector(signal)[1])
                for name, signal in self.signals.items()
                if signal.source == source
            ]
            check_names(source, selectors, offered)
        listed: dict[str, set[str] | None] = {}
        for name, signal in self.signals.items():
            server = self.servers.get(signal.source)
            if server is None:
                continue
            text = check_query(
                signal.source, server.url, name, signal.query or "", server.step, timeout
            )
            if signal.source not in listed:
                listed[signal.source] = offered_names(server.url, timeout)
            known = listed[signal.source]
            if known is not None:
                check_query_names(signal.source, name, text, known)

    def start(self) -> None:
        """One scraper thread per scrape source (times on the monotonic clock, aligned later)."""
        for source, url in self.urls.items():
            names = frozenset(
                kind_and_selector(signal)[1].name
                for signal in self.signals.values()
                if signal.source == source
            )
            scraper = Scraper(url, self.every[source], keep=names)
            self.scrapers[source] = scraper
            scraper.start(origin=0.0)

    def stop(self) -> None:
        """Stop every scraper, each after one last reading (the load's last second)."""
        for scraper in self.scrapers.values():
            scraper.stop()

    def series(self, seconds: int, final: bool = True) -> dict[str, SignalSeries]:
        """Each signal's values for the load's seconds [0, seconds): None = no data. Not
        `final` (during the load, for `abort`): Prometheus is asked again, nothing is kept."""
        return {
            name: SignalSeries(self._values(name, signal, seconds, final), signal.unit)
            for name, signal in self.signals.items()
        }

    def _values(self, name: str, signal: Signal, seconds: int, final: bool) -> list[float | None]:
        if signal.source in self.servers:
            return self._range(name, signal, seconds, final).values
        scraper = self.scrapers.get(signal.source)
        if scraper is None or self.origin is None:
            return [None] * seconds
        if not final:
            return self._live.setdefault(name, LiveValues(signal))(scraper, seconds, self.origin)
        return values(signal, scraper, seconds, self.origin)

    def _range(self, name: str, signal: Signal, seconds: int, final: bool) -> RangeResult:
        cached = self._ranges.get((name, seconds))
        if cached is not None:
            return cached
        server = self.servers[signal.source]
        if self.wall_origin is None:
            return RangeResult([None] * seconds, signal.query or "", failed=True)
        # during the load (abort checks, every second) a slow server must not hold the
        # controller up: one second at most, and a late answer is no data for now
        timeout = server.timeout if final else min(server.timeout, 1.0)
        result = query_range(
            server.url, signal.query or "", self.wall_origin, seconds, server.step, timeout
        )
        if final:
            self._ranges[(name, seconds)] = result
        return result

    def entries(self, seconds: int) -> dict[str, dict[str, Any]]:
        """result.json's `signals` of the scenario (docs/signals.md)."""
        out: dict[str, dict[str, Any]] = {}
        for name, signal in self.signals.items():
            server = self.servers.get(signal.source)
            if server is not None:
                out[name] = self._query_entry(name, signal, seconds, server)
                continue
            scraper = self.scrapers.get(signal.source) or Scraper(self.urls[signal.source], 1.0)
            out[name] = entry(signal, scraper, seconds, self.origin or 0.0)
        return out

    def _query_entry(
        self, name: str, signal: Signal, seconds: int, server: Prometheus
    ) -> dict[str, Any]:
        result = self._range(name, signal, seconds, final=True)
        return {
            "source": signal.source,
            "expression": signal.expression,
            "kind": "query",
            "unit": signal.unit,
            "series": result.values,
            "no_data": [second for second, value in enumerate(result.values) if value is None],
            "scrapes": 1,
            "failed": int(result.failed),
            "malformed": 0,
            "query": result.query,
            "step_s": server.step,
            "detail": result.detail,
        }


__all__ = ["SignalRun", "SourceError", "source_url"]
