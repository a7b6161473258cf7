"""Failed checks explained: what was checked, what was expected, what came back.

The texts are made safe where the failure happens, in the worker, before they are counted: the
secrets the run knows are replaced by `***`, control characters (and lone surrogates, bidi
controls) are escaped so a hostile body cannot move a terminal's cursor or break a table, and
each text is cut to `SHOWN_CHARS`. Only then do they travel in the per-second snapshots.
"""

from __future__ import annotations

import re
from typing import Final

from contval.flows.conditions import Failure
from contval.metrics import Slot
from contval.spec.secrets import NO_SECRETS, Redactor

SHOWN_CHARS: Final = 200
"""The longest condition, expected or actual text a failure keeps."""

_UNSAFE: Final = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str, redactor: Redactor = NO_SECRETS, limit: int = SHOWN_CHARS) -> str:
    """`text` with secrets redacted, unsafe characters escaped, cut to `limit` characters."""
    if redactor:
        text = redactor.redact(text[: limit * 4 + redactor.longest])
    text = _UNSAFE.sub(_escape, text[: limit * 4])
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Explainer:
    """Records failed checks on a slot, each text made safe first."""

    __slots__ = ("redactor",)

    def __init__(self, redactor: Redactor = NO_SECRETS) -> None:
        self.redactor = redactor

    def record(self, slot: Slot, failure: Failure) -> None:
        redactor = self.redactor
        condition, expected, actual = failure
        slot.fail(
            (
                safe_text(condition, redactor),
                safe_text(expected, redactor),
                safe_text(actual, redactor),
            )
        )

    def error(self, slot: Slot, what: str, exc: BaseException) -> None:
        """A check, an extraction or a template raised: its message is the `actual`."""
        self.record(slot, (what, "no error", f"{type(exc).__name__}: {exc}"))


NO_EXPLAINER: Final = Explainer()
