"""Reading a Prometheus text exposition over HTTP, on the controller's own thread.

The exposition is parsed by prometheus_client's parser; a body it refuses is counted as malformed
(that scrape is no data), a source that does not answer is counted as failed: neither is a
traceback, and neither stops the run.
"""

from __future__ import annotations

import difflib
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

from contval.signals.derive import Labels, Samples, Scrape
from contval.signals.selector import Selector

MAX_BODY = 16 * 1024 * 1024


class SourceError(Exception):
    """A source that cannot be used: unreachable at start, or without a metric a signal names."""


class Malformed(ValueError):
    """An exposition prometheus_client's parser refuses."""


def parse(text: str, keep: Collection[str] | None = None) -> dict[tuple[str, Labels], float]:
    """Samples by (name, sorted labels), only those named in `keep` when given; raises
    Malformed for anything the parser refuses."""
    samples: dict[tuple[str, Labels], float] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = tuple(sorted(sample.labels.items()))
                if keep is None or sample.name in keep:
                    samples[(sample.name, labels)] = float(sample.value)
    except Exception as exc:  # the parser raises ValueError, IndexError, KeyError...
        raise Malformed(f"{type(exc).__name__}: {exc}") from None
    return samples


_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
}


def offered_names(text: str) -> set[str]:
    """Every sample name the exposition offers, including those of declared families that
    have no sample yet (a labelled counter before its first increment)."""
    names: set[str] = set()
    try:
        for family in text_string_to_metric_families(text):
            names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",)))
            names.update(sample.name for sample in family.samples)
    except Exception as exc:  # as in parse(): whatever the parser refuses is malformed
        raise Malformed(f"{type(exc).__name__}: {exc}") from None
    return names


def fetch(url: str, timeout: float) -> str:
    """The body of GET url (at most MAX_BODY bytes); raises OSError when the source is down."""
    request = urllib.request.Request(url, headers={"Accept": "text/plain"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise Malformed(f"exposition over {MAX_BODY} bytes")
    return body.decode("utf-8", "replace")


def probe(name: str, url: str, timeout: float = 5.0) -> Samples:
    """Read a source once before the load starts; unreachable is a SourceError naming it."""
    try:
        return parse(fetch(url, timeout))
    except (OSError, Malformed) as exc:
        raise SourceError(f"metrics source {name!r} ({url}) did not answer: {exc}") from None


def probe_names(name: str, url: str, timeout: float = 5.0) -> set[str]:
    """Like probe(), for the names the source offers (families without samples included)."""
    try:
        return offered_names(fetch(url, timeout))
    except (OSError, Malformed) as exc:
        raise SourceError(f"metrics source {name!r} ({url}) did not answer: {exc}") from None


def check_names(
    source: str,
    selectors: Iterable[tuple[str, Selector]],
    offered: Samples | Collection[str],
) -> None:
    """Every signal's metric must be offered by its source, else say which names are."""
    if isinstance(offered, Mapping):
        names = sorted({name for name, _ in offered})
    else:
        names = sorted(offered)
    for signal, sel in selectors:
        if sel.name in names:
            continue
        raise SourceError(
            f"signal {signal!r}: metrics source {source!r} has no metric {sel.name!r}; "
            + name_hint(sel.name, names)
        )


def name_hint(name: str, offered: Sequence[str]) -> str:
    """`did you mean A, B?` with the closest of the (sorted) names offered, else some of them."""
    close = difflib.get_close_matches(name, offered, n=3, cutoff=0.6)
    if close:
        return f"did you mean {', '.join(close)}?"
    if not offered:
        return "it offers no metric at all"
    more = f" (and {len(offered) - 20} more)" if len(offered) > 20 else ""
    return f"it offers {', '.join(offered[:20])}{more}"


@dataclass
class Scraper:
    """Scrapes one URL every `every` seconds on a daemon thread, until stopped."""

    url: str
    every: float
    keep: frozenset[str] | None = None
    """The sample names the signals read; the rest of each exposition is not kept (a long
    run's memory grows with what is judged, not with everything the source exposes)."""
    clock: Callable[[], float] = time.monotonic
    scrapes: list[Scrape] = field(default_factory=list)
    malformed: int = 0
    failed: int = 0
    cpu_seconds: float = 0.0
    _origin: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self, origin: float) -> None:
        """Start scraping; times are recorded relative to `origin` (the load's second 0)."""
        self._origin = origin
        self._thread = threading.Thread(target=self._loop, name="contval-scrape", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop after at most the current scrape, and take one last reading."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.scrape_once()

    def scrape_once(self) -> None:
        """One scrape: samples, or a None entry counted as failed or malformed."""
        cpu = time.thread_time()
        t = self.clock() - self._origin
        samples: Samples | None
        try:
            samples = parse(fetch(self.url, timeout=min(max(0.5, self.every), 10.0)), self.keep)
        except Malformed:
            self.malformed += 1
            samples = None
        except (OSError, urllib.error.URLError, ValueError):
            self.failed += 1
            samples = None
        self.scrapes.append(Scrape(t, samples))
        self.cpu_seconds += time.thread_time() - cpu

    def _loop(self) -> None:
        next_at = self.clock()
        while not self._stop.is_set():
            self.scrape_once()
            next_at += self.every
            self._stop.wait(max(0.0, next_at - self.clock()))
