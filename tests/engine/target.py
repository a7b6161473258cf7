"""A small, fast HTTP target in a background thread, for runs of the real `contval run`.

The response depends on the path, so one suite can provoke each error class; the server counts
what it saw, so tests assert on server-side numbers as well as on contval's results.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

OK_BODY = b'{"ok": true}'


def response(status: int, body: bytes, reason: bytes = b"OK") -> bytes:
    return b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        status,
        reason,
        len(body),
        body,
    )


OK = response(200, OK_BODY)
CANNED = {
    "/ok": OK,
    "/bad-json": response(200, b'{"ok": false}'),
    "/error": response(500, b'{"error": "boom"}', b"Internal Server Error"),
    "/garbage": b"HTPT/1.1 2x0 what\r\n\r\n",
}


@dataclass
class Behaviour:
    """Knobs a test sets before the run."""

    delay: float = 0.0  # for /slow
    stall_after: int | None = None  # /stall: after this many requests, hold answers...
    stall_for: float = 1.0  # ...for this long
    stall_started: float | None = None


@dataclass
class Seen:
    paths: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    first: dict[str, float] = field(default_factory=dict)  # path -> wall time of its first
    connections_at_first: int | None = None  # connections accepted when the first request came

    @property
    def requests(self) -> int:
        return sum(self.paths.values())


class _Handler(asyncio.Protocol):
    def __init__(self, target: Target) -> None:
        self.target = target
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.target.seen.connections += 1
        self.target.transports.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.target.transports.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            path = head.split(" ", 2)[1].split("?", 1)[0]
            seen = self.target.seen
            if seen.connections_at_first is None:
                seen.connections_at_first = seen.connections
            if path not in seen.first:
                seen.first[path] = time.time()
            seen.paths[path] += 1
            self.respond(path)

    def respond(self, path: str) -> None:
        transport = self.transport
        assert transport is not None
        canned = CANNED.get(path)
        if canned is not None:
            transport.write(canned)
        elif path == "/slow":
            asyncio.get_running_loop().call_later(self.target.behaviour.delay, self._late, OK)
        elif path == "/stall":
            self._stall()
        elif path == "/reset":
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        elif path == "/hang":
            pass
        else:
            transport.write(response(404, b'{"error": "not found"}', b"Not Found"))

    def _late(self, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(payload)

    def _stall(self) -> None:
        b = self.target.behaviour
        count = self.target.seen.paths["/stall"]
        now = time.monotonic()
        if b.stall_after is not None and count >= b.stall_after and b.stall_started is None:
            b.stall_started = now
        if b.stall_started is not None and now < b.stall_started + b.stall_for:
            delay = b.stall_started + b.stall_for - now
            asyncio.get_running_loop().call_later(delay, self._late, OK)
        else:
            self.transport.write(OK)  # type: ignore[union-attr]


class Target:
    """Run the server on 127.0.0.1:0 in its own thread and event loop."""

    def __init__(self) -> None:
        self.behaviour = Behaviour()
        self.seen = Seen()
        self.transports: set[asyncio.Transport] = set()
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Target:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._open(), self.loop)
        future.result(10)
        return self

    async def _open(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        self._server = await self.loop.create_server(
            lambda: _Handler(self), sock=sock, backlog=1024
        )
        self.port = sock.getsockname()[1]

    def shut_down(self) -> None:
        """Stop listening and drop every connection: new requests are refused."""

        async def close() -> None:
            assert self._server is not None
            self._server.close()
            for transport in list(self.transports):
                transport.abort()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)

    def stop(self) -> None:
        if self._server is not None and self._server.is_serving():
            self.shut_down()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
