"""The one exception type the client raises for network faults, and the class it carries.

A failed request is counted under exactly one `ErrorClass`, so the engine never has to inspect
exception types or messages.
"""

from __future__ import annotations

from contval.metrics.recorder import ErrorClass

__all__ = ["ErrorClass", "HttpError", "StaleConnectionError", "UnsentError"]

# ErrorClass is the metrics recorder's own enum (its values index the error counters), so the
# engine records `exc.kind` as it is. What the client means by each network class:
#   REFUSED    no connection could be established (refused, unreachable)
#   RESET      the connection was dropped (RST or FIN) before the response was complete
#   TIMEOUT    connect, pool wait or the whole response took longer than allowed
#   MALFORMED  the bytes were not a valid HTTP/1.1 response, or the body exceeded the size limit
#   TLS        the TLS handshake failed (certificate not trusted, wrong name, client certificate
#              refused, no common protocol)
# HTTP_STATUS and CHECK_FAILED are decided by the caller from a `Response`, never raised here.


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
        return f"{self.kind.name.lower()}: {self.args[0]}"


class StaleConnectionError(HttpError):
    """A reused keep-alive connection closed before sending a single response byte.

    Internal signal for the pool's one retry of a replayable request (see docs/http.md); it is
    still an `HttpError` of class `reset`, so when the request may not be replayed the caller
    counts it as it is.
    """


class UnsentError(StaleConnectionError):
    """The connection was already closing when the request was due: not a byte was written.

    A request that provably never left may always be retried, whatever its method.
    """
