"""A Prometheus server as a signal source: range queries over exactly the load's window through
its HTTP API (`/api/v1/query_range`), turned into per-second values like a scraped signal's.

The query is the user's PromQL with `$__step` (the step, e.g. `5s`), `$__range` (the load's
length, e.g. `40s`), `$__start` and `$__end` (the load window's Unix times) substituted, so the
text recorded beside the series can be pasted into Grafana or the Prometheus UI as is. A point at
time T covers the seconds of the step that ends at T; a query that returns several series is
summed (as a scrape signal sums over extra labels); NaN and missing points are no data.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from contval.signals.promnames import declared_names
from contval.signals.scrape import SourceError

MAX_BODY = 64 * 1024 * 1024


class QueryError(Exception):
    """Prometheus refused the query or did not answer; the message says which."""


def substitute(query: str, step: float, start: float, end: float) -> str:
    """The query with `$__step`, `$__range`, `$__start`, `$__end` filled in."""
    return (
        query.replace("$__step", f"{max(1, round(step))}s")
        .replace("$__range", f"{max(1, round(end - start))}s")
        .replace("$__start", f"{start:.3f}")
        .replace("$__end", f"{end:.3f}")
    )


def _get(base: str, path: str, params: dict[str, str], timeout: float) -> Any:
    """GET the API and return its `data`; QueryError for an error status or no answer."""
    url = f"{base.rstrip('/')}{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(MAX_BODY + 1)
    except urllib.error.HTTPError as exc:  # 400/422: the query is wrong; the body says why
        body = exc.read(MAX_BODY + 1)
    except (OSError, ValueError) as exc:
        raise QueryError(f"no answer from {base}: {exc}") from None
    try:
        doc = json.loads(body)
    except ValueError:
        raise QueryError(f"{base} answered something that is not the Prometheus API") from None
    if not isinstance(doc, dict) or doc.get("status") != "success":
        error = doc.get("error") if isinstance(doc, dict) else None
        raise QueryError(str(error or f"{base} answered an error"))
    return doc.get("data")


def check_query(name: str, base: str, signal: str, query: str, step: float, timeout: float) -> str:
    """Before the load: the server answers and accepts the query (an instant query now);
    returns the query as checked (substituted)."""
    try:
        _get(base, "/api/v1/status/buildinfo", {}, timeout)
    except QueryError as exc:
        raise SourceError(f"metrics source {name!r} ({base}) did not answer: {exc}") from None
    text = substitute(query, step, 0.0, step)
    try:
        _get(base, "/api/v1/query", {"query": text}, timeout)
    except QueryError as exc:
        raise SourceError(
            f"signal {signal!r}: Prometheus ({name!r}) refused the query {text!r}: {exc}"
        ) from None
    return text


def offered_names(base: str, timeout: float) -> set[str] | None:
    """The metric names the server knows: every name it holds samples of, and every family
    a target declares (without samples yet, as a labelled counter before its first
    increment). None when it cannot list them: the names are then not checked."""
    try:
        names = _get(base, "/api/v1/label/__name__/values", {}, timeout)
    except QueryError:
        return None
    try:
        metadata = _get(base, "/api/v1/metadata", {}, timeout)
    except QueryError:
        metadata = None
    held = {str(name) for name in names} if isinstance(names, list) else set()
    return held | declared_names(metadata)


@dataclass(frozen=True)
class RangeResult:
    """The per-second values of one range query, and what was asked."""

    values: list[float | None]
    query: str
    failed: bool = False
    detail: str = ""


def query_range(
    base: str, query: str, origin: float, seconds: int, step: float, timeout: float
) -> RangeResult:
    """The load's seconds [0, seconds) from `query` over [origin, origin + seconds] (Unix
    times); points at origin + step, origin + 2 step, ... each cover the step before them."""
    start, end = origin + step, origin + math.ceil(max(seconds, 1) / step) * step
    text = substitute(query, step, origin, origin + seconds)
    out: list[float | None] = [None] * seconds
    if seconds <= 0:
        return RangeResult(out, text)
    params = {"query": text, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
    try:
        data = _get(base, "/api/v1/query_range", params, timeout)
    except QueryError as exc:
        return RangeResult(out, text, failed=True, detail=str(exc))
    sums: dict[int, float] = {}
    for series in data.get("result", []) if isinstance(data, dict) else []:
        for ts, raw in series.get("values", []):
            value = float(raw)
            if math.isnan(value) or math.isinf(value):
                continue
            key = round((float(ts) - origin) * 1000)
            sums[key] = sums.get(key, 0.0) + value
    width = round(step * 1000)
    for key, value in sums.items():
        first, last = math.ceil((key - width) / 1000), math.ceil(key / 1000) - 1
        for second in range(max(first, 0), min(last, seconds - 1) + 1):
            out[second] = value
    return RangeResult(out, text)
