"""Upstreams and clients for the proxy tests: real sockets on 127.0.0.1, port 0.

The upstreams are asyncio Protocols so they add no noise of their own: an echo server (half-close
aware), a blaster that sends N bytes and closes, and a keep-alive HTTP server that counts what
reached it (so a test can prove that an injected error never got forwarded).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httptools

from contval.chaos.proxy import LinkSpec, Proxy

Address = tuple[str, int]


class Echo(asyncio.Protocol):
    """Echoes every byte; on the client's EOF, half-closes back once everything is echoed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)

    def eof_received(self) -> bool:
        self.transport.write_eof()
        return True


class Blast(asyncio.Protocol):
    """Sends `size` bytes as soon as a client connects, then closes."""

    def __init__(self, size: int) -> None:
        self.size = size

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(b"x" * self.size)  # type: ignore[attr-defined]
        transport.close()


@dataclass
class HttpStats:
    """What the HTTP upstream saw."""

    requests: list[str] = field(default_factory=list)


class Http(asyncio.Protocol):
    """A keep-alive HTTP/1.1 server answering 200 with the path as body."""

    def __init__(self, stats: HttpStats) -> None:
        self.stats = stats

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_message_complete(self) -> None:
        path = self.url.decode()
        self.stats.requests.append(path)
        body = path.encode()
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


@contextlib.asynccontextmanager
async def upstream(factory: Callable[[], asyncio.Protocol]) -> AsyncIterator[Address]:
    """Serve `factory` on a free loopback port."""
    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[:2]
    finally:
        server.close()


@contextlib.asynccontextmanager
async def running_proxy(target: Address, name: str = "l") -> AsyncIterator[Proxy]:
    """An in-process proxy with one link in front of `target`, all ports chosen by the kernel."""
    proxy = Proxy(("127.0.0.1", 0), [LinkSpec(name, ("127.0.0.1", 0), target)])
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()


def listen_of(proxy: Proxy, name: str = "l") -> Address:
    """Where clients connect for a link."""
    return proxy.links[name].listen


async def control(
    proxy: Proxy | Address, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    """One control request on a fresh connection; returns (status, decoded JSON or None)."""
    host, port = proxy.control if isinstance(proxy, Proxy) else proxy
    reader, writer = await asyncio.open_connection(host, port)
    payload = b"" if body is None else json.dumps(body).encode()
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    raw = await reader.read()
    writer.close()
    head, _, content = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(content) if content else None


async def add_toxic(proxy: Proxy, kind: str, link: str = "l", **fields: Any) -> dict[str, Any]:
    """POST a toxic (id defaults to its type); fails the test unless it is created."""
    body = {"id": fields.pop("id", kind), "type": kind, "lease": fields.pop("lease", 30), **fields}
    status, toxic = await control(proxy, "POST", f"/links/{link}/toxics", body)
    assert status == 201, toxic
    return toxic  # type: ignore[no-any-return]


class HttpClient:
    """A keep-alive client: one request in flight, Content-Length bodies."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, address: Address) -> HttpClient:
        reader, writer = await asyncio.open_connection(*address)
        return cls(reader, writer)

    async def get(self, path: str = "/", close: bool = False) -> tuple[int, bytes]:
        extra = "Connection: close\r\n" if close else ""
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return status, await self.reader.readexactly(length)

    async def timed_get(self, path: str = "/") -> float:
        started = time.perf_counter()
        status, _ = await self.get(path)
        assert status == 200
        return time.perf_counter() - started

    def close(self) -> None:
        self.writer.close()
