"""The error classes of a request, and the one exception type that carries them.

`ErrorClass` is shared with metrics: a failed request is counted under exactly one class, so the
engine never has to inspect exception types or messages. The client itself only ever produces the
four network classes; `HTTP_STATUS` and `CHECK_FAILED` are decided by the caller from a response.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorClass(StrEnum):
    """Why a request counts as an error. Values are stable: they name metric series."""

    REFUSED = "refused"
    """No connection could be established (refused, unreachable, TLS handshake rejected)."""
    RESET = "reset"
    """The connection was dropped (RST or FIN) before the response was complete."""
    TIMEOUT = "timeout"
    """Connect, pool wait or the whole response took longer than allowed."""
    MALFORMED = "malformed"
    """The bytes were not a valid HTTP/1.1 response, or the body exceeded the size limit."""
    HTTP_STATUS = "http_status"
    """The caller rejected the response's status code."""
    CHECK_FAILED = "check_failed"
    """The caller's checks on the response failed."""


class HttpError(Exception):
    """The only exception the client raises for a network fault; `kind` says which one.

    `completed_at` is the monotonic time (see `contval.http.clock`) at which the failure was known,
    so the caller can time failed requests from when they were due, like successful ones.
    """

    __slots__ = ("completed_at", "kind")

    def __init__(self, kind: ErrorClass, message: str, completed_at: float) -> None:
        super().__init__(message)
        self.kind = kind
        self.completed_at = completed_at

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.args[0]}"


class StaleConnectionError(HttpError):
    """A reused keep-alive connection closed before sending a single response byte.

    Internal signal for the pool's one retry (see docs/http.md); it is still an `HttpError` of class
    `reset`, so if it ever reached a caller it would be counted correctly.
    """
