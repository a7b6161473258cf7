"""A minimal keep-alive HTTP/1.1 JSON client for the shop's calls to Payments.

General-purpose clients cost milliseconds of CPU per request; this one does just what the
shop needs (JSON in, JSON out, Content-Length bodies) over asyncio streams with a small pool.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class TransportError(Exception):
    """The peer could not be reached, reset the connection, timed out or answered garbage."""


@dataclass(frozen=True)
class JsonResponse:
    status: int
    body: Any


_Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class JsonClient:
    """Keep-alive JSON client for one origin; each call is bounded by `timeout` seconds."""

    def __init__(self, base_url: str, timeout: float, max_idle: int = 32) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"unsupported URL {base_url!r}: expected http://host:port")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._idle: list[_Conn] = []
        self._max_idle = max_idle

    async def request(self, method: str, path: str, payload: Any = None) -> JsonResponse:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._exchange(method, path, payload)
        except TimeoutError as exc:
            raise TransportError(f"timed out after {self.timeout:g}s") from exc
        except (OSError, asyncio.IncompleteReadError, ValueError, RuntimeError) as exc:
            # RuntimeError: uvloop refuses writes on a transport the peer already closed
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc

    async def _exchange(self, method: str, path: str, payload: Any) -> JsonResponse:
        body = b"" if payload is None else json.dumps(payload).encode()
        head = (
            f"{method} {self.prefix}{path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        reader, writer = self._take_idle() or await self._connect()
        try:
            writer.write(head + body)
            status, length, keep_alive = await _read_head(reader)
            data = await reader.readexactly(length) if length else b""
        except BaseException:
            writer.close()
            raise
        if keep_alive and len(self._idle) < self._max_idle:
            self._idle.append((reader, writer))
        else:
            writer.close()
        return JsonResponse(status, json.loads(data) if data else None)

    def _take_idle(self) -> _Conn | None:
        """An idle keep-alive connection the peer has not closed meanwhile, if any."""
        while self._idle:
            reader, writer = self._idle.pop()
            if not writer.is_closing() and not reader.at_eof():
                return reader, writer
            writer.close()
        return None

    async def _connect(self) -> _Conn:
        return await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        while self._idle:
            _, writer = self._idle.pop()
            writer.close()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ValueError(f"malformed status line {lines[0]!r}")
    status = int(parts[1])
    length = 0
    keep_alive = parts[0] == "HTTP/1.1"
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        if key == "content-length":
            length = int(value)
        elif key == "transfer-encoding":
            raise ValueError("chunked responses are not supported")
        elif key == "connection":
            keep_alive = value.strip().lower() == "keep-alive"
    return status, length, keep_alive
