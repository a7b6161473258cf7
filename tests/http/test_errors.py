"""Every network fault surfaces as an `HttpError` with the right class, and nothing else escapes."""

from __future__ import annotations

import asyncio

import pytest

from contval.http import Client, ClientOptions, ErrorClass, HttpError, now
from contval.http.pool import Pool
from tests.http.servers import RawServer, free_port

pytestmark = pytest.mark.anyio


async def _fail(pool: Pool, path: str) -> HttpError:
    with pytest.raises(HttpError) as caught:
        await pool.request(pool.template("GET", path))
    return caught.value


async def test_refused_when_nothing_listens() -> None:
    async with Client() as client:
        pool = client.pool(f"http://127.0.0.1:{free_port()}")
        error = await _fail(pool, "/")
        assert error.kind is ErrorClass.REFUSED
        assert pool.open_connections == 0


async def test_reset_when_server_sends_rst(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        error = await _fail(pool, "/reset")
        assert error.kind is ErrorClass.RESET
        assert (await pool.request(pool.template("GET", "/ok"))).status == 200


async def test_timeout_when_server_never_answers(server: RawServer) -> None:
    async with Client(ClientOptions(timeout=0.2)) as client:
        pool = client.pool(server.url)
        started = now()
        error = await _fail(pool, "/hang")
        elapsed = error.completed_at - started
        assert error.kind is ErrorClass.TIMEOUT
        assert 0.19 <= elapsed < 1.0
        assert pool.open_connections == 0  # a timed-out socket is never reused


async def test_per_request_timeout_overrides_the_default(server: RawServer) -> None:
    async with Client(ClientOptions(timeout=30)) as client:
        pool = client.pool(server.url)
        await pool.request(pool.template("GET", "/ok"))  # arms the lazy timer at +30 s
        started = now()
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("GET", "/hang"), timeout=0.1)
    assert caught.value.kind is ErrorClass.TIMEOUT
    assert caught.value.completed_at - started < 1.0


async def test_timeout_counts_from_each_request_not_the_first(server: RawServer) -> None:
    async with Client(ClientOptions(timeout=0.3)) as client:
        pool = client.pool(server.url)
        await pool.request(pool.template("GET", "/ok"))  # arms the connection's timer at +0.3 s
        await pool.request(pool.template("GET", "/ok"))
        started = now()
        error = await _fail(pool, "/hang")  # reuses the connection: the timer must re-arm
    assert error.kind is ErrorClass.TIMEOUT
    assert 0.29 <= error.completed_at - started < 1.0
    assert server.stats.connections == 1


async def test_connect_timeout_when_tls_handshake_never_completes(server: RawServer) -> None:
    options = ClientOptions(connect_timeout=0.2, verify=False)
    async with Client(options) as client:
        # The plain server waits for an HTTP request forever; a TLS ClientHello is not one.
        pool = client.pool(f"https://127.0.0.1:{server.port}")
        started = now()
        error = await _fail(pool, "/")
    assert error.kind is ErrorClass.TIMEOUT
    assert error.completed_at - started < 1.0


@pytest.mark.parametrize("path", ["/garbage", "/bad-header"])
async def test_malformed_response(server: RawServer, path: str) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        error = await _fail(pool, path)
        assert error.kind is ErrorClass.MALFORMED
        assert pool.open_connections == 0


async def test_trailing_garbage_keeps_the_response_but_not_the_connection(
    server: RawServer,
) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        response = await pool.request(pool.template("GET", "/trailing-garbage"))
        assert response.body == b"ok"
        assert pool.open_connections == 0


async def test_large_body_within_limit_is_kept(server: RawServer) -> None:
    size = 3 * 1024 * 1024
    async with Client() as client:
        pool = client.pool(server.url)
        response = await pool.request(pool.template("GET", f"/big/{size}"))
        small = await pool.request(pool.template("GET", "/ok"))
    assert len(response.body) == size
    assert response.body == b"x" * size
    assert small.body == b"ok"
    assert server.stats.connections == 1


async def test_body_over_the_limit_is_malformed(server: RawServer) -> None:
    async with Client(ClientOptions(max_body=1000)) as client:
        pool = client.pool(server.url)
        assert len((await pool.request(pool.template("GET", "/big/1000"))).body) == 1000
        error = await _fail(pool, "/big/1001")
        assert error.kind is ErrorClass.MALFORMED
        assert "exceeds 1000 bytes" in str(error)
        assert (await pool.request(pool.template("GET", "/ok"))).body == b"ok"


async def test_waiting_for_a_full_pool_times_out(server: RawServer) -> None:
    server.inflight_target = 1
    async with Client(ClientOptions(max_connections=1)) as client:
        pool = client.pool(server.url)
        blocker = asyncio.ensure_future(pool.request(pool.template("GET", "/slow")))
        await server.inflight_reached.wait()
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("GET", "/ok"), timeout=0.1)
        server.gate.set()
        assert (await blocker).status == 200
    assert caught.value.kind is ErrorClass.TIMEOUT
    assert server.stats.connections == 1


async def test_cancelled_request_drops_its_connection(server: RawServer) -> None:
    server.inflight_target = 1
    async with Client() as client:
        pool = client.pool(server.url)
        task = asyncio.ensure_future(pool.request(pool.template("GET", "/slow")))
        await server.inflight_reached.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool.open_connections == 0
        assert (await pool.request(pool.template("GET", "/ok"))).body == b"ok"


async def test_closing_the_client_fails_requests_in_flight(server: RawServer) -> None:
    server.inflight_target = 1
    client = Client()
    pool = client.pool(server.url)
    task = asyncio.ensure_future(pool.request(pool.template("GET", "/slow")))
    await server.inflight_reached.wait()
    await client.close()
    with pytest.raises(HttpError) as caught:
        await task
    assert caught.value.kind is ErrorClass.RESET
    assert pool.open_connections == 0
