"""Request boundaries on the client → upstream bytes, for the HTTP-aware toxics.

Every connection is parsed (httptools is a few microseconds per request), not only those opened
while an HTTP toxic is active: load clients keep connections alive for minutes, and a fault added
mid-run must still hit the next request on them. A connection that does not speak HTTP/1.x (or
upgrades) simply stops being parsed and is relayed as bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Final

import httptools

PASS: Final = 0
ERROR: Final = 1
DELAY: Final = 2

Decision = tuple[int, float]  # (action, status for ERROR / due time for DELAY)

INJECTED_BODY: Final = json.dumps({"error": "injected by contval"}).encode()


def error_response(status: int, keep_alive: bool) -> bytes:
    """A complete, self-delimited response the client can read without the upstream."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(INJECTED_BODY)}\r\n"
        "X-Contval-Fault: injected\r\n"
    )
    if not keep_alive:
        head += "Connection: close\r\n"
    return (head + "\r\n").encode("latin-1") + INJECTED_BODY


class RequestTap:
    """Parses requests and asks `decide` what to do with each one as it begins.

    One request in flight per connection is assumed (no pipelining), so a chunk of bytes belongs
    to the request whose decision is current when the chunk has been parsed.
    """

    __slots__ = ("_decide", "_parser", "action", "answer", "value")

    def __init__(self, decide: Callable[[], Decision]) -> None:
        self._decide = decide
        self._parser = httptools.HttpRequestParser(self)
        self.action = PASS
        self.value = 0.0
        # (status, keep_alive) once an ERROR request has been read to its end.
        self.answer: tuple[int, bool] | None = None

    def on_message_begin(self) -> None:
        """httptools callback: a new request starts; decide its fate once, now."""
        self.action, self.value = self._decide()

    def on_message_complete(self) -> None:
        """httptools callback: an injected error is answered only once the request is read."""
        if self.action == ERROR:
            self.answer = (int(self.value), bool(self._parser.should_keep_alive()))

    def feed(self, data: bytes) -> bool:
        """Parse a chunk; False when this is not (or no longer) HTTP/1.x to parse."""
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            return False
        except httptools.HttpParserError:
            self.action = PASS
            return False
        return True

    def take_answer(self) -> tuple[int, bool] | None:
        """The pending injected answer, if any (handed out once)."""
        answer, self.answer = self.answer, None
        return answer
