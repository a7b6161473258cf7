"""Requests held until the event loop's pass ends, then written together (`contval.http.writes`).

A held request has not been written: whatever ends its connection before the flush (the peer's
FIN, bytes that cannot be its answer) makes it an `UnsentError`, which the pool sends again on a
new connection whatever the method, and the server sees it once.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import pytest

from contval.http import Client, ErrorClass, HttpError, now
from contval.http.connection import Connection
from tests.http.servers import RawServer

pytestmark = pytest.mark.anyio


class _Recording:
    """The connection's real transport, with each write noted (bytes and clock reading)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.writes: list[tuple[bytes, float]] = []

    def write(self, data: bytes) -> None:
        self.writes.append((data, now()))
        self._inner.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


async def _idle_connections(server: RawServer, client: Client, count: int) -> list[Connection]:
    pool = client.pool(server.url)
    template = pool.template("GET", "/ok")
    await asyncio.gather(*(pool.request(template) for _ in range(count)))
    assert len(pool._idle) == count
    return list(pool._idle)


async def test_requests_sent_in_one_pass_are_written_when_the_pass_ends(server: RawServer) -> None:
    async with Client() as client:
        conns = await _idle_connections(server, client, 2)
        recorders = []
        for conn in conns:
            recorders.append(_Recording(conn._transport))
            conn._transport = recorders[-1]  # type: ignore[assignment]
        before = now()
        waiters = [
            conn.send(
                f"GET /ok HTTP/1.1\r\nHost: x\r\nX-N: {n}\r\n\r\n".encode(), False, before + 10
            )
            for n, conn in enumerate(conns)
        ]
        assert [r.writes for r in recorders] == [[], []]  # held: nothing written yet
        responses = await asyncio.gather(*waiters)
    assert [[data for data, _ in r.writes] for r in recorders] == [
        [b"GET /ok HTTP/1.1\r\nHost: x\r\nX-N: 0\r\n\r\n"],
        [b"GET /ok HTTP/1.1\r\nHost: x\r\nX-N: 1\r\n\r\n"],
    ]
    assert [response.status for response in responses] == [200, 200]
    # The breakdown's "sent" time is when the write returned, not when `send` held it.
    for response, recorder in zip(responses, recorders, strict=True):
        assert recorder.writes[0][1] <= response.sent_at <= response.first_byte_at


async def test_a_post_whose_connection_ends_before_its_write_is_sent_once_elsewhere(
    server: RawServer,
) -> None:
    async with Client() as client:
        (conn,) = await _idle_connections(server, client, 1)
        pool = client.pool(server.url)
        task = asyncio.ensure_future(pool.request(pool.template("POST", "/echo", body=b"once")))
        await asyncio.sleep(0)  # the task sends (holds) its request; the flush comes after us
        assert not conn.closed
        conn.eof_received()  # the peer's FIN, handled before the flush
        response = await task
    assert (response.status, response.body) == (201, b"POST once")
    assert conn.closed
    assert server.stats.requests == ["/ok", "/echo"]  # the order reached the server once
    assert server.stats.connections == 2


async def test_bytes_before_the_write_are_not_taken_for_the_answer(server: RawServer) -> None:
    async with Client() as client:
        (conn,) = await _idle_connections(server, client, 1)
        pool = client.pool(server.url)
        task = asyncio.ensure_future(pool.request(pool.template("POST", "/echo", body=b"once")))
        await asyncio.sleep(0)
        # A server's parting "408" on an idle connection, read before our request went out.
        conn.data_received(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
        response = await task
    assert (response.status, response.body) == (201, b"POST once")
    assert conn.closed
    assert server.stats.requests == ["/ok", "/echo"]


async def test_a_tls_alert_before_the_write_fails_the_request_without_a_retry(
    server: RawServer,
) -> None:
    """A TLS 1.3 server judges the client's certificate after the handshake: its alert may end
    the connection while the first request is still held. Another connection would be refused
    the same way, so the request fails as TLS and is not sent again."""
    async with Client() as client:
        (conn,) = await _idle_connections(server, client, 1)
        pool = client.pool(server.url)
        task = asyncio.ensure_future(pool.request(pool.template("GET", "/ok")))
        await asyncio.sleep(0)  # held; the flush comes after us
        conn._transport.close()  # type: ignore[union-attr]  # closing: the flush leaves it held
        conn.connection_lost(ssl.SSLError(1, "[SSL: CERTIFICATE_REQUIRED] certificate required"))
        with pytest.raises(HttpError) as caught:
            await task
    assert caught.value.kind is ErrorClass.TLS
    assert "certificate required" in str(caught.value)
    assert server.stats.requests == ["/ok"]
    assert server.stats.connections == 1
