"""Request boundaries on the client → upstream bytes, for the HTTP-aware toxics.

A connection is parsed only while its link carries an HTTP-aware toxic: parsing is most of the
relay's own per-request work, and the clean path should not pay for it. Load clients keep
connections alive for minutes, so a fault added mid-run must still hit the next request on them:
the connection starts a parser at the next request boundary, which (one request in flight, no
pipelining) is the first client chunk after response bytes, or the first chunk of all. A
connection that does not speak HTTP/1.x (or upgrades) simply stops being parsed and is relayed
as bytes.
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

    __slots__ = ("_decide", "_parser", "action", "answer", "upgraded", "value")

    def __init__(self, decide: Callable[[], Decision]) -> None:
        self._decide = decide
        self._parser = httptools.HttpRequestParser(self)
        self.action = PASS
        self.value = 0.0
        # (status, keep_alive) once an ERROR request has been read to its end.
        self.answer: tuple[int, bool] | None = None
        self.upgraded = False  # switched protocols: the rest of the connection is not HTTP/1.x

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
            self.upgraded = True
            return False
        except httptools.HttpParserError:
            self.action = PASS
            return False
        return True

    def take_answer(self) -> tuple[int, bool] | None:
        """The pending injected answer, if any (handed out once)."""
        answer, self.answer = self.answer, None
        return answer
