"""A bounded keep-alive connection pool for one origin, and the request entry point.

Accounting is by slots: `_open` counts connections that exist or are being opened, and never
exceeds `max_connections`. A slot freed while requests wait is handed straight to the oldest waiter
(as a live connection or as the right to open one), so waiters are served in order and the limit
holds at every instant.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Iterable, Mapping

from contval.http.clock import now
from contval.http.connection import Connection
from contval.http.errors import ErrorClass, HttpError, StaleConnectionError, UnsentError
from contval.http.options import ClientOptions
from contval.http.proxy import Proxy, ProxyError, open_tunnel
from contval.http.request import Origin, RequestTemplate
from contval.http.response import Response
from contval.http.writes import Writes

_NOT_REPLAYED = (
    "reused connection closed after the %s was sent, before any response byte; not replayed"
    " (the server may have processed it: only idempotent requests are replayed)"
)

_Grant = Connection | None
"""What a waiter receives: an idle connection, or None meaning "a slot is yours, connect"."""


class Pool:
    """Keep-alive connections to one origin; `request` is the hot path."""

    def __init__(
        self,
        origin: Origin,
        options: ClientOptions,
        ssl_context: ssl.SSLContext | None = None,
        *,
        server_name: str | None = None,
        proxy: Proxy | None = None,
        writes: Writes | None = None,
    ) -> None:
        self.origin = origin
        self._writes = writes or Writes()
        """Where this pool's connections hold requests until the loop's pass ends (`Writes`);
        a Client's pools share one, so one flush writes them all."""
        self._options = options
        self._ssl = ssl_context if origin.tls else None
        self._server_name = server_name or origin.host
        """SNI and the name the certificate must hold (the URL's host unless configured)."""
        self._proxy = proxy if origin.tls else None
        self._max = options.max_connections
        self._timeout = options.timeout
        self._idle: list[Connection] = []
        self._conns: set[Connection] = set()
        self._closing: set[Connection] = set()
        """Closed connections whose sockets may not be released yet; `close` waits for them."""
        self._waiters: deque[asyncio.Future[_Grant]] = deque()
        self._open = 0
        self._closed = False
        self.connections_opened = 0
        """Connections ever established; with `open_connections`, shows keep-alive reuse."""

    @property
    def open_connections(self) -> int:
        """Connections open or being opened right now (never above `max_connections`)."""
        return self._open

    @property
    def idle_connections(self) -> int:
        """Open connections waiting for a request."""
        return len(self._idle)

    def template(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes | None = None,
        idempotent: bool = False,
        keep_body: bool = True,
    ) -> RequestTemplate:
        """A `RequestTemplate` with this origin's Host header filled in."""
        return RequestTemplate(
            method,
            path,
            host=self.origin.host_header,
            headers=headers or (),
            body=body,
            idempotent=idempotent,
            keep_body=keep_body,
        )

    async def request(
        self, template: RequestTemplate, wire: bytes | None = None, timeout: float | None = None
    ) -> Response:
        """Send `wire` (default: the template's static bytes) and return the complete response.

        Raises only `HttpError` for network faults. Redirects are returned, never followed. A
        request is sent at most once unless it may be replayed: one never written, or a
        `template.replayable` one whose reused connection closed before any response byte, is
        retried once on a new connection (see docs/http.md).
        """
        if wire is None:
            wire = template.wire
        deadline = now() + (self._timeout if timeout is None else timeout)
        idle = self._idle
        if idle:
            conn = idle.pop()
            conn.idle = False
        else:
            conn = await self._acquire(deadline, fresh=False)
        try:
            return await conn.send(wire, template.head, deadline, template.keep_body)
        except StaleConnectionError as exc:
            if not (template.replayable or isinstance(exc, UnsentError)):
                raise HttpError(
                    exc.kind, _NOT_REPLAYED % template.method, exc.completed_at
                ) from None
        except asyncio.CancelledError:
            conn.abandon()  # the response may still come; this socket is out of sync now
            raise
        conn = await self._acquire(deadline, fresh=True)
        try:
            return await conn.send(wire, template.head, deadline, template.keep_body)
        except asyncio.CancelledError:
            conn.abandon()
            raise

    async def preconnect(self, count: int) -> int:
        """Open up to `count` connections (within `max_connections`) and park them idle, so the
        first requests find them open; returns how many opened. Nothing is sent on them. A
        connection that cannot open is left to the requests, which report what they meet."""
        want = min(count, self._max - self._open)
        if want <= 0 or self._closed:
            return 0
        self._open += want
        deadline = now() + self._options.connect_timeout
        results = await asyncio.gather(
            *(self._connect(deadline) for _ in range(want)), return_exceptions=True
        )
        opened = 0
        for conn in results:
            if isinstance(conn, Connection):
                conn.warm = True
                self.release(conn)
                opened += 1
            elif not isinstance(conn, HttpError):
                raise conn  # not a network fault: a bug, or cancellation
        return opened

    async def _acquire(self, deadline: float, fresh: bool) -> Connection:
        """Get a connection: idle (unless `fresh`), a new one if a slot is free, else wait."""
        if self._closed:
            raise HttpError(ErrorClass.REFUSED, "the client is closed", now())
        if not fresh and self._idle:
            conn = self._idle.pop()
            conn.idle = False
            return conn
        if self._open < self._max:
            self._open += 1
            return await self._connect(deadline)
        if fresh and self._idle:
            # Trade the oldest idle connection's slot for a new connection.
            oldest = self._idle.pop(0)
            oldest.idle = False
            self._retire(oldest)
            return await self._connect(deadline)
        grant = await self._wait(deadline)
        if grant is None:
            return await self._connect(deadline)
        if fresh:
            self._retire(grant)
            return await self._connect(deadline)
        return grant

    def _retire(self, conn: Connection) -> None:
        """Close `conn` but keep its slot for the caller, who opens a new connection in it."""
        conn.close(notify=False)
        self._conns.discard(conn)
        self._closing.add(conn)

    async def _wait(self, deadline: float) -> _Grant:
        """Queue for the next freed slot; bounded by the request deadline."""
        waiter: asyncio.Future[_Grant] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                return await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self._give_back(waiter.result())  # granted, but we are leaving: pass it on
            else:
                waiter.cancel()
            if isinstance(exc, TimeoutError):
                raise HttpError(ErrorClass.TIMEOUT, "no free connection in time", now()) from None
            raise

    async def _connect(self, deadline: float) -> Connection:
        """Open a connection in a slot the caller already holds; on failure free the slot.

        TCP (through the proxy's tunnel if any) and the TLS handshake are separate steps, so
        the connection can report how long each took (the timing breakdown)."""
        loop = asyncio.get_running_loop()
        conn = Connection(self, loop, self._options.max_body, self._writes)
        origin = self.origin
        started = now()
        try:
            async with asyncio.timeout_at(min(deadline, started + self._options.connect_timeout)):
                if self._proxy is None:
                    transport, _ = await loop.create_connection(
                        lambda: conn, origin.host, origin.port
                    )
                else:
                    sock = await open_tunnel(loop, self._proxy, origin.host, origin.port)
                    transport, _ = await loop.create_connection(lambda: conn, sock=sock)
                connected = now()
                handshake = 0.0
                if self._ssl is not None:
                    secure = await loop.start_tls(
                        transport, conn, self._ssl, server_hostname=self._server_name
                    )
                    if secure is None:  # the peer closed during the handshake
                        raise ConnectionResetError("closed during the TLS handshake")
                    conn.secured(secure)
                    handshake = now() - connected
                conn.opened(connected - started, handshake)
        except BaseException as exc:
            conn.closed = True  # never reached the pool; must not free the slot twice
            conn.abandon()
            self._free_slot()
            error = _connect_error(exc)
            if error is None:
                raise
            raise error from None
        self.connections_opened += 1
        self._conns.add(conn)
        if self._closed:
            conn.close()
            raise HttpError(ErrorClass.REFUSED, "the client is closed", now())
        return conn

    # --- PoolHooks ------------------------------------------------------------------------------

    def release(self, conn: Connection) -> None:
        """A connection finished a response: give it to the oldest waiter, or park it."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        conn.idle = True
        self._idle.append(conn)

    def on_closed(self, conn: Connection) -> None:
        """A connection closed (either side): forget it and pass its slot on."""
        if conn.idle:
            conn.idle = False
            self._idle.remove(conn)
        self._conns.discard(conn)
        closing = self._closing
        if len(closing) >= 64:
            closing.difference_update([c for c in closing if c.lost])
        closing.add(conn)
        self._free_slot()

    def _free_slot(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot moves to the waiter; `_open` is unchanged
                return
        self._open -= 1

    def _give_back(self, grant: _Grant) -> None:
        if grant is None:
            self._free_slot()
        elif grant.closed:
            pass  # its slot was already freed by on_closed
        else:
            self.release(grant)

    async def close(self) -> None:
        """Close every connection and wait until their sockets are closed.

        Requests still in flight fail with `reset`; requests waiting for a connection too.
        """
        self._closed = True
        for conn in list(self._conns):
            conn.fail(ErrorClass.RESET, "the client was closed")
        while self._waiters:
            self._waiters.popleft().cancel()
        for conn in list(self._closing):
            await conn.wait_closed()
        self._closing.clear()


def _connect_error(exc: BaseException) -> HttpError | None:
    """Classify a connect failure; None for exceptions that are not network faults."""
    if isinstance(exc, TimeoutError):
        return HttpError(ErrorClass.TIMEOUT, "connect timed out", now())
    if isinstance(exc, ConnectionResetError):
        return HttpError(ErrorClass.RESET, f"reset while connecting: {exc}", now())
    if isinstance(exc, ssl.SSLError):
        return HttpError(ErrorClass.TLS, f"TLS handshake failed: {exc}", now())
    if isinstance(exc, ProxyError):
        return HttpError(ErrorClass.REFUSED, str(exc), now())
    if isinstance(exc, OSError):
        return HttpError(ErrorClass.REFUSED, f"cannot connect: {exc}", now())
    return None
