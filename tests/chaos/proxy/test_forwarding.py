"""Clean relaying with no toxic: bytes identical both ways, backpressure, half-close."""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.chaos.proxy.peers import (
    Blast,
    Echo,
    Http,
    HttpClient,
    HttpStats,
    control,
    listen_of,
    running_proxy,
    upstream,
)

pytestmark = pytest.mark.anyio


async def test_bytes_identical_both_ways_with_half_close() -> None:
    payload = os.urandom(3 * 1024 * 1024)
    async with upstream(Echo) as up, running_proxy(up) as proxy:
        reader, writer = await asyncio.open_connection(*listen_of(proxy))

        async def send() -> None:
            for i in range(0, len(payload), 65536):
                writer.write(payload[i : i + 65536])
                await writer.drain()
            writer.write_eof()  # half-close: the echo answers EOF only after echoing everything

        sender = asyncio.create_task(send())
        echoed = await reader.read()  # until the EOF that travelled client → echo → client
        await sender
        writer.close()
    assert echoed == payload


async def test_large_download_with_a_slow_reader_is_complete() -> None:
    size = 8 * 1024 * 1024
    async with upstream(lambda: Blast(size)) as up, running_proxy(up) as proxy:
        reader, writer = await asyncio.open_connection(*listen_of(proxy))
        await asyncio.sleep(0.2)  # let the proxy's buffers fill: backpressure must hold the rest
        link = proxy.links["l"]
        conn = next(iter(link.connections))
        held = conn.client.get_write_buffer_size()
        received = len(await reader.read())
        writer.close()
    assert received == size
    assert held < 1024 * 1024  # the proxy paused the upstream instead of buffering 8 MiB


async def test_keep_alive_requests_and_link_counters() -> None:
    stats = HttpStats()
    async with upstream(lambda: Http(stats)) as up, running_proxy(up) as proxy:
        client = await HttpClient.connect(listen_of(proxy))
        answers = [await client.get(f"/r{i}") for i in range(50)]
        status, links = await control(proxy, "GET", "/links")
        client.close()
    assert answers == [(200, f"/r{i}".encode()) for i in range(50)]
    assert stats.requests == [f"/r{i}" for i in range(50)]
    assert status == 200
    assert links["links"]["l"]["connections"] == 1
    assert links["links"]["l"]["active"] == 1
    assert links["links"]["l"]["toxics"] == []


async def test_dead_upstream_resets_the_client() -> None:
    async with upstream(Echo) as up:
        dead = up
    async with running_proxy(dead) as proxy:
        reader, writer = await asyncio.open_connection(*listen_of(proxy))
        writer.write(b"hello")
        with pytest.raises(ConnectionResetError):
            await reader.read()
        writer.close()
