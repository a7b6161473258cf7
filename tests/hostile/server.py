"""A real HTTP server on 127.0.0.1:0 that misbehaves in every way a load client must survive.

Each route is one hostile behaviour (malformed status lines and headers, bad chunking, endless
bodies, gzip bombs, stalls, slowloris, resets, 1xx storms, deep JSON, control bytes...) together
with the error class a step `GET /<route>` with `check: {status: 200, json: {"$.v": {exists:
true}}}` and a short timeout must record for it (None: the step succeeds). The server runs on its
own event loop in a thread, so the client under test (in-process or a `contval run` subprocess)
never shares a loop with it.

`/orders` is the keep-alive race of issue 10: every `drop_nth` request on a connection is read,
recorded, and answered by closing the connection without a byte.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import struct
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from contval.metrics import ErrorClass

OK_BODY = b'{"v": 1}'
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n" + OK_BODY

Action = Callable[["Conn"], Awaitable[bool]]
"""Serve one request on a connection; True keeps the connection for the next request."""


@dataclass
class Conn:
    """One accepted connection and the request being answered."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    method: str = ""
    path: str = ""
    body: bytes = b""
    served: int = 0


async def _write(conn: Conn, data: bytes) -> None:
    conn.writer.write(data)
    await conn.writer.drain()


async def _until_closed(conn: Conn) -> None:
    """Stall: hold the connection, sending nothing, until the client gives up and closes."""
    while await conn.reader.read(65536):
        pass


def _rst(conn: Conn) -> None:
    """Close with RST (SO_LINGER 0) instead of FIN."""
    sock = conn.writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.writer.transport.abort()


def send(data: bytes, keep: bool = True) -> Action:
    """Answer with `data` as it is; close (FIN) afterwards unless `keep`."""

    async def action(conn: Conn) -> bool:
        await _write(conn, data)
        return keep

    return action


def then_stall(data: bytes) -> Action:
    async def action(conn: Conn) -> bool:
        await _write(conn, data)
        await _until_closed(conn)
        return False

    return action


def then_rst(data: bytes) -> Action:
    async def action(conn: Conn) -> bool:
        if data:
            await _write(conn, data)
            await asyncio.sleep(0.01)  # let the bytes reach the client before the RST
        _rst(conn)
        return False

    return action


def drip(data: bytes, every: float) -> Action:
    """Slowloris: one byte every `every` seconds, forever (`data` repeats)."""

    async def action(conn: Conn) -> bool:
        i = 0
        while not conn.writer.is_closing():
            await _write(conn, data[i % len(data) : i % len(data) + 1])
            i += 1
            await asyncio.sleep(every)
        return False

    return action


def endless(head: bytes, piece: bytes, every: float = 0.0) -> Action:
    """`head`, then `piece` over and over until the client hangs up."""

    async def action(conn: Conn) -> bool:
        await _write(conn, head)
        while True:
            await _write(conn, piece)
            if every:
                await asyncio.sleep(every)

    return action


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


GZIP_BOMB = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
"""64 MiB of zeros in ~64 KiB: a step that reads the body inflates it only up to the decoded
size bound (10 MiB), then counts `body_too_large`."""

_STATUS_OK = b"HTTP/1.1 200 OK\r\n"
_J = b"Content-Type: application/json\r\n"


def _json(body: bytes) -> bytes:
    return _STATUS_OK + _J + b"Content-Length: %d\r\n\r\n" % len(body) + body


ROUTES: dict[str, tuple[Action, ErrorClass | None]] = {
    "ok": (send(OK), None),
    # --- malformed status lines -------------------------------------------------------------
    "status-garbage": (send(b"HTPT/1.1 200 OK\r\n\r\n"), ErrorClass.MALFORMED),
    "status-letters": (send(b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n"), ErrorClass.MALFORMED),
    "status-overflow": (
        send(b"HTTP/1.1 20000000000 OK\r\nContent-Length: 0\r\n\r\n"),
        ErrorClass.MALFORMED,
    ),
    "status-999": (send(b"HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n"), ErrorClass.HTTP_STATUS),
    "no-status-line": (send(b'{"v": 1} and no status line\n', keep=False), ErrorClass.MALFORMED),
    "status-line-endless": (endless(b"HTTP/1.1 200 ", b"O" * 65536), ErrorClass.MALFORMED),
    "redirect": (
        send(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/x\r\nContent-Length: 0\r\n\r\n"),
        ErrorClass.OFF_TARGET,  # followed only to declared targets: refused, nothing sent
    ),
    # --- malformed headers -------------------------------------------------------------------
    "header-no-colon": (send(_STATUS_OK + b"No Colon Here\r\n\r\n"), ErrorClass.MALFORMED),
    "header-nul": (
        send(_STATUS_OK + b"X-A: a\x00b\r\nContent-Length: 8\r\n\r\n" + OK_BODY),
        ErrorClass.MALFORMED,
    ),
    "header-ansi": (
        send(_STATUS_OK + b"X-A: \x1b[2J\x1b[31mred\r\nContent-Length: 8\r\n\r\n" + OK_BODY),
        ErrorClass.MALFORMED,
    ),
    "header-script": (
        send(_STATUS_OK + b"X-A: <script>alert(1)</script>\r\nContent-Length: 8\r\n\r\n" + OK_BODY),
        None,
    ),
    "header-huge": (
        send(_STATUS_OK + b"X-Big: " + b"h" * (2 * 1024 * 1024) + b"\r\n\r\n"),
        ErrorClass.MALFORMED,
    ),
    "header-endless": (endless(_STATUS_OK, b"X-More: yes\r\n" * 4096), ErrorClass.MALFORMED),
    "set-cookie-many": (
        send(
            _STATUS_OK
            + b"".join(b"Set-Cookie: c%d=%d\r\n" % (i, i) for i in range(2000))
            + b"Content-Length: 8\r\n\r\n"
            + OK_BODY
        ),
        None,
    ),
    "cl-conflict": (
        send(_STATUS_OK + b"Content-Length: 8\r\nContent-Length: 9\r\n\r\n" + OK_BODY + b" "),
        ErrorClass.MALFORMED,
    ),
    "cl-negative": (
        send(_STATUS_OK + b"Content-Length: -8\r\n\r\n" + OK_BODY),
        ErrorClass.MALFORMED,
    ),
    "cl-and-chunked": (
        send(
            _STATUS_OK
            + b"Content-Length: 8\r\nTransfer-Encoding: chunked\r\n\r\n"
            + _chunk(OK_BODY)
            + b"0\r\n\r\n"
        ),
        ErrorClass.MALFORMED,
    ),
    "cl-short-fin": (
        send(_STATUS_OK + b"Content-Length: 100\r\n\r\n" + OK_BODY, keep=False),
        ErrorClass.RESET,
    ),
    "cl-huge-stall": (
        then_stall(_STATUS_OK + b"Content-Length: 999999999999\r\n\r\n" + OK_BODY),
        ErrorClass.TIMEOUT,
    ),
    # --- bad chunking ------------------------------------------------------------------------
    "chunk-bad-size": (
        send(_STATUS_OK + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
        ErrorClass.MALFORMED,
    ),
    "chunk-size-overflow": (
        send(_STATUS_OK + b"Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nx\r\n"),
        ErrorClass.MALFORMED,
    ),
    "chunk-no-end-fin": (
        send(_STATUS_OK + b"Transfer-Encoding: chunked\r\n\r\n" + _chunk(OK_BODY), keep=False),
        ErrorClass.RESET,
    ),
    "chunk-endless": (
        endless(_STATUS_OK + b"Transfer-Encoding: chunked\r\n\r\n", _chunk(b"x" * 65536)),
        ErrorClass.MALFORMED,
    ),
    "chunk-extension-endless": (
        endless(_STATUS_OK + b"Transfer-Encoding: chunked\r\n\r\n1;ext=", b"e" * 65536),
        ErrorClass.MALFORMED,
    ),
    "trailers-endless": (
        endless(
            _STATUS_OK + b"Transfer-Encoding: chunked\r\n\r\n" + _chunk(OK_BODY) + b"0\r\n",
            b"X-Trailer: t\r\n" * 4096,
        ),
        ErrorClass.MALFORMED,
    ),
    # --- endless bodies and bombs ------------------------------------------------------------
    "body-endless-cl": (
        endless(_STATUS_OK + b"Content-Length: 999999999999\r\n\r\n", b"x" * 65536),
        ErrorClass.MALFORMED,
    ),
    "body-endless-eof": (
        endless(_STATUS_OK + b"Connection: close\r\n\r\n", b"x" * 65536),
        ErrorClass.MALFORMED,
    ),
    "gzip-bomb": (
        send(
            _STATUS_OK
            + _J
            + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(GZIP_BOMB)
            + GZIP_BOMB
        ),
        ErrorClass.BODY_TOO_LARGE,  # inflated only up to the 10 MiB bound, then refused
    ),
    "gzip-endless": (
        endless(_STATUS_OK + b"Content-Encoding: gzip\r\nConnection: close\r\n\r\n", GZIP_BOMB),
        ErrorClass.MALFORMED,
    ),
    # --- stalls and slowloris ----------------------------------------------------------------
    "stall-before-status": (then_stall(b""), ErrorClass.TIMEOUT),
    "stall-mid-status": (then_stall(b"HTTP/1.1 20"), ErrorClass.TIMEOUT),
    "stall-mid-headers": (then_stall(_STATUS_OK + b"Content-Le"), ErrorClass.TIMEOUT),
    "stall-mid-body": (
        then_stall(_STATUS_OK + b"Content-Length: 8\r\n\r\n" + OK_BODY[:3]),
        ErrorClass.TIMEOUT,
    ),
    "slowloris-headers": (drip(_STATUS_OK + b"X-Slow: " + b"s" * 1000, 0.02), ErrorClass.TIMEOUT),
    "slowloris-body": (
        drip(_STATUS_OK + b"Content-Length: 100000\r\n\r\n" + b"b" * 1000, 0.02),
        ErrorClass.TIMEOUT,
    ),
    # --- resets ------------------------------------------------------------------------------
    "rst-before-response": (then_rst(b""), ErrorClass.RESET),
    "rst-mid-headers": (then_rst(_STATUS_OK + b"X-A: 1\r\n"), ErrorClass.RESET),
    "rst-mid-body": (
        then_rst(_STATUS_OK + b"Content-Length: 8\r\n\r\n" + OK_BODY[:4]),
        ErrorClass.RESET,
    ),
    "fin-before-response": (send(b"", keep=False), ErrorClass.RESET),
    # --- 1xx ---------------------------------------------------------------------------------
    "1xx-then-ok": (
        send(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" + OK),
        None,
    ),
    "1xx-storm": (send(b"HTTP/1.1 100 Continue\r\n\r\n" * 1000 + OK), ErrorClass.MALFORMED),
    "1xx-endless": (
        endless(b"", b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", every=0.001),
        ErrorClass.MALFORMED,
    ),
    "101-upgrade": (
        send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"),
        ErrorClass.MALFORMED,
    ),
    # --- bodies that break parsers and terminals ---------------------------------------------
    "json-deep-array": (send(_json(b"[" * 100_000)), ErrorClass.CHECK_ERROR),
    "json-deep-object": (send(_json(b'{"v":' * 100_000)), ErrorClass.CHECK_ERROR),
    "json-deep-valid": (
        send(_json(b'{"v": ' + b"[" * 50_000 + b"]" * 50_000 + b"}")),
        ErrorClass.CHECK_ERROR,
    ),
    "json-huge-int": (send(_json(b'{"v": ' + b"9" * 100_000 + b"}")), ErrorClass.CHECK_ERROR),
    "json-huge-float": (send(_json(b'{"v": 1e999999}')), None),
    "json-nan": (send(_json(b'{"v": NaN}')), None),
    "body-invalid-utf8": (send(_json(b'{"v": "\xff\xfe\xc3"}')), ErrorClass.CHECK_FAILED),
    "body-nul": (send(_json(b'{"v": 1}\x00\x00\x00')), ErrorClass.CHECK_FAILED),
    "body-script": (send(_json(b"<script>alert(1)</script>")), ErrorClass.CHECK_FAILED),
    "body-ansi": (send(_json(b"\x1b[2J\x1b[31m\x1b]0;pwned\x07red")), ErrorClass.CHECK_FAILED),
    "body-trailing-garbage": (send(OK + b"\x1b[31mNOT HTTP<script>\r\n\r\n"), None),
}
"""route → (behaviour, the class a `GET /<route>` with a JSON `exists` check must record)."""


class HostileServer:
    """The routes above on a loopback port, served from a thread with its own event loop."""

    def __init__(self, drop_nth: int = 3) -> None:
        self.drop_nth = drop_nth
        self.orders: Counter[str] = Counter()
        """Order ids received by `/orders`, with how many times each arrived."""
        self.dropped = 0
        """`/orders` requests read and then answered by closing the connection."""
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._lock = threading.Lock()

    def start(self) -> HostileServer:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        self._server = future.result(10)
        return self

    async def _start(self) -> asyncio.Server:
        return await asyncio.start_server(self._serve, "127.0.0.1", 0, limit=1 << 20)

    def stop(self) -> None:
        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def twice(self) -> list[str]:
        """Order ids that arrived more than once."""
        with self._lock:
            return [order for order, n in self.orders.items() if n > 1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = Conn(reader, writer)
        try:
            while await self._one(conn):
                conn.served += 1
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            if not writer.transport.is_closing():
                writer.close()  # FIN
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _one(self, conn: Conn) -> bool:
        head = await conn.reader.readuntil(b"\r\n\r\n")
        line, _, rest = head.partition(b"\r\n")
        method, target, _ = line.decode("latin-1").split(" ", 2)
        length = 0
        for header in rest.split(b"\r\n"):
            name, _, value = header.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        conn.method, conn.path = method, target.split("?", 1)[0]
        conn.body = await conn.reader.readexactly(length) if length else b""
        if conn.path == "/orders":
            return await self._order(conn, target)
        route = ROUTES.get(conn.path.lstrip("/"))
        if route is None:
            await _write(conn, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            return True
        return await route[0](conn)

    async def _order(self, conn: Conn, target: str) -> bool:
        """Record the order id (body, or `?id=`); drop every `drop_nth` request of a connection."""
        order = conn.body.decode() if conn.body else target.partition("id=")[2]
        with self._lock:
            self.orders[order] += 1
            drop = self.drop_nth > 0 and (conn.served + 1) % self.drop_nth == 0
            if drop:
                self.dropped += 1
        if drop:
            return False  # read, then closed without a byte: the keep-alive race
        await _write(conn, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
        return True
