"""Templates compiled once: `{{ }}` strings split into static text and references.

`vars.X` are constants and are folded into the static text at compile time; `data.F.C` read the
iteration's feeder row and bare names read variables extracted earlier in the iteration. Both are
resolved at compile time to list indexes, so rendering is a join with no parsing and no dict
lookups. JSON bodies are serialized once with holes; only the holes are rendered per request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

from contval.spec.templates import scan

if TYPE_CHECKING:
    from contval.flows.cookies import CookieJar

MISSING: Final = object()
"""The value of a variable no step has extracted yet in this iteration."""

_STATIC_PATH_SAFE: Final = "!#$%&'()*+,/:;=?@[]~"
"""Characters kept as written in the static parts of a path: only non-ASCII gets encoded."""


class RenderError(ValueError):
    """A template could not be rendered (a variable missing, or a value unfit for a header)."""


class Scope:
    """One iteration's state: extracted variables by index, one row per feeder it uses, and the
    session's cookie jar (None until a response sets a cookie)."""

    __slots__ = ("jar", "rows", "values")

    def __init__(self, size: int, rows: tuple[tuple[str, ...], ...]) -> None:
        self.values: list[object] = [MISSING] * size
        self.rows = rows
        self.jar: CookieJar | None = None


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference resolved at compile time: a variable index, or (feeder slot, column)."""

    name: str
    variable: int = -1
    feeder: int = -1
    column: int = -1

    def value(self, scope: Scope) -> object:
        """The referenced value in this iteration; `RenderError` if it was never extracted."""
        if self.variable >= 0:
            found = scope.values[self.variable]
            if found is MISSING:
                raise RenderError(f"variable `{self.name}` has no value in this iteration")
            return found
        return scope.rows[self.feeder][self.column]


@dataclass(slots=True)
class Resolver:
    """Compile-time names for one flow: constants, its variable table and its feeders."""

    constants: Mapping[str, object]
    columns: Mapping[str, tuple[str, ...]]
    variables: dict[str, int] = field(default_factory=dict)
    feeders: list[str] = field(default_factory=list)
    environment: Mapping[str, str] = field(default_factory=dict)
    """`env.NAME` / `secrets.NAME` → value, read where the suite was loaded (folded in like
    `vars`; the runner redacts the secret ones from everything it records)."""

    def external(self, kind: str, name: str) -> str:
        """The value of `{{ env.NAME }}` or `{{ secrets.NAME }}`."""
        key = f"{kind}.{name}"
        if key not in self.environment:
            raise ValueError(f"`{key}` has no value (the suite was not loaded with it)")
        return self.environment[key]

    def variable(self, name: str) -> int:
        """The index of variable `name` in the flow's `Scope.values` (allocated on first use)."""
        return self.variables.setdefault(name, len(self.variables))

    def data(self, feeder: str, column: str) -> tuple[int, int]:
        """(row slot in `Scope.rows`, column index) of `data.feeder.column`."""
        if feeder not in self.feeders:
            self.feeders.append(feeder)
        header = self.columns.get(feeder)
        if header is None or column not in header:
            raise ValueError(f"unknown data reference `data.{feeder}.{column}`")
        return self.feeders.index(feeder), header.index(column)

    def constant(self, name: str) -> object:
        if name not in self.constants:
            raise ValueError(f"unknown variable `vars.{name}`")
        return self.constants[name]


def to_text(value: object) -> str:
    """How a value reads inside a string: JSON spelling for non-strings (`true`, `[1,2]`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


_UNRESERVED: Final = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch
"""The characters `quote(safe="")` keeps (RFC 3986's unreserved): a value made only of them,
as extracted ids mostly are, goes into the path as it is, without `quote`'s work."""


def path_value(value: object) -> str:
    """A dynamic value inside a URL: every reserved character percent-encoded."""
    text = value if type(value) is str else to_text(value)
    if _UNRESERVED(text) is not None:
        return text
    return quote(text, safe="")


_HEADER_CONTROL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
"""Control characters a field value may not hold (RFC 9110 5.5); tab is allowed."""


def header_value(value: object) -> str:
    """A dynamic header value; CR or LF would split the request, NUL and other controls are
    refused by servers or truncate the value, so any of them fails the request unsent."""
    text = to_text(value)
    bad = _HEADER_CONTROL.search(text)
    if bad is not None:
        raise RenderError(
            f"a header value may not contain control characters ({bad.group()!r} found)"
        )
    return text


def static_path(text: str) -> str:
    """The static parts of a path as written, with only non-ASCII characters encoded."""
    return quote(text, safe=_STATIC_PATH_SAFE)


@dataclass(frozen=True, slots=True)
class Text:
    """A compiled string: static strings and `Ref`s; `static` is set when there are no refs."""

    parts: tuple[str | Ref, ...]
    encode: Callable[[object], str] = to_text

    @property
    def static(self) -> str | None:
        """The whole string when it has no dynamic part."""
        if not self.parts:
            return ""
        if len(self.parts) == 1 and isinstance(self.parts[0], str):
            return self.parts[0]
        return None

    def render(self, scope: Scope) -> str:
        encode = self.encode
        parts = self.parts
        if len(parts) == 2:  # `/api/products/{{ id }}` and the like: no generator, no join
            first, second = parts
            if type(first) is str and type(second) is Ref:
                return first + encode(second.value(scope))
        return "".join(p if isinstance(p, str) else encode(p.value(scope)) for p in parts)


def compile_text(
    text: str,
    resolver: Resolver,
    encode: Callable[[object], str] = to_text,
    static: Callable[[str], str] = str,
) -> Text:
    """Split `text` at `{{ }}`; `encode` renders dynamic values, `static` the literal parts."""
    references, problems = scan(text)
    if problems:
        raise ValueError(f"invalid template {text!r}: {problems[0].message}")
    parts: list[str | Ref] = []
    position = 0
    for reference in references:
        parts.append(static(text[position : reference.offset]))
        position = text.index("}}", reference.offset) + 2
        if reference.kind == "vars":
            parts.append(encode(resolver.constant(reference.parts[0])))
        elif reference.kind in ("env", "secrets"):
            parts.append(encode(resolver.external(reference.kind, reference.parts[0])))
        elif reference.kind == "data":
            slot, column = resolver.data(*reference.parts)
            parts.append(Ref(reference.text, feeder=slot, column=column))
        else:
            parts.append(Ref(reference.text, variable=resolver.variable(reference.parts[0])))
    parts.append(static(text[position:]))
    return Text(_merge(parts), encode)


def _merge(parts: list[str | Ref]) -> tuple[str | Ref, ...]:
    """Join adjacent static strings and drop empty ones, so rendering joins as few as possible."""
    merged: list[str | Ref] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if merged and isinstance(merged[-1], str):
                merged[-1] += part
                continue
        merged.append(part)
    return tuple(merged)
