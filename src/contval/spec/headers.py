"""Which request headers a suite may set, and what their values may contain.

The HTTP client owns the headers that frame a request and its connection (`Host`,
`Content-Length`, `Transfer-Encoding`, `Connection` and the other hop-by-hop ones): a suite that
set them would send a second `Host` or a length that lies about the body, and every request of
the run would fail. Values are one line: a CR or LF would split the header into two (request
smuggling), and a NUL is refused by servers. These rules apply to static values at validation;
templated values are checked per request by the flow runner.
"""

from __future__ import annotations

import re
from typing import Final

FORBIDDEN_HEADERS: Final = (
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "expect",
)
"""Lower-case names the client sets itself; documented in docs/suite.md."""

_WHY: Final = {
    "host": "the host comes from the flow's target (use `--target` to move it)",
    "content-length": "it frames the body it sends",
    "transfer-encoding": "it frames the body it sends",
    "expect": "it sends bodies without waiting for 100 Continue",
}
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""RFC 9110 `token`: what a header name may be made of."""
_BAD_VALUE: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
"""Control characters other than tab: never valid in a field value."""


def header_name_problem(name: str) -> str | None:
    """Why `name` cannot be a request header set by a suite, or None if it can."""
    if name.lower() in FORBIDDEN_HEADERS:
        why = _WHY.get(name.lower(), "the client manages connections itself")
        return f"header `{name}` is set by contval's HTTP client, not by a suite: {why}; remove it"
    if not _TOKEN.fullmatch(name):
        shown = ascii(name if len(name) <= 40 else name[:40] + "…")
        return (
            f"invalid header name {shown}: header names use letters, digits and "
            "!#$%&'*+.^_`|~- only, with no spaces, colons or templates"
        )
    return None


def header_value_problem(value: str) -> str | None:
    """Why `value` cannot be sent as a header value, or None if it can."""
    found = _BAD_VALUE.search(value)
    if found is None:
        return None
    char = found.group()
    what = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", "\x00": "a NUL byte"}.get(
        char, f"the control character {char!a}"
    )
    return f"a header value must be one line without control characters; it contains {what}"
