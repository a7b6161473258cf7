"""A complete HTTP response, cheap to build because most checks only read the status.

Headers arrive as a flat list of raw byte strings (name, value, name, value, ...) straight from the
parser; decoding them into a dict only happens when a check or extractor asks for them.
"""

from __future__ import annotations


class Response:
    """Status, body and (lazily) headers of one response, plus when it completed.

    `completed_at` is a `contval.http.clock.now()` reading taken when the last byte was parsed; the
    caller subtracts the time the request was *due* to get latency free of coordinated omission.
    """

    __slots__ = (
        "_headers",
        "_raw_headers",
        "body",
        "bytes_received",
        "bytes_sent",
        "coded",
        "completed_at",
        "first_byte_at",
        "keep_alive",
        "sent_at",
        "set_cookie",
        "setup",
        "status",
    )

    def __init__(
        self,
        status: int,
        raw_headers: list[bytes],
        body: bytes,
        completed_at: float,
        keep_alive: bool,
        set_cookie: bool = False,
        coded: bool = False,
        sent_at: float = 0.0,
        first_byte_at: float = 0.0,
        bytes_sent: int = 0,
        bytes_received: int = 0,
        setup: tuple[float, float] | None = None,
    ) -> None:
        self.status = status
        self._raw_headers = raw_headers
        self.body = body
        self.completed_at = completed_at
        self.keep_alive = keep_alive
        self._headers: dict[str, str] | None = None
        self.set_cookie = set_cookie
        """Whether a `Set-Cookie` header came (noted by the parser), so a cookie jar only looks
        at the headers of the responses that set cookies."""
        self.coded = coded
        """Whether a `Content-Encoding` header came: only then may the body need decoding."""
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
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """Header pairs exactly as received, in order, duplicates kept."""
        raw = self._raw_headers
        return list(zip(raw[::2], raw[1::2], strict=True))

    @property
    def headers(self) -> dict[str, str]:
        """Headers by lower-case name; repeated headers are joined with ', ' (RFC 9110 5.3).

        Except `set-cookie`, which cannot be joined (its values hold commas, RFC 6265 3): the
        dict has its first value; `header_values("set-cookie")` has each one.
        """
        if self._headers is None:
            merged: dict[str, str] = {}
            raw = self._raw_headers
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
        raw = self._raw_headers
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
