"""The metric names a PromQL query reads, and whether the Prometheus server knows them.

A query naming a metric the server has never seen is valid PromQL: Prometheus accepts it and
answers an empty result, so the gate would judge seconds without data and say only `no data`.
Before the load, the names in each query are looked up in what the server offers
(`/api/v1/label/__name__/values`, and `/api/v1/metadata` for the families a target declares
that have no sample yet), and an unknown one is named with the closest the server does offer.

The names are read out of the query conservatively, without a PromQL parser: an identifier is a
metric name unless it is a function or aggregation (followed by `(`, or a keyword), a keyword,
a number or duration, inside a string, inside `{...}` (label matchers) or `[...]` (ranges), or in
the label list after `by`, `without`, `on`, `ignoring`, `group_left`, `group_right`. Anything
it cannot place is left out: a name it misses is simply not checked, never refused.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

from contval.signals.scrape import SourceError, name_hint

_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NUMBER = re.compile(r"(?:0[xX][0-9a-fA-F]+|[0-9.][0-9A-Za-z_.]*)")

KEYWORDS = frozenset(
    {
        # binary operators and modifiers
        "and", "or", "unless", "bool", "offset", "atan2",
        "by", "without", "on", "ignoring", "group_left", "group_right",
        # aggregations (may be followed by `by (...)` rather than `(`)
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
        "bottomk", "topk", "quantile", "limitk", "limit_ratio",
        # literals
        "inf", "nan",
    }
)  # fmt: skip
"""Words PromQL reserves (case-insensitive): never metric names outside `{__name__=...}`."""

LABEL_LISTS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right"})
"""Keywords whose parenthesised list that follows holds label names, not metric names."""

_CLOSE = {"{": "}", "[": "]", "(": ")"}


def metric_names(query: str) -> list[str]:
    """The metric names `query` reads, in order of first appearance, each once."""
    names: list[str] = []
    for name in _names(query):
        if name not in names:
            names.append(name)
    return names


def _names(text: str) -> Iterator[str]:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "\"'`":
            i = _skip_string(text, i)
        elif c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif c in "{[":
            i = _skip_group(text, i)
        elif c == "$":  # a variable the substitution did not fill: not a name
            m = _NAME.match(text, i + 1)
            i = m.end() if m else i + 1
        elif c.isdigit() or (c == "." and text[i + 1 : i + 2].isdigit()):
            m = _NUMBER.match(text, i)
            i = m.end() if m else i + 1
        elif (m := _NAME.match(text, i)) is not None:
            word, i = m.group(), m.end()
            after = i
            while after < n and text[after].isspace():
                after += 1
            if word.lower() in LABEL_LISTS and text[after : after + 1] == "(":
                i = _skip_group(text, after)
            elif word.lower() not in KEYWORDS and text[after : after + 1] != "(":
                yield word
        else:
            i += 1


def _skip_string(text: str, i: int) -> int:
    """The index after the string literal that starts at `i` (backquoted: no escapes)."""
    quote, j = text[i], i + 1
    while j < len(text):
        if text[j] == "\\" and quote != "`":
            j += 2
            continue
        if text[j] == quote:
            return j + 1
        j += 1
    return len(text)


def _skip_group(text: str, i: int) -> int:
    """The index after the bracket that closes the one at `i` (strings inside skipped)."""
    stack = [_CLOSE[text[i]]]
    j = i + 1
    while j < len(text) and stack:
        c = text[j]
        if c in "\"'`":
            j = _skip_string(text, j)
            continue
        if c in _CLOSE:
            stack.append(_CLOSE[c])
        elif c == stack[-1]:
            stack.pop()
        j += 1
    return j


_SERIES_SUFFIXES = {
    "histogram": ("_bucket", "_count", "_sum"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "summary": ("_count", "_sum"),
    "counter": ("_total",),
}


def declared_names(metadata: object) -> set[str]:
    """The series names of the families in `/api/v1/metadata`'s data (a family's own name, and
    its histogram's, summary's or counter's series)."""
    names: set[str] = set()
    if not isinstance(metadata, dict):
        return names
    for family, entries in metadata.items():
        names.add(str(family))
        kinds = {e.get("type") for e in entries if isinstance(e, dict)} if entries else set()
        for kind in kinds:
            for suffix in _SERIES_SUFFIXES.get(str(kind), ()):
                if not str(family).endswith(suffix):
                    names.add(f"{family}{suffix}")
    return names


def check_query_names(source: str, signal: str, query: str, offered: Collection[str]) -> None:
    """Every metric `query` reads must be one the server offers, else SourceError naming the
    signal, the unknown name and the closest names offered ("did you mean")."""
    names = sorted(offered)
    for name in metric_names(query):
        if name not in offered:
            raise SourceError(
                f"signal {signal!r}: Prometheus ({source!r}) has no metric {name!r} "
                f"(in the query {query!r}); {name_hint(name, names)}"
            )
