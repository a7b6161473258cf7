"""The JSON-path subset suites may use: `$`, `.field`, `['key']`, `[0]`, `[*]` and `.*`.

Paths are parsed once at compile time into a tuple of segments; evaluation walks a parsed JSON
document and returns every match, so conditions and extractors share one evaluator and no
dependency is needed for a grammar this small.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Final

_SEGMENT: Final = re.compile(
    r"\.(?P<field>[A-Za-z_][\w-]*)|\.(?P<star>\*)|\[(?P<index>\d+)\]|\[(?P<all>\*)\]"
    r"|\['(?P<key>[^']*)'\]"
)

WILDCARD: Final = None
"""The segment that stands for every child of an object or array."""

Segment = str | int | None
"""A field name (str), an array index (int) or the wildcard (None)."""


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A parsed path; `multi` is True when a wildcard may make it match several values."""

    text: str
    segments: tuple[Segment, ...]
    multi: bool = field(init=False)
    """Wildcard paths stand for the list of their matches; others for the single match."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "multi", WILDCARD in self.segments)

    def find(self, document: object) -> list[object]:
        """Every value the path reaches in `document`, in document order (empty: no match)."""
        node = document
        nodes: list[object] | None = None  # None: one node so far, `node`
        for segment in self.segments:
            if nodes is not None:
                nodes = _step(nodes, segment)
                if not nodes:
                    return nodes
            elif segment is None:
                if isinstance(node, dict):
                    nodes = list(node.values())
                elif isinstance(node, list):
                    nodes = list(node)
                else:
                    return []
            elif isinstance(segment, str):
                if not isinstance(node, dict) or segment not in node:
                    return []
                node = node[segment]
            elif isinstance(node, list) and segment < len(node):
                node = node[segment]
            else:
                return []
        return [node] if nodes is None else nodes


def _step(nodes: list[object], segment: Segment) -> list[object]:
    """The next segment from several nodes (after a wildcard)."""
    if isinstance(segment, str):
        try:  # the usual case, `$.items[*].id`: every node an object with the field
            return list(map(itemgetter(segment), nodes))  # type: ignore[arg-type]
        except (KeyError, TypeError):  # a node that is not an object, or lacks the field
            return [node[segment] for node in nodes if isinstance(node, dict) and segment in node]
    if segment is None:
        found: list[object] = []
        for node in nodes:
            if isinstance(node, dict):
                found.extend(node.values())
            elif isinstance(node, list):
                found.extend(node)
        return found
    return [node[segment] for node in nodes if isinstance(node, list) and segment < len(node)]


def parse_path(text: str) -> JsonPath:
    """Parse `text`; a `ValueError` names the first character that is not part of the grammar."""
    if not text.startswith("$"):
        raise ValueError(f"JSON path {text!r} must start with `$`")
    segments: list[Segment] = []
    position = 1
    while position < len(text):
        match = _SEGMENT.match(text, position)
        if match is None:
            raise ValueError(f"invalid JSON path {text!r} at character {position + 1}")
        if match["field"] is not None:
            segments.append(match["field"])
        elif match["key"] is not None:
            segments.append(match["key"])
        elif match["index"] is not None:
            segments.append(int(match["index"]))
        else:
            segments.append(WILDCARD)
        position = match.end()
    return JsonPath(text, tuple(segments))
