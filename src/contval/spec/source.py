"""Reading a suite file: YAML text → plain data plus a map from every key and value to its position.

PyYAML's `safe_load` forgets where things came from, and silently lets a later duplicate key win.
We compose the node graph instead, build the plain data ourselves, and record a `Span` for every
mapping key and value, so that any later error (pydantic or cross-reference) can name `line:col`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeAlias

import yaml
import yaml.constructor
import yaml.reader
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from contval.spec.errors import Position, SuiteError

PathKey: TypeAlias = str | int
DocPath: TypeAlias = tuple[PathKey, ...]

MAX_BYTES: Final = 1024 * 1024
"""A suite file is refused above 1 MiB, before parsing: a 10 MB suite once took 34 s and 1 GB to
be told it was too large. Real suites are a few kilobytes; big data belongs in CSV feeders."""
_MAX_NODES: Final = 50_000
"""Aliases can multiply a small file into a huge document; refuse rather than exhaust memory."""
MAX_DEPTH: Final = 64
"""Nesting deeper than this is refused while composing: deep input would exhaust the stack."""
_TAG_NAMES: Final = {
    "tag:yaml.org,2002:int": "an integer",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true or false",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:binary": "base64 data",
}
_TIMESTAMP_TAG: Final = "tag:yaml.org,2002:timestamp"


@dataclass(frozen=True, slots=True)
class Span:
    """Where one value sits in the file, and where its key sits if it is a mapping entry."""

    value: Position
    key: Position | None = None
    quoted: bool = False
    """Whether the scalar was quoted; column offsets into its text then shift by one."""
    single_line: bool = True

    def text_position(self, offset: int) -> Position:
        """The position of character `offset` inside a single-line scalar (else its start)."""
        if not self.single_line:
            return self.value
        return Position(self.value.line, self.value.column + offset + (1 if self.quoted else 0))


@dataclass(frozen=True)
class SourceDocument:
    """A parsed suite file: the plain data and where each part of it came from."""

    path: Path
    data: Any
    spans: dict[DocPath, Span] = field(default_factory=dict)

    def span(self, doc_path: DocPath) -> Span:
        """The span of `doc_path`, or of its nearest ancestor that has one."""
        for end in range(len(doc_path), -1, -1):
            found = self.spans.get(doc_path[:end])
            if found is not None:
                return found
        return Span(Position(1, 1))

    def key_or_value(self, doc_path: DocPath) -> Position:
        """Where to point for an error about the entry itself: its key if it has one."""
        span = self.span(doc_path)
        return span.key or span.value

    def error(self, doc_path: DocPath, message: str, *, at_key: bool = False) -> SuiteError:
        """An error located at `doc_path` (at its key when `at_key`, else at its value)."""
        span = self.span(doc_path)
        position = (span.key or span.value) if at_key else span.value
        return SuiteError(str(self.path), position, message)


class SourceError(Exception):
    """The file cannot be turned into data at all; carries the located reasons."""

    def __init__(self, errors: list[SuiteError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def read_source(path: Path) -> SourceDocument:
    """Read and compose `path`; raise `SourceError` for unreadable, non-UTF-8 or non-YAML input."""
    label = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SourceError(
            [SuiteError(label, None, f"cannot read the suite file: {reason}")]
        ) from exc
    _refuse_size(label, len(raw))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(
            [SuiteError(label, Position(1, 1), "the file is not UTF-8 text")]
        ) from exc
    return parse_source(text, path)


def _refuse_size(label: str, size: int) -> None:
    """Refuse by bytes before parsing: parsing is what costs time and memory."""
    if size > MAX_BYTES:
        message = (
            f"the suite file is larger than {MAX_BYTES // 1024} KiB; "
            "split it or move data into CSV feeders"
        )
        raise SourceError([SuiteError(label, Position(1, 1), message)])


def parse_source(text: str, path: Path) -> SourceDocument:
    """Compose YAML `text` into data and spans; `path` is only used to label errors."""
    label = str(path)
    _refuse_size(label, len(text) if len(text) * 4 <= MAX_BYTES else len(text.encode()))
    try:
        root = yaml.compose(text, Loader=_CountingLoader)
    except _TooBig as exc:
        raise SourceError([SuiteError(label, exc.position, exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        raise SourceError([_yaml_error(label, exc)]) from exc
    except yaml.reader.ReaderError as exc:
        raise SourceError([_reader_error(label, text, exc)]) from exc
    except yaml.YAMLError as exc:
        message = f"invalid YAML: {str(exc).splitlines()[0]}"
        raise SourceError([SuiteError(label, Position(1, 1), message)]) from exc
    if root is None:
        raise SourceError([SuiteError(label, Position(1, 1), "the suite file is empty")])
    builder = _Builder(label)
    data = builder.build(root, (), None)
    if builder.errors:
        raise SourceError(builder.errors)
    return SourceDocument(path, data, builder.spans)


class _TooBig(Exception):
    """Composing stopped: too many nodes or too deep; carries where and why."""

    def __init__(self, position: Position, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.message = message


class _CountingLoader(yaml.SafeLoader):
    """PyYAML's safe composer, counting nodes and depth as it goes, so a hostile document is
    refused while it is being read rather than after it has filled memory or the stack."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nodes = 0
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        self._nodes += 1
        self._depth += 1
        try:
            if self._nodes > _MAX_NODES or self._depth > MAX_DEPTH:
                event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
                mark = event.start_mark
                position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
                if self._depth > MAX_DEPTH:
                    message = f"values are nested more than {MAX_DEPTH} levels deep; flatten them"
                else:
                    message = f"the document is too large (over {_MAX_NODES} values)"
                raise _TooBig(position, message)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _yaml_error(label: str, exc: yaml.MarkedYAMLError) -> SuiteError:
    """Translate PyYAML's two-part message into one line at the problem's position."""
    mark = exc.problem_mark or exc.context_mark
    position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
    problem = exc.problem or "invalid YAML"
    context = f" ({exc.context})" if exc.context else ""
    return SuiteError(label, position, f"invalid YAML: {problem}{context}")


def _reader_error(label: str, text: str, exc: yaml.reader.ReaderError) -> SuiteError:
    """A character YAML does not allow (NUL, other controls), at its line and column."""
    at = min(max(exc.position, 0), len(text))
    line = text.count("\n", 0, at) + 1
    column = at - (text.rfind("\n", 0, at) + 1) + 1
    character = chr(exc.character) if isinstance(exc.character, int) else str(exc.character)
    message = (
        f"invalid YAML: the control character {character!a} is not allowed; "
        "remove it, or write it as an escape inside a double-quoted string"
    )
    return SuiteError(label, Position(line, column), message)


def _position(node: Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns composed nodes into plain data, recording spans and structural errors as it goes."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.spans: dict[DocPath, Span] = {}
        self.errors: list[SuiteError] = []
        self._constructor = SafeConstructor()
        self._active: set[int] = set()
        self._count = 0

    def build(self, node: Node, doc_path: DocPath, key: Position | None) -> Any:
        self._count += 1
        if self._count > _MAX_NODES:
            if self._count == _MAX_NODES + 1:
                self._fail(node, f"the document is too large (over {_MAX_NODES} values)")
            return None
        self.spans[doc_path] = self._span(node, key)
        if id(node) in self._active:
            self._fail(node, "recursive YAML alias")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, doc_path)
            if isinstance(node, SequenceNode):
                return [self.build(item, (*doc_path, i), None) for i, item in enumerate(node.value)]
            return self._scalar(node)
        finally:
            self._active.discard(id(node))

    def _span(self, node: Node, key: Position | None) -> Span:
        if not isinstance(node, ScalarNode):
            return Span(_position(node), key)
        quoted = node.style in ("'", '"')
        single = node.start_mark.line == node.end_mark.line and node.style not in ("|", ">")
        return Span(_position(node), key, quoted=quoted, single_line=single)

    def _mapping(self, node: MappingNode, doc_path: DocPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self._fail(key_node, "mapping keys must be plain names, not lists or mappings")
                continue
            # The key's own text, not its YAML type: a flow named `on` or `200` stays a string.
            name = str(key_node.value)
            if name in first_seen:
                self._fail(key_node, f"duplicate key `{name}` (first at line {first_seen[name]})")
                continue
            first_seen[name] = key_node.start_mark.line + 1
            result[name] = self.build(value_node, (*doc_path, name), _position(key_node))
        return result

    def _scalar(self, node: Node) -> Any:
        if node.tag == _TIMESTAMP_TAG:
            return str(node.value)  # dates are text to us; never surprise datetime objects
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            self._fail(node, _unknown_tag(str(node.tag)))
        except yaml.YAMLError as exc:
            self._fail(node, f"invalid YAML value: {str(exc).splitlines()[0]}")
        except (ValueError, KeyError, TypeError, OverflowError):
            # An explicit tag (`!!int abc`) or a number past Python's digit limit.
            self._fail(node, _bad_scalar(node))
        return None

    def _fail(self, node: Node, message: str) -> None:
        self.errors.append(SuiteError(self.label, _position(node), message))


def _bad_scalar(node: Node) -> str:
    """Why a scalar cannot be read as its tag says, without echoing a huge value."""
    text = str(node.value)
    shown = repr(text if len(text) <= 40 else text[:40] + "…")
    if node.tag == "tag:yaml.org,2002:int" and len(text) > 1000:
        return f"the number {shown} has {len(text)} digits; numbers here are far smaller"
    kind = _TAG_NAMES.get(str(node.tag), f"the tag `{node.tag}`")
    return f"{shown} is not {kind}; remove the tag or fix the value"


def _unknown_tag(tag: str) -> str:
    shown = tag.replace("tag:yaml.org,2002:", "!!", 1)
    shown = shown if len(shown) <= 60 else shown[:60] + "…"
    return (
        f"unknown YAML tag `{shown}`; remove it (suite values are text, numbers, "
        "true/false, lists and mappings)"
    )
