"""Connection-level toxics against real traffic: latency, jitter, bandwidth, reset, refuse,
blackhole, slicer, and the toxicity fraction."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.chaos.proxy.peers import (
    Blast,
    Echo,
    Http,
    HttpClient,
    HttpStats,
    add_toxic,
    control,
    listen_of,
    running_proxy,
    upstream,
)

pytestmark = pytest.mark.anyio


async def test_latency_adds_the_delay_to_each_response() -> None:
    async with upstream(lambda: Http(HttpStats())) as up, running_proxy(up) as proxy:
        client = await HttpClient.connect(listen_of(proxy))
        toxic = await add_toxic(proxy, "latency", params={"delay": 0.08})
        timings = [await client.timed_get() for _ in range(5)]
        _, links = await control(proxy, "GET", "/links")
        client.close()
    assert toxic["params"] == {"delay": 0.08, "jitter": 0.0}
    assert all(0.08 <= t < 0.18 for t in timings), timings
    assert links["links"]["l"]["toxics"][0]["hits"] == 1  # one connection affected


async def test_upstream_latency_delays_requests_and_jitter_stays_in_bounds() -> None:
    async with upstream(lambda: Http(HttpStats())) as up, running_proxy(up) as proxy:
        client = await HttpClient.connect(listen_of(proxy))
        params = {"delay": 0.05, "jitter": 0.03}
        await add_toxic(proxy, "latency", params=params, direction="both")
        timings = [await client.timed_get() for _ in range(20)]
        client.close()
    # Each request and each response waits delay ± jitter: the round trip is in [0.04, 0.16].
    assert all(0.04 <= t < 0.16 + 0.1 for t in timings), timings
    assert max(timings) - min(timings) > 0.01  # the jitter is real, not a constant


async def test_bandwidth_limits_throughput() -> None:
    size, rate = 600_000, 1_000_000.0
    async with upstream(lambda: Blast(size)) as up, running_proxy(up) as proxy:
        await add_toxic(proxy, "bandwidth", params={"rate": rate})
        started = time.perf_counter()
        reader, writer = await asyncio.open_connection(*listen_of(proxy))
        received = len(await reader.read())
        elapsed = time.perf_counter() - started
        writer.close()
    assert received == size
    assert 0.75 <= (size / elapsed) / rate <= 1.25, size / elapsed


async def test_reset_resets_existing_and_new_connections() -> None:
    async with upstream(Echo) as up, running_proxy(up) as proxy:
        reader, writer = await asyncio.open_connection(*listen_of(proxy))
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"
        await add_toxic(proxy, "reset")
        with pytest.raises(ConnectionResetError):
            await reader.read()
        writer.close()
        reader, writer = await asyncio.open_connection(*listen_of(proxy))
        with pytest.raises(ConnectionResetError):
            await reader.read()
        writer.close()
        _, links = await control(proxy, "GET", "/links")
    assert links["links"]["l"]["toxics"][0]["hits"] == 2


async def test_refuse_closes_the_port_and_removal_reopens_it() -> None:
    async with upstream(Echo) as up, running_proxy(up) as proxy:
        address = listen_of(proxy)
        reader, writer = await asyncio.open_connection(*address)
        await add_toxic(proxy, "refuse")
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(*address)
        writer.write(b"still flowing")  # existing connections keep working
        assert await reader.readexactly(13) == b"still flowing"
        status, _ = await control(proxy, "DELETE", "/links/l/toxics/refuse")
        assert status == 204
        reader2, writer2 = await asyncio.open_connection(*address)
        writer2.write(b"back")
        assert await reader2.readexactly(4) == b"back"
        writer.close()
        writer2.close()


async def test_blackhole_swallows_data_until_removed() -> None:
    async with upstream(Echo) as up, running_proxy(up) as proxy:
        reader, writer = await asyncio.open_connection(*listen_of(proxy))
        await add_toxic(proxy, "blackhole")
        writer.write(b"lost")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(reader.read(1), 0.3)  # the client times out
        await control(proxy, "DELETE", "/toxics")
        writer.write(b"heard")
        assert await reader.readexactly(5) == b"heard"
        writer.close()


async def test_slicer_delivers_many_small_reads() -> None:
    size = 2048
    async with upstream(lambda: Blast(size)) as up, running_proxy(up) as proxy:
        await add_toxic(proxy, "slicer", params={"size": 100, "delay": 0.005})
        sock_reader, writer = await asyncio.open_connection(*listen_of(proxy))
        reads: list[int] = []
        while chunk := await sock_reader.read(65536):
            reads.append(len(chunk))
        writer.close()
    assert sum(reads) == size
    assert max(reads) <= 200  # at most two slices coalesced by the reader
    assert len(reads) >= 12


async def test_fraction_applies_per_connection() -> None:
    async with upstream(Echo) as up, running_proxy(up) as proxy:
        await add_toxic(proxy, "reset", fraction=0.5)
        outcomes = []
        for _ in range(200):
            reader, writer = await asyncio.open_connection(*listen_of(proxy))
            writer.write(b"x")
            try:
                outcomes.append(await reader.readexactly(1) == b"x")
            except (ConnectionResetError, asyncio.IncompleteReadError):
                outcomes.append(False)
            writer.close()
        _, links = await control(proxy, "GET", "/links")
    hits = links["links"]["l"]["toxics"][0]["hits"]
    assert outcomes.count(False) == hits
    assert 60 <= hits <= 140


async def test_removing_latency_releases_held_bytes_at_once() -> None:
    async with upstream(Echo) as up, running_proxy(up) as proxy:
        reader, writer = await asyncio.open_connection(*listen_of(proxy))
        await add_toxic(proxy, "latency", params={"delay": 10.0})
        writer.write(b"held")
        await asyncio.sleep(0.05)  # give the echo time to answer into the proxy's queue
        started = time.perf_counter()
        await control(proxy, "DELETE", "/links/l/toxics/latency")
        assert await reader.readexactly(4) == b"held"
        writer.close()
    assert time.perf_counter() - started < 0.5
