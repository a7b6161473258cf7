"""The `{{ ... }}` references inside suite strings, as the validator needs to see them.

Only the reference grammar lives here (`vars.NAME`, `data.FEEDER.COLUMN`, `env.NAME`,
`secrets.NAME`, or a bare variable extracted by an earlier step); rendering belongs to
`contval.flows`, which compiles templates once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

_OPEN: Final = "{{"
_CLOSE: Final = "}}"
_IDENT: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")

RefKind = Literal["vars", "data", "env", "secrets", "extracted"]
_EXPECTED: Final = (
    "expected `vars.NAME`, `data.FEEDER.COLUMN`, `env.NAME`, `secrets.NAME` "
    "or the name of an extracted variable"
)


@dataclass(frozen=True, slots=True)
class Reference:
    """One `{{ expr }}`: what it refers to, and where in the string it starts (0-based)."""

    kind: RefKind
    parts: tuple[str, ...]
    offset: int

    @property
    def text(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True)
class TemplateProblem:
    """A malformed template, with the offset of the offending `{{` in the string."""

    message: str
    offset: int


def scan(text: str) -> tuple[list[Reference], list[TemplateProblem]]:
    """Every reference in `text`, and every malformed one (reported, not raised: all at once)."""
    references: list[Reference] = []
    problems: list[TemplateProblem] = []
    start = text.find(_OPEN)
    while start != -1:
        end = text.find(_CLOSE, start + len(_OPEN))
        if end == -1:
            problems.append(TemplateProblem("unterminated `{{` (missing `}}`)", start))
            break
        expression = text[start + len(_OPEN) : end].strip()
        parsed = _parse(expression, start)
        if isinstance(parsed, Reference):
            references.append(parsed)
        else:
            problems.append(parsed)
        start = text.find(_OPEN, end + len(_CLOSE))
    return references, problems


def _parse(expression: str, offset: int) -> Reference | TemplateProblem:
    parts = tuple(expression.split("."))
    if not expression or not all(_IDENT.fullmatch(p) for p in parts):
        return TemplateProblem(f"invalid template `{{{{ {expression} }}}}`; {_EXPECTED}", offset)
    if parts[0] == "vars":
        if len(parts) != 2:
            return TemplateProblem(f"`{expression}` should be `vars.NAME`", offset)
        return Reference("vars", parts[1:], offset)
    if parts[0] == "data":
        if len(parts) != 3:
            return TemplateProblem(f"`{expression}` should be `data.FEEDER.COLUMN`", offset)
        return Reference("data", parts[1:], offset)
    if parts[0] in ("env", "secrets") and len(parts) > 1:
        if len(parts) != 2 or (parts[0] == "env" and "-" in parts[1]):
            return TemplateProblem(f"`{expression}` should be `{parts[0]}.NAME`", offset)
        return Reference("env" if parts[0] == "env" else "secrets", parts[1:], offset)
    if len(parts) != 1:
        return TemplateProblem(f"unknown template reference `{expression}`; {_EXPECTED}", offset)
    return Reference("extracted", parts, offset)
