"""Secret values and how they are kept out of everything contval writes.

A `Redactor` knows the values a run must never show and replaces each occurrence, in any of the
forms a server may echo it back in (as is, percent-encoded, `+` for spaces, JSON-escaped,
HTML-escaped; case-insensitively, so `%2f` is caught like `%2F`), with `***`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote, quote_plus

MASK: Final = "***"


def _forms(secret: str) -> set[str]:
    """The ways `secret` can appear in a URL, a header or a body that echoes it."""
    return {
        secret,
        quote(secret, safe=""),
        quote(secret, safe="/"),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
    }


class Redactor:
    """Replaces every known secret value (in every echoed form) with `***`."""

    __slots__ = ("_bytes", "_text", "longest")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        forms = sorted(
            {form for secret in secrets if secret for form in _forms(secret)},
            key=lambda f: (-len(f), f),
        )
        self.longest = len(forms[0]) if forms else 0
        """The longest form: a text cut at N characters is redacted on N + this many."""
        alternatives = "|".join(re.escape(form) for form in forms)
        self._text = re.compile(alternatives, re.IGNORECASE) if forms else None
        raw = [f.encode("utf-8") for f in forms]
        raw_alternatives = b"|".join(re.escape(form) for form in raw)
        self._bytes = re.compile(raw_alternatives, re.IGNORECASE) if raw else None

    def __bool__(self) -> bool:
        return self._text is not None

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by `***`."""
        pattern = self._text
        return text if pattern is None else pattern.sub(MASK, text)

    def redact_bytes(self, data: bytes) -> bytes:
        """`data` (UTF-8 or not) with every secret's UTF-8 bytes replaced by `***`."""
        pattern = self._bytes
        return data if pattern is None else pattern.sub(MASK.encode(), data)


NO_SECRETS: Final = Redactor()
