"""Long runs must not leak: connections stay within the pool, file descriptors stay flat."""

from __future__ import annotations

import os

import pytest

from contval.http import Client, ClientOptions
from tests.http.servers import RawServer

pytestmark = pytest.mark.anyio


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_many_sequential_requests_use_one_connection(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        template = pool.template("GET", "/ok")
        await pool.request(template)
        fds = _open_fds()
        for _ in range(2000):
            assert (await pool.request(template)).status == 200
        assert _open_fds() == fds
        assert (pool.open_connections, pool.idle_connections) == (1, 1)
    assert server.stats.connections == 1


async def test_closing_connections_do_not_leak_descriptors(server: RawServer) -> None:
    fds = _open_fds()
    async with Client(ClientOptions(max_connections=2)) as client:
        pool = client.pool(server.url)
        closing = pool.template("GET", "/conn-close")
        for _ in range(300):
            assert (await pool.request(closing)).body == b"bye"
            assert pool.open_connections == 0
    await server.all_closed()
    assert server.stats.connections == 300
    assert _open_fds() == fds


async def test_client_close_releases_every_descriptor(server: RawServer) -> None:
    fds = _open_fds()
    client = Client(ClientOptions(max_connections=4))
    pool = client.pool(server.url)
    for _ in range(10):
        await pool.request(pool.template("GET", "/ok"))
    await client.close()
    await server.all_closed()
    assert pool.open_connections == 0
    assert _open_fds() == fds
