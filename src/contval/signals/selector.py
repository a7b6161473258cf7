"""A signal's metric expression: a metric name with optional exact label matchers.

`shop_orders_total{result="failed"}` selects the samples of that name whose labels include every
matcher; the exposition itself is parsed by prometheus_client, only this small selector is ours.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_NAME = r"[A-Za-z_:][A-Za-z0-9_:]*"
_SELECTOR = re.compile(rf"^\s*({_NAME})\s*(?:\{{(.*)\}})?\s*$", re.S)
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')


class SelectorError(ValueError):
    """A metric expression that is not `name` or `name{label="value",...}`."""


@dataclass(frozen=True)
class Selector:
    """A metric name and the labels a sample must carry to be selected."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def matches(self, name: str, labels: Mapping[str, str]) -> bool:
        """Whether a sample belongs to this selector (extra labels are summed over)."""
        return name == self.name and all(labels.get(k) == v for k, v in self.labels.items())

    def __str__(self) -> str:
        if not self.labels:
            return self.name
        inner = ",".join(f'{k}="{v}"' for k, v in self.labels.items())
        return f"{self.name}{{{inner}}}"


def parse_selector(text: str) -> Selector:
    """Parse `name{a="b"}`; only exact matchers, because a gate needs a fixed series set."""
    match = _SELECTOR.match(text)
    if match is None:
        raise SelectorError(f'{text!r} is not a metric name with optional {{label="value"}}')
    name, body = match.group(1), match.group(2)
    labels: dict[str, str] = {}
    rest = (body or "").strip()
    while rest:
        m = _MATCHER.match(rest)
        if m is None:
            raise SelectorError(
                f'{text!r}: label matchers are label="value" separated by commas '
                "(only exact matches are supported)"
            )
        labels[m.group(1)] = m.group(2).replace('\\"', '"').replace("\\\\", "\\")
        rest = rest[m.end() :].strip()
    return Selector(name, labels)
