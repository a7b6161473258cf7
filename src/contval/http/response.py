"""A complete HTTP response, cheap to build because most checks only read the status.

The connection hands over the response head's raw bytes, not its headers: httptools calls a
Python `on_header` once per header, which cost more than the rest of a status-only request
(docs/http.md), so the head is parsed again, by the same parser, only when someone reads a
header. A flat list of raw byte strings (name, value, name, value, ...) comes out of that, and
decoding it into a dict only happens when a check or extractor asks for it.
"""

from __future__ import annotations

import contextlib

from httptools import HttpParserError, HttpResponseParser


class Response:
    """Status, body and (lazily) headers of one response, plus when it completed.

    `completed_at` is a `contval.http.clock.now()` reading taken when the last byte was parsed; the
    caller subtracts the time the request was *due* to get latency free of coordinated omission.
    """

    __slots__ = (
        "_coded",
        "_head",
        "_head_end",
        "_headers",
        "_raw_headers",
        "_set_cookie",
        "body",
        "bytes_received",
        "bytes_sent",
        "completed_at",
        "first_byte_at",
        "keep_alive",
        "sent_at",
        "setup",
        "status",
    )

    def __init__(
        self,
        status: int,
        raw_headers: list[bytes] | None,
        body: bytes,
        completed_at: float,
        keep_alive: bool,
        set_cookie: bool | None = False,
        coded: bool | None = False,
        sent_at: float = 0.0,
        first_byte_at: float = 0.0,
        bytes_sent: int = 0,
        bytes_received: int = 0,
        setup: tuple[float, float] | None = None,
        head: bytes = b"",
        head_end: int = 0,
    ) -> None:
        self.status = status
        self._raw_headers = raw_headers
        self._head = head
        """What arrived up to the end of the head, parsed into `raw_headers` when first read
        (`raw_headers` None: the connection's way): `head[:head_end]` holds the final
        response's head, after any 1xx ones, and maybe framing bytes after it (the read is
        kept as it came, not copied, until someone looks)."""
        self._head_end = head_end
        self.body = body
        self.completed_at = completed_at
        self.keep_alive = keep_alive
        self._headers: dict[str, str] | None = None
        self._set_cookie = set_cookie
        self._coded = coded
        self.sent_at = sent_at
        """When the request was written (the timing breakdown: waiting is `first_byte_at -
        sent_at`, receiving `completed_at - first_byte_at`)."""
        self.first_byte_at = first_byte_at
        self.bytes_sent = bytes_sent
        """The request's bytes as written: head and body (TLS framing not counted)."""
        self.bytes_received = bytes_received
        """The response's bytes as received: head (1xx included), framing and body, before any
        content decoding (TLS framing not counted)."""
        self.setup = setup
        """(TCP connect, TLS handshake) seconds when this request opened its connection (0.0
        for the handshake of plain http); None when it reused a keep-alive connection."""

    @property
    def set_cookie(self) -> bool:
        """Whether a `Set-Cookie` header may have come, so a cookie jar only looks at the
        headers of the responses that may set cookies: never false where one came (a true one
        may find none; a header's value may name it)."""
        found = self._set_cookie
        if found is None:
            found = self._look()[0]
        return found

    @property
    def coded(self) -> bool:
        """Whether a `Content-Encoding` header may have come: only then may the body need
        decoding (never false where one came)."""
        found = self._coded
        if found is None:
            found = self._look()[1]
        return found

    def _look(self) -> tuple[bool, bool]:
        """Both names searched for at once in the head's bytes, any case (str's `in` costs
        about half of bytes')."""
        lowered = self._head[: self._head_end].decode("latin-1").lower()
        self._set_cookie = cookie = "set-cookie" in lowered
        self._coded = coded = "content-encoding" in lowered
        return cookie, coded

    @property
    def _raw(self) -> list[bytes]:
        raw = self._raw_headers
        if raw is None:
            raw = self._raw_headers = parse_head(self._head[: self._head_end])
        return raw

    @property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """Header pairs exactly as received, in order, duplicates kept."""
        raw = self._raw
        return list(zip(raw[::2], raw[1::2], strict=True))

    @property
    def headers(self) -> dict[str, str]:
        """Headers by lower-case name; repeated headers are joined with ', ' (RFC 9110 5.3).

        Except `set-cookie`, which cannot be joined (its values hold commas, RFC 6265 3): the
        dict has its first value; `header_values("set-cookie")` has each one.
        """
        if self._headers is None:
            merged: dict[str, str] = {}
            raw = self._raw
            for i in range(0, len(raw), 2):
                name = raw[i].decode("latin-1").lower()
                value = raw[i + 1].decode("latin-1").strip()
                if name not in merged:
                    merged[name] = value
                elif name != "set-cookie":
                    merged[name] = f"{merged[name]}, {value}"
            self._headers = merged
        return self._headers

    def header(self, name: str) -> str | None:
        """One header's value by case-insensitive name, or None."""
        return self.headers.get(name.lower())

    def header_values(self, name: str) -> list[str]:
        """Every value of a header, one per field line as received, in order (never joined)."""
        wanted = name.lower().encode("latin-1", "replace")
        raw = self._raw
        return [
            raw[i + 1].decode("latin-1").strip()
            for i in range(0, len(raw), 2)
            if raw[i].lower() == wanted
        ]

    def text(self, encoding: str = "utf-8") -> str:
        """The body decoded; invalid bytes are replaced since checks must not crash the run."""
        return self.body.decode(encoding, errors="replace")

    def __repr__(self) -> str:
        return f"<Response {self.status} {len(self.body)} bytes>"


class _Done(Exception):
    """Raised by `_Heads` once the final head is read: the body is not parsed again."""


class _Heads:
    """httptools callbacks keeping the headers of the final (non-1xx) head."""

    __slots__ = ("parser", "raw")

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.parser = HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw.append(name)
        self.raw.append(value)

    def on_headers_complete(self) -> None:
        if self.parser.get_status_code() >= 200:
            raise _Done

    def on_message_complete(self) -> None:
        self.raw = []  # a 1xx response ended: the next head is the one that counts


def parse_head(head: bytes) -> list[bytes]:
    """The final head's headers in `head` (1xx heads before it skipped), as the connection's
    parser read them: a flat list name, value, name, value, ..."""
    heads = _Heads()
    with contextlib.suppress(HttpParserError):  # `_Done`, wrapped by httptools
        heads.parser.feed_data(head)
    return heads.raw
