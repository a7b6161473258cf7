"""Small pure helpers the HTML report's modules share: escaping, numbers for people, badges,
and data for the page's script embedded so that no string from the run can end a tag.

Every value the report shows may be missing or null in an older document; each helper turns
that into a dash instead of failing.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

DASH: Final = "–"
_JSON_ESCAPES: Final = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}


def esc(value: Any) -> str:
    """Text for HTML content or a quoted attribute; None is the empty string."""
    return "" if value is None else html.escape(str(value), quote=True)


def get(mapping: Any, *keys: str) -> Any:
    """mapping[k1][k2]…, or None as soon as a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def number(value: Any) -> float | None:
    """A finite number, or None (bools, strings, NaN and infinities are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def compact(value: Any) -> int | float | None:
    """A number rounded to 4 significant digits for the charts' data (None stays None): the
    charts cannot show more, and it keeps an hour of per-second columns small."""
    x = number(value)
    if x is None:
        return None
    if x == 0:
        return 0
    rounded = float(f"{x:.4g}")
    return int(rounded) if rounded.is_integer() and abs(rounded) < 1e15 else rounded


def fmt_num(value: Any) -> str:
    """0.5, 26.78, 1,925 — never exponent notation."""
    x = number(value)
    if x is None:
        return DASH
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if x.is_integer():
        return f"{x:.0f}"
    return f"{x:.3g}" if abs(x) >= 0.001 else f"{x:.2g}"


def fmt_int(value: Any) -> str:
    x = number(value)
    return DASH if x is None else f"{x:,.0f}"


def fmt_ms(value: Any) -> str:
    """Milliseconds with the precision a person reads: 0.84 ms, 12.3 ms, 245 ms, 12.4 s."""
    x = number(value)
    if x is None:
        return DASH
    if abs(x) >= 10_000:
        return f"{x / 1000:,.1f} s"
    if abs(x) >= 100:
        return f"{x:.0f} ms"
    if abs(x) >= 10:
        return f"{x:.1f} ms"
    return f"{x:.2f} ms"


def fmt_rate(value: Any) -> str:
    """A fraction as a percentage: 0 %, 0.25 %, 12.5 %, 100 %."""
    x = number(value)
    if x is None:
        return DASH
    pct = x * 100
    if pct == 0 or pct.is_integer():
        return f"{pct:.0f} %"
    if abs(pct) < 0.01:
        return "< 0.01 %"
    return f"{pct:.2f} %" if abs(pct) < 10 else f"{pct:.1f} %"


def fmt_rps(value: Any) -> str:
    x = number(value)
    return DASH if x is None else f"{fmt_num(x)}/s"


def fmt_seconds(value: Any) -> str:
    x = number(value)
    if x is None:
        return DASH
    if abs(x) >= 120:
        minutes, seconds = divmod(round(x), 60)
        return f"{minutes} min {seconds:02d} s"
    return f"{x:.0f} s" if x.is_integer() else f"{x:.2f} s"


def fmt_unit(value: Any, unit: Any) -> str:
    """A threshold's figure in its own unit (ms | % | /s | count)."""
    if number(value) is None:
        return DASH
    if unit == "ms":
        return fmt_ms(value)
    if unit == "%":
        return f"{fmt_num(value)} %"
    if unit == "/s":
        return fmt_rps(value)
    if unit in ("count", None, ""):
        return fmt_num(value)
    return f"{fmt_num(value)} {unit}"


def fmt_window(window: Any) -> str:
    """[t0, t1) seconds, or a dash."""
    if not isinstance(window, list | tuple) or len(window) != 2:
        return DASH
    a, b = number(window[0]), number(window[1])
    if a is None or b is None:
        return DASH
    return f"{fmt_num(a)}–{fmt_num(b)} s"


def badge(state: Any, text: Any = None, big: bool = False) -> str:
    """A coloured label; the colour is a CSS class named after the state (escaped)."""
    word = str(state) if state is not None else "unknown"
    label = word.replace("_", " ") if text is None else str(text)
    size = " big" if big else ""
    return f'<span class="badge v-{esc(_css_token(word))}{size}">{esc(label)}</span>'


def yes_no(value: Any, yes: str = "yes", no: str = "no") -> str:
    """True → green yes, False → red no, None → a grey dash (not checked)."""
    if value is True:
        return badge("pass", yes)
    if value is False:
        return badge("fail", no)
    return badge("no_data", DASH)


def _css_token(word: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in word)[:40]


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    """`headers` are escaped here; each row's cells are HTML the caller already escaped."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    attr = f' class="{esc(cls)}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def script_json(data: Any, element_id: str) -> str:
    """Data for the page's script. `<`, `>` and `&` (and the JS line separators) become \\u
    escapes, so a flow named `</script>` stays data; JSON.parse restores them."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    text = text.translate(_JSON_ESCAPES)
    return f'<script type="application/json" id="{esc(element_id)}">{text}</script>'
