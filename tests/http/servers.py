"""Small local HTTP peers for the client tests: each misbehaves on purpose, on request.

A raw asyncio server whose behaviour is chosen by the request path lets every test provoke one
exact fault (reset, garbage, hang, stale keep-alive...) while counting connections server-side.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

CANNED: dict[str, tuple[bytes, bool]] = {
    # path: (bytes to send, keep the connection open afterwards)
    "/ok": (OK, True),
    "/coded": (
        b"HTTP/1.1 200 OK\r\ncontent-ENCODING: identity\r\nContent-Length: 2\r\n\r\nok",
        True,
    ),
    "/arm-drop": (OK, True),  # ...and silently drop the next request on this connection
    "/arm-rst": (OK, True),  # ...and reset the connection on the next request
    "/chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n",
        True,
    ),
    "/eof-body": (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", False),
    "/conn-close": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbye",
        False,
    ),
    "/close-after": (OK, False),  # keep-alive by the headers, but we hang up right after
    "/partial": (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", False),
    "/garbage": (b"HTPT/1.1 2x0 what\r\n\r\n", True),
    "/bad-header": (b"HTTP/1.1 200 OK\r\nBad Header\r\nContent-Length: 0\r\n\r\n", True),
    "/trailing-garbage": (OK + b"NOT HTTP AT ALL\r\n\r\n", True),
    "/redirect": (b"HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\n\r\n", True),
    "/head": (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Kind: head\r\n\r\n", True),
    "/early-hints": (b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n" + OK, True),
    "/interim-run": (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </b.js>\r\n\r\n"
        b"HTTP/1.1 102 Processing\r\n\r\n" + OK,
        True,
    ),
    "/interim-head": (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Kind: head\r\n\r\n",
        True,
    ),
    "/interim-storm": (b"HTTP/1.1 100 Continue\r\n\r\n" * 40 + OK, True),
    "/cookies": (
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT\r\n"
        b"Set-Cookie: b=2; Path=/\r\nX-Many: x\r\nX-Many: y\r\nContent-Length: 2\r\n\r\nok",
        True,
    ),
    "/odd-cookie": (
        b"HTTP/1.1 200 OK\r\nsET-cOOKIE: c=3\r\nX-Note: no set-cookie here\r\n"
        b"Content-Length: 2\r\n\r\nok",
        True,
    ),
    "/says-cookie": (
        b"HTTP/1.1 200 OK\r\nX-Note: set-cookie and content-encoding are words\r\n"
        b"Content-Length: 2\r\n\r\nok",
        True,
    ),
    "/controls": (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 96\r\n\r\n"
        b'{"crlf": "a\\r\\nHost: evil", "nul": "a\\u0000b", "esc": "\\u001b[31m", "ok": "x",'
        b' "snow": "\\u2603"}',
        True,
    ),
    "/huge-head": (b"HTTP/1.1 200 OK\r\nX-Big: " + b"h" * (2 * 1024 * 1024) + b"\r\n\r\n", True),
    "/endless-trailers": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n2\r\nok\r\n0\r\n"
        + b"".join(b"X-T%d: %s\r\n" % (i, b"t" * 1000) for i in range(3000))
        + b"\r\n",
        True,
    ),
}


@dataclass
class Stats:
    """What the server saw; tests assert on these rather than on timing."""

    connections: int = 0
    active: int = 0
    max_active: int = 0
    requests: list[str] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    heads: list[bytes] = field(default_factory=list)
    inflight: int = 0


class RawServer:
    """An HTTP/1.1 server on 127.0.0.1:0 whose response depends on the request path."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.stats = Stats()
        self.gate = asyncio.Event()
        """`/slow` requests wait for this."""
        self.inflight_reached = asyncio.Event()
        self.inflight_target = 0
        self._tls = tls
        self._server: asyncio.Server | None = None
        self._stop = asyncio.Event()
        self._writers: set[asyncio.StreamWriter] = set()
        self._all_closed = asyncio.Event()
        self._all_closed.set()

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._tls)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        stats = self.stats
        stats.connections += 1
        stats.active += 1
        stats.max_active = max(stats.max_active, stats.active)
        self._all_closed.clear()
        self._writers.add(writer)
        try:
            await self._requests(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()  # the socket is closed once this returns
            stats.active -= 1
            if stats.active == 0:
                self._all_closed.set()

    async def all_closed(self) -> None:
        """Wait until every server-side socket is closed (for descriptor counting)."""
        await self._all_closed.wait()

    async def _requests(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        drop_next = reset_next = False
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            length = _content_length(head)
            body = await reader.readexactly(length) if length else b""
            self.stats.requests.append(path)
            self.stats.bodies.append(body)
            self.stats.heads.append(head)
            if drop_next:
                return  # the request reached us, yet we close without a byte: a stale socket
            if reset_next:
                _linger_zero(writer)
                return
            drop_next, reset_next = path == "/arm-drop", path == "/arm-rst"
            if not await self._respond(method, path, body, writer):
                return
            await writer.drain()

    async def _respond(
        self, method: str, path: str, body: bytes, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False means close the connection afterwards."""
        canned = CANNED.get(path)
        if canned is not None:
            writer.write(canned[0])
            return canned[1]
        if path == "/echo":
            payload = method.encode() + b" " + body
            writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n" % len(payload))
            writer.write(payload)
        elif path.startswith("/big/"):
            size = int(path.removeprefix("/big/"))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
            writer.write(b"x" * size)
        elif path == "/reset":
            _linger_zero(writer)
            return False
        elif path == "/slow":
            await self._slow(writer)
        elif path == "/hang":
            await self._stop.wait()
            return False
        else:
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return True

    async def _slow(self, writer: asyncio.StreamWriter) -> None:
        self.stats.inflight += 1
        if self.stats.inflight >= self.inflight_target:
            self.inflight_reached.set()
        await self.gate.wait()
        self.stats.inflight -= 1
        writer.write(OK)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def _linger_zero(writer: asyncio.StreamWriter) -> None:
    """Make the close send RST instead of FIN (SO_LINGER with a zero timeout)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def free_port() -> int:
    """A loopback port with nothing listening (bound, then released, never listened on)."""
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class SelfSigned:
    """A self-signed certificate for 127.0.0.1, made with the openssl CLI (no `cryptography`)."""

    cert: Path
    key: Path

    @classmethod
    def create(cls, directory: Path) -> SelfSigned:
        cert, key = directory / "cert.pem", directory / "key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return cls(cert, key)

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context
