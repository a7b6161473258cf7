"""Units used in suite files and threshold expressions: durations, rates, percents, sizes.

Every parser takes the user's text and returns a plain number in base units (seconds, per second,
a fraction, bytes), or raises `UnitError` whose message says what was expected.
"""

from __future__ import annotations

import math
import re
from typing import Final


class UnitError(ValueError):
    """A value whose unit is missing, unknown or malformed."""


_DURATION_UNITS: Final = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)")
_NUMBER = r"(\d+(?:\.\d+)?|\.\d+)"
_RATE = re.compile(_NUMBER + r"\s*/\s*(s|m|h)")
_PERCENT = re.compile(_NUMBER + r"\s*%")
_SIZE_UNITS: Final = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE = re.compile(_NUMBER + r"\s*([kmg]i?b|b)", re.IGNORECASE)

DURATION_HINT: Final = "a duration such as 250ms, 2s, 1m or 1m30s"
RATE_HINT: Final = "a rate such as 50/s, 600/m or 3600/h"
PERCENT_HINT: Final = "a percentage such as 1% or 99.5%"
SIZE_HINT: Final = "a size such as 512MiB, 1GiB or 100kB"
HINTS: Final = {
    "duration": DURATION_HINT,
    "rate": RATE_HINT,
    "percentage": PERCENT_HINT,
    "size": SIZE_HINT,
}


def parse_duration(text: str) -> float:
    """`1m30s` → 90.0. Compound values must run from larger to smaller units."""
    s = text.strip()
    if not s:
        raise UnitError(f"empty duration; expected {DURATION_HINT}")
    _refuse_negative(s, "duration", DURATION_HINT)
    pos = 0
    total = 0.0
    last_scale = float("inf")
    for match in _DURATION_PART.finditer(s):
        if match.start() != pos:
            break
        scale = _DURATION_UNITS[match.group(2)]
        if scale >= last_scale:
            raise UnitError(f"invalid duration {text!r}: units must go from larger to smaller")
        last_scale = scale
        total += float(match.group(1)) * scale
        pos = match.end()
    if pos != len(s) or pos == 0:
        if re.fullmatch(_NUMBER, s):
            raise UnitError(f"duration {_short(text)} has no unit; expected {DURATION_HINT}")
        raise UnitError(f"invalid duration {_short(text)}; expected {DURATION_HINT}")
    return _finite(total, text, "duration")


def _finite(value: float, text: str, what: str) -> float:
    """Hundreds of digits parse to infinity; a number that large is a mistake, not a value."""
    if not math.isfinite(value):
        raise UnitError(f"{what} {_short(text)} is too large; expected {HINTS[what]}")
    return value


def _short(text: str) -> str:
    """The user's text for a message, cut short: a 400-digit value need not be echoed whole."""
    text = text.strip()
    return repr(text if len(text) <= 40 else text[:40] + "…")


def parse_duration_range(text: str) -> tuple[float, float]:
    """`500ms..2s` → (0.5, 2.0); a single duration `1s` → (1.0, 1.0).

    Think times are ranges so that virtual users do not march in lock-step.
    """
    low_text, sep, high_text = text.partition("..")
    low = parse_duration(low_text)
    high = parse_duration(high_text) if sep else low
    if high < low:
        raise UnitError(
            f"invalid duration range {text!r}: {low_text.strip()} is above {high_text.strip()}"
        )
    return low, high


def _refuse_negative(text: str, what: str, hint: str) -> None:
    """Negative values are a distinct, common mistake; name it rather than say 'invalid'."""
    if text.strip().startswith("-"):
        raise UnitError(f"{what} {text.strip()!r} is negative; expected {hint}")


def parse_rate(text: str) -> float:
    """`600/m` → 10.0 per second."""
    _refuse_negative(text, "rate", RATE_HINT)
    match = _RATE.fullmatch(text.strip())
    if match is None:
        raise UnitError(f"invalid rate {_short(text)}; expected {RATE_HINT}")
    return _finite(float(match.group(1)) / _DURATION_UNITS[match.group(2)], text, "rate")


def parse_percent(text: str) -> float:
    """`99.5%` → 0.995."""
    _refuse_negative(text, "percentage", PERCENT_HINT)
    match = _PERCENT.fullmatch(text.strip())
    if match is None:
        raise UnitError(f"invalid percentage {_short(text)}; expected {PERCENT_HINT}")
    return _finite(float(match.group(1)) / 100.0, text, "percentage")


def parse_size(text: str) -> int:
    """`1GiB` → 1073741824 bytes."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise UnitError(f"invalid size {_short(text)}; expected {SIZE_HINT}")
    size = _finite(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()], text, "size")
    if size > MAX_SIZE:
        raise UnitError(f"size {_short(text)} is too large; sizes go up to 1TiB")
    return int(size)


MAX_SIZE: Final = 1024**4
"""No memory fault or bandwidth is larger than a tebibyte; beyond it is a typo."""


def format_duration(seconds: float) -> str:
    """The shortest readable form that parses back: 0.25 → '250ms', 90 → '1m30s', 1.5 → '1.5s'.

    Fixed-point formatting (never an exponent) keeps the output inside `parse_duration`'s grammar.
    """
    if seconds < 0:
        raise UnitError(f"negative duration {seconds!r}")
    if seconds < 1:
        return f"{_plain(seconds * 1000)}ms"
    if not float(seconds).is_integer():
        return f"{_plain(seconds)}s"
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{hours}h" if hours else "",
        f"{minutes}m" if minutes else "",
        f"{secs}s" if secs else "",
    ]
    return "".join(parts) or "0s"


def _plain(value: float) -> str:
    """A decimal without exponent or trailing zeros (microsecond precision is plenty here)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"
