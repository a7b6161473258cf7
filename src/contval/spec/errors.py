"""Located suite errors: the one shape every problem with a suite file is reported in.

Editors and CI logs both understand `file:line:col: message`, so that is the only output format;
messages are written for the person fixing the file, never raw validator output.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import NamedTuple


class Position(NamedTuple):
    """A 1-based line and column in the suite file."""

    line: int
    column: int


class SuiteError(NamedTuple):
    """One problem, at one place, with a message that says how to fix it."""

    file: str
    position: Position | None
    message: str

    def __str__(self) -> str:
        if self.position is None:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.position.line}:{self.position.column}: {self.message}"


class SuiteInvalid(Exception):
    """The suite cannot be used; `errors` holds every problem found, in file order."""

    def __init__(self, errors: Sequence[SuiteError]) -> None:
        self.errors: tuple[SuiteError, ...] = tuple(sort_errors(errors))
        super().__init__("\n".join(str(e) for e in self.errors))


def sort_errors(errors: Iterable[SuiteError]) -> list[SuiteError]:
    """File order, without duplicates: one mistake can trip two checks at the same spot."""
    unique = dict.fromkeys(errors)
    return sorted(unique, key=lambda e: (e.position or Position(0, 0), e.message))


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like `word`, if any is close enough to be a plausible typo."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, choices: Iterable[str], prefix: str = "") -> str:
    """`; did you mean `x`?` for the closest choice, or '' when nothing is close."""
    match = closest(word, choices)
    return f"; did you mean `{prefix}{match}`?" if match is not None else ""


def one_of(choices: Iterable[str]) -> str:
    """A readable list of the allowed values: `a`, `b` or `c`."""
    quoted = [f"`{c}`" for c in choices]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
