"""A tiny CONNECT proxy on loopback: the HTTPS tunnel that `HTTPS_PROXY` points at in tests.

It resolves names from its own table (`shop.test` → 127.0.0.1), so a test can prove the client
reached the target *through* the tunnel: the client itself cannot resolve that name.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping


class ConnectProxy:
    """Answers `CONNECT host:port` with 200 and pipes bytes both ways; records every tunnel."""

    def __init__(
        self, hosts: Mapping[str, str] | None = None, authorization: str | None = None
    ) -> None:
        self.hosts = dict(hosts or {})
        self.authorization = authorization
        """When set, a CONNECT without this `Proxy-Authorization` value gets 407."""
        self.tunnels: list[str] = []
        """Each CONNECT authority asked for, in order (refused ones too)."""
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._done = asyncio.Event()
        self._done.set()
        self.url = ""

    async def __aenter__(self) -> ConnectProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()  # both pipes of its tunnel end
        await self._done.wait()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self._done.clear()
        try:
            await self._tunnel(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()
            if not self._writers:
                self._done.set()

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        method, authority, _ = head.split("\r\n", 1)[0].split(" ", 2)
        self.tunnels.append(authority)
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head.split("\r\n")[1:] if line)
        }
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        if self.authorization and headers.get("proxy-authorization") != self.authorization:
            writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        host, _, port = authority.rpartition(":")
        host = self.hosts.get(host, host)
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        self._writers.add(up_writer)
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._writers.discard(up_writer)
            up_writer.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError, RuntimeError):
        writer.write_eof()
