"""Located suite errors: the one shape every problem with a suite file is reported in.

Editors and CI logs both understand `file:line:col: message`, so that is the only output format;
messages are written for the person fixing the file, never raw validator output.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Final, NamedTuple


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
        message = one_line(self.message)
        if self.position is None:
            return f"{self.file}: {message}"
        return f"{self.file}:{self.position.line}:{self.position.column}: {message}"


_CONTROLS: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


def one_line(text: str) -> str:
    """`text` with line breaks and control characters escaped: a message quoting the user's
    value stays one `file:line:col:` line, and no escape sequence reaches a terminal."""
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


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
