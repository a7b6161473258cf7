"""One keep-alive HTTP/1.1 connection: an asyncio Protocol fed straight into httptools.

No streams, no per-request tasks: bytes arrive in `data_received`, the parser calls back, and the
request's future is resolved from the callback. The request timeout is one lazily re-armed timer per
connection (see `_on_timer`), so a request costs an attribute store, not a timer allocation.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Protocol, cast

from httptools import HttpParserError, HttpParserUpgrade, HttpResponseParser

from contval.http.clock import now
from contval.http.errors import ErrorClass, HttpError, StaleConnectionError, UnsentError
from contval.http.response import Response, parse_head
from contval.http.writes import Writes

_TIMER_SLACK = 0.001
"""libuv timers have millisecond granularity and may fire up to 1 ms early; accept that."""

MAX_HEAD = 1024 * 1024
"""Bytes a response may send before its final head is complete (1xx responses included)."""

MAX_INTERIM = 32
"""1xx responses skipped before one final response; more is a server gone wrong."""

FRAMING_PER_BODY_BYTE = 8
"""Framing bytes (chunk sizes and extensions, trailers) allowed per body byte, beyond MAX_HEAD:
one-byte chunks take 5, so only endless framing around a body that never grows trips it."""


class _Stop(Exception):
    """Raised in a parser callback to stop parsing; the callback already settled the request."""


class PoolHooks(Protocol):
    """What a connection tells its pool; a Protocol so the modules don't import each other."""

    def release(self, conn: Connection) -> None:
        """The connection finished a response and may carry another request."""

    def on_closed(self, conn: Connection) -> None:
        """The connection is gone; its slot is free."""


class Connection(asyncio.Protocol):
    """Carries one request at a time and delivers its `Response` or `HttpError` to a future."""

    __slots__ = (
        "_body_len",
        "_chunks",
        "_data_at",
        "_deadline",
        "_first_at",
        "_head",
        "_head_cut",
        "_head_parts",
        "_headers_done",
        "_interim",
        "_keep",
        "_loop",
        "_lost_waiter",
        "_max_body",
        "_parser",
        "_pool",
        "_received",
        "_response",
        "_sent",
        "_sent_at",
        "_setup",
        "_timer",
        "_timer_at",
        "_transport",
        "_unsent",
        "_waiter",
        "_writes",
        "closed",
        "idle",
        "lost",
        "served",
        "warm",
    )

    def __init__(
        self,
        pool: PoolHooks,
        loop: asyncio.AbstractEventLoop,
        max_body: int,
        writes: Writes | None = None,
    ) -> None:
        self._pool = pool
        self._loop = loop
        self._writes = writes or Writes()
        self._unsent: bytes | None = None
        """The request held for the end of the loop's pass (`Writes`), not written yet."""
        self._max_body = max_body
        self._parser = HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[Response] | None = None
        self._response: Response | None = None
        self._head_parts: list[bytes] = []
        """What arrived while the head was incomplete (usually one read: head and body)."""
        self._head_cut = -1
        """Body bytes in the head's last read, once a later read is needed for the body; -1
        while the head and the end of the response arrive in the same read."""
        self._chunks: list[bytes] = []
        self._body_len = 0
        self._received = 0
        self._interim = 0
        self._headers_done = False
        self._head = False
        self._keep = True
        self._deadline = 0.0
        self._timer: asyncio.Handle | None = None
        self._timer_at = 0.0
        self._lost_waiter: asyncio.Future[None] | None = None
        self._sent = 0
        self._sent_at = 0.0
        self._first_at = 0.0
        self._data_at = 0.0  # when the latest bytes arrived (a response completes then)
        self._setup: tuple[float, float] | None = None
        """(TCP connect, TLS handshake) seconds, until the first response carries them."""
        self.lost = False
        """The transport reported `connection_lost`: the socket is really closed."""
        self.closed = False
        self.idle = False
        self.served = 0
        """Responses completed on this connection; > 0 means the next request reuses it."""
        self.warm = False
        """Opened before it was needed (`Pool.preconnect`) and parked idle: its first request
        meets the race a reused connection meets (the server may close an idle connection)."""

    # --- requests -------------------------------------------------------------------------------

    def send(
        self, wire: bytes, head: bool, deadline: float, keep: bool = True
    ) -> asyncio.Future[Response]:
        """Write one request; the future resolves with the response or an `HttpError`.

        `keep=False` drops the body as it arrives (counted against max_body, never stored).
        """
        waiter = self._loop.create_future()
        transport = self._transport
        if transport is None or transport.is_closing() or self.closed:
            # The peer's FIN was handled between the pool handing us out and now: nothing is
            # written, so the pool may retry any request (see `UnsentError`).
            waiter.set_exception(UnsentError(ErrorClass.RESET, "connection closed", now()))
            self._waiter = None
            self.close()
            return waiter
        self._waiter = waiter
        self._head = head
        self._keep = keep
        self._head_parts.clear()
        self._head_cut = -1
        self._received = 0
        self._interim = 0
        self._headers_done = False
        self._deadline = deadline
        timer = self._timer
        if timer is None or self._timer_at > deadline:
            if timer is not None:
                timer.cancel()
            self._arm(deadline)
        self._unsent = wire
        self._writes.hold(self, self._loop)
        self._sent = len(wire)
        return waiter

    def write_held(self) -> None:
        """Write the request `send` held (`Writes` calls this at the end of the loop's pass)."""
        wire = self._unsent
        transport = self._transport
        if wire is None or transport is None:  # the request failed or was abandoned meanwhile
            return
        if transport.is_closing():
            # Closed since `send`: left held, `connection_lost` says why (`_lost`: a FIN or a
            # reset is a request never sent, which the pool may send again; a TLS alert is not).
            return
        self._unsent = None
        transport.write(wire)
        self._sent_at = now()

    def _refuse(self, reason: str) -> None:
        """Fail the request held unwritten: the pool may send it again on another connection."""
        self._unsent = None
        waiter = self._waiter
        self._waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(UnsentError(ErrorClass.RESET, reason, now()))
        self._abort()

    def opened(self, connect: float, handshake: float) -> None:
        """How long TCP (proxy tunnel included) and TLS took; the first response reports it."""
        self._setup = (connect, handshake)

    def secured(self, transport: asyncio.BaseTransport) -> None:
        """TLS is up: write through the TLS transport from now on (`loop.start_tls`)."""
        self._transport = cast(asyncio.Transport, transport)

    def _on_timer(self) -> None:
        """Fire the timeout, or re-arm for the current request if the old deadline has passed.

        The timer is armed at the first request's deadline and simply left running; since each
        request only moves `_deadline` forward, the timer fires about once per timeout period per
        connection instead of being created and cancelled for every request.
        """
        self._timer = None
        if self._waiter is None or self.closed:
            return
        if now() + _TIMER_SLACK < self._deadline:
            self._arm(self._deadline)
            return
        self._fail(ErrorClass.TIMEOUT, "no complete response before the request timeout")

    def _arm(self, when: float) -> None:
        # uvloop returns a plain Handle (no `when()`) for past times, so remember it ourselves.
        self._timer_at = when
        self._timer = self._loop.call_at(when, self._on_timer)

    def abandon(self) -> None:
        """Drop the connection because its caller went away mid-request (cancellation)."""
        self._waiter = None
        self._abort()

    # --- asyncio.Protocol -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport; nothing is sent until the pool hands us a request."""
        # uvloop's transports do not subclass asyncio.Transport, but implement its interface.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        """Feed the parser; deliver after parsing so trailing garbage can still veto reuse."""
        if self._waiter is None:
            self._abort()  # bytes nobody asked for: the stream is out of sync
            return
        if self._unsent is not None:  # bytes before our request was written: not its answer
            self._refuse("the server sent bytes before the request was written")
            return
        # One clock read per read: the first byte's time, and the last byte's when the response
        # completes in this data (as most do: one read) — the bytes' arrival, before parsing.
        self._data_at = at = now()
        received = self._received
        if not received:
            self._first_at = at
        received += len(data)
        self._received = received
        if received > MAX_HEAD and self._overflowed(received):
            return
        in_head = not self._headers_done
        if in_head:
            self._head_parts.append(data)
        try:
            self._parser.feed_data(data)
        except HttpParserUpgrade:
            self._fail(ErrorClass.MALFORMED, "unexpected protocol upgrade")
            return
        except HttpParserError as exc:
            self._on_parse_error(exc)
            return
        if self._response is not None:
            self._deliver(reusable=True)
        elif in_head and self._headers_done:
            self._head_cut = self._body_len  # the body goes on in later reads

    def _overflowed(self, received: int) -> bool:
        """Fail a response whose head, or whose framing around the body, never ends.

        Called only past MAX_HEAD bytes, so ordinary responses never pay for it. Bytes that are
        not body (a head, chunk extensions, trailers) are bounded like the body is by max_body.
        """
        body = self._body_len
        if not self._headers_done:
            reason = f"response head (1xx responses included) exceeds {MAX_HEAD} bytes"
        elif received - body > MAX_HEAD + FRAMING_PER_BODY_BYTE * body:
            reason = f"response framing exceeds {MAX_HEAD} bytes plus 8 per body byte"
        else:
            return False
        self._fail(ErrorClass.MALFORMED, reason)
        return True

    def _on_parse_error(self, exc: HttpParserError) -> None:
        """Sort out why parsing stopped: our own `_Stop`, garbage after a response, or garbage."""
        if self._response is not None:
            # HEAD stops the parser on purpose; anything else after a complete response is
            # trailing garbage, so the response stands but the connection is not reused.
            self._deliver(reusable=isinstance(exc.__context__, _Stop))
        elif self._waiter is not None:
            self._fail(ErrorClass.MALFORMED, f"invalid response: {exc}")

    def eof_received(self) -> bool:
        """A FIN: completes a body delimited by connection close, otherwise the request fails."""
        if (
            self._waiter is not None
            and self._headers_done
            and self._response is None
            and self._eof_delimited()
        ):
            self._data_at = now()  # the FIN ends the body
            self._complete(keep_alive=False)
            self._deliver(reusable=False)
        self._lost(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """The transport is gone, by our close, the peer's FIN, or a reset."""
        self.lost = True
        self._lost(exc)
        if self._lost_waiter is not None and not self._lost_waiter.done():
            self._lost_waiter.set_result(None)

    async def wait_closed(self) -> None:
        """Return once the socket is closed, so a closed client holds no file descriptors."""
        if self.lost or self._transport is None:
            return
        if self._lost_waiter is None:
            self._lost_waiter = self._loop.create_future()
        await self._lost_waiter

    # --- httptools callbacks --------------------------------------------------------------------
    # No `on_header`: httptools would call it once per header, the costliest part of a request.
    # The head's bytes are kept instead, and parsed again only if someone reads a header
    # (`Response.from_head`).

    def on_headers_complete(self) -> None:
        """Note the end of the head; a HEAD response ends here whatever its framing headers say."""
        self._headers_done = True
        if self._head and self._parser.get_status_code() >= 200:
            self._complete(keep_alive=self._parser.should_keep_alive())
            self._parser = HttpResponseParser(self)  # the old one would wait for a body
            raise _Stop

    def on_body(self, chunk: bytes) -> None:
        """Collect body chunks, refusing bodies over the limit (we never keep unbounded data)."""
        size = self._body_len + len(chunk)
        if size > self._max_body:
            self._fail(ErrorClass.MALFORMED, f"response body exceeds {self._max_body} bytes")
            raise _Stop
        self._body_len = size
        if self._keep:
            self._chunks.append(chunk)

    def on_message_complete(self) -> None:
        """Build the response; 1xx interim responses are skipped, the final one follows."""
        status = self._parser.get_status_code()
        if status < 200:
            # The head's bytes keep the 1xx heads; parsing them again skips them.
            self._headers_done = False
            self._interim += 1
            if self._interim > MAX_INTERIM:
                self._fail(ErrorClass.MALFORMED, f"more than {MAX_INTERIM} 1xx responses")
                raise _Stop
            return
        self._complete(keep_alive=self._parser.should_keep_alive())

    # --- internals ------------------------------------------------------------------------------

    def _complete(self, keep_alive: bool) -> None:
        chunks = self._chunks
        if not chunks:
            body = b""
        elif len(chunks) == 1:
            body = chunks[0]
        else:
            body = b"".join(chunks)
        chunks.clear()
        status = self._parser.get_status_code()
        setup = self._setup
        if setup is not None:
            self._setup = None
        head = b"".join(self._head_parts)  # one read: the read itself, no copy
        cut = self._head_cut
        if cut < 0:
            cut = self._body_len
        self._body_len = 0
        self._response = Response(
            status,
            None,  # parsed from `head` if someone reads a header
            body,
            self._data_at,
            keep_alive,
            None,  # set_cookie and coded: looked for in `head` if someone asks
            None,
            self._sent_at,
            self._first_at,
            self._sent,
            self._received,
            setup,
            head,
            len(head) - cut,  # the head, and at most some chunk framing after it
        )

    def _deliver(self, reusable: bool) -> None:
        """Hand the finished response over, then recycle or close the connection."""
        response = self._response
        waiter = self._waiter
        self._response = None
        self._waiter = None
        if response is None or waiter is None:
            self._abort()
            return
        self.served += 1
        if not waiter.done():
            waiter.set_result(response)
        if reusable and response.keep_alive and not self.closed:
            self._pool.release(self)
        else:
            self.close()

    def _eof_delimited(self) -> bool:
        """True when the head declared no length, so the body legitimately ends at FIN."""
        raw = parse_head(b"".join(self._head_parts))
        for i in range(0, len(raw), 2):
            name = raw[i].lower()
            if name in (b"content-length", b"transfer-encoding"):
                return False
        return True

    def _lost(self, exc: Exception | None) -> None:
        if self._unsent is not None and not isinstance(exc, ssl.SSLError):
            # Nothing was written, so another connection may carry it; a TLS alert, though,
            # judges this client's certificate and would refuse the next connection too.
            self._refuse("connection closed")
            return
        waiter = self._waiter
        self._waiter = None
        if waiter is not None and not waiter.done():
            if isinstance(exc, ssl.SSLError):
                # A TLS alert after the handshake: TLS 1.3 servers judge the client's
                # certificate once the client already sent its request.
                waiter.set_exception(HttpError(ErrorClass.TLS, f"TLS alert: {exc}", now()))
                self.close()
                return
            reason = "connection reset" if exc is not None else "connection closed"
            error_type = HttpError
            if not self._received and (self.served > 0 or self.warm):
                error_type = StaleConnectionError
            waiter.set_exception(
                error_type(ErrorClass.RESET, f"{reason} before the response was complete", now())
            )
        self.close()

    def fail(self, kind: ErrorClass, message: str) -> None:
        """Fail the request in flight (if any) and drop the connection."""
        self._fail(kind, message)

    def _fail(self, kind: ErrorClass, message: str) -> None:
        waiter = self._waiter
        self._waiter = None
        self._response = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(HttpError(kind, message, now()))
        self._abort()

    def _abort(self) -> None:
        """Close without flushing: after a failure nothing more on this socket matters."""
        if self._transport is not None:
            self._transport.abort()
        self.close()

    def close(self, notify: bool = True) -> None:
        """Close once and free the pool slot, unless the caller takes the slot over (`notify`)."""
        if self.closed:
            return
        self.closed = True
        self._unsent = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transport is not None:
            self._transport.close()
        if notify:
            self._pool.on_closed(self)
