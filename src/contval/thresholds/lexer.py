"""Tokens of a threshold expression (everything after the optional `flow/step:` scope).

A quantity is one token (`200ms`, `1%`, `50/s`, `1m30s`) so the parser can judge its unit
against the aggregate as a whole; words may contain dashes and dots (`p99.9`, `payments-slow`).
A sign (`+`, `-`) is a token of its own, for `baseline + 10%`; inside a word a dash stays part of
the word, so fault names keep their dashes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from contval.thresholds.errors import ThresholdSyntaxError


class Tok(StrEnum):
    WORD = "word"
    NUMBER = "number"
    OP = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    SIGN = "sign"
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Tok
    text: str
    start: int
    """Offset in the whole expression (0-based)."""


_PATTERNS: tuple[tuple[Tok | None, re.Pattern[str]], ...] = (
    (None, re.compile(r"\s+")),
    (Tok.NUMBER, re.compile(r"(?:\d+(?:\.\d+)?|\.\d+)(?:[A-Za-zµ%/][A-Za-zµ%/0-9.]*)?")),
    (Tok.WORD, re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")),
    (Tok.OP, re.compile(r"<=|>=|==|!=|<|>|=")),
    (Tok.LPAREN, re.compile(r"\(")),
    (Tok.RPAREN, re.compile(r"\)")),
    (Tok.COMMA, re.compile(r",")),
    (Tok.SIGN, re.compile(r"[+-]")),
)


def tokenize(expression: str, start: int = 0) -> list[Token]:
    """Tokens of expression[start:], always ending with an END token."""
    tokens: list[Token] = []
    pos = start
    while pos < len(expression):
        for kind, pattern in _PATTERNS:
            match = pattern.match(expression, pos)
            if match is None:
                continue
            if kind is not None:
                tokens.append(Token(kind, match.group(), pos))
            pos = match.end()
            break
        else:
            raise ThresholdSyntaxError(
                f"unexpected character {expression[pos]!r}", expression, pos + 1
            )
    tokens.append(Token(Tok.END, "", len(expression)))
    return tokens
