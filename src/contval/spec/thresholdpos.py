"""Where a character of a threshold's text sits in the suite file.

Thresholds may be written as a one-entry mapping (`- browse: p95(latency) < 4s`) whose text the
models rebuild as `key: value`; an error about a token must still point at that token.
"""

from __future__ import annotations

from typing import Any

from contval.spec.errors import Position
from contval.spec.source import DocPath, SourceDocument


def threshold_position(doc: SourceDocument, path: DocPath, offset: int | None) -> Position:
    """Where character `offset` of a threshold's text is in the file.

    `- browse: p95(latency) < 4s` reaches us as a one-entry mapping whose text we rebuilt as
    `key: value`; offsets past the key then belong to the value node.
    """
    span = doc.span(path)
    if offset is None:
        return span.value
    entry = _raw_at(doc.data, path)
    if not isinstance(entry, dict) or len(entry) != 1:
        return span.text_position(offset)
    key = str(next(iter(entry)))
    inner = doc.span((*path, key))
    if offset < len(key):
        start = inner.key or span.value
        return Position(start.line, start.column + offset)
    return inner.text_position(max(offset - len(key) - 2, 0))


def _raw_at(data: Any, path: DocPath) -> Any:
    for key in path:
        data = data[key]
    return data
