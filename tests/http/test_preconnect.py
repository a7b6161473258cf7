"""`Pool.preconnect`: connections opened before they are needed, parked idle, nothing sent.

A worker opens the connections its schedule's first arrivals need just before the load
(`contval.engine.warmup`); here the pool's side: the limit, a target that refuses, and a warm
connection's first request, which meets the race a reused connection meets.
"""

from __future__ import annotations

import asyncio

import pytest

from contval.http import Client, ClientOptions, ErrorClass, HttpError
from tests.http.servers import RawServer, free_port

pytestmark = pytest.mark.anyio


async def test_connections_open_idle_and_carry_the_first_requests(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        assert await pool.preconnect(4) == 4
        assert (pool.open_connections, pool.idle_connections) == (4, 4)
        assert server.stats.requests == []
        responses = await asyncio.gather(
            *(pool.request(pool.template("GET", "/ok")) for _ in range(4))
        )
        assert [r.body for r in responses] == [b"ok"] * 4
        assert pool.connections_opened == 4  # the requests opened none of their own
    assert server.stats.connections == 4
    assert server.stats.requests == ["/ok"] * 4


async def test_the_pool_limit_holds(server: RawServer) -> None:
    async with Client(ClientOptions(max_connections=3)) as client:
        pool = client.pool(server.url)
        await pool.request(pool.template("GET", "/ok"))
        assert await pool.preconnect(10) == 2  # one is open already
        assert (pool.open_connections, pool.idle_connections) == (3, 3)
        assert await pool.preconnect(1) == 0
    assert server.stats.connections == 3


async def test_a_target_that_refuses_is_left_to_the_requests() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with Client() as client:
        pool = client.pool(url)
        assert await pool.preconnect(3) == 0
        assert (pool.open_connections, pool.idle_connections) == (0, 0)  # slots freed
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("GET", "/ok"))
    assert caught.value.kind is ErrorClass.REFUSED


async def test_a_warm_connection_closed_under_a_get_is_replayed_once(server: RawServer) -> None:
    # Like a reused connection: the server may have closed it as idle, so an idempotent
    # request goes once more on a new connection (whose reset is then reported).
    async with Client() as client:
        pool = client.pool(server.url)
        assert await pool.preconnect(1) == 1
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("GET", "/reset"))
    assert caught.value.kind is ErrorClass.RESET
    assert server.stats.requests == ["/reset", "/reset"]


async def test_a_warm_connection_closed_under_a_post_is_never_replayed(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        assert await pool.preconnect(1) == 1
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("POST", "/reset", body=b"order-1"))
    assert caught.value.kind is ErrorClass.RESET
    assert "not replayed" in str(caught.value)
    assert server.stats.requests == ["/reset"]  # the order reached the server once
