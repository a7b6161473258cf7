"""A realistic peer: uvicorn + starlette, in the test's own event loop."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from contval.http import Client, ClientOptions

pytestmark = pytest.mark.anyio


async def _hello(request: Request) -> Response:
    port = request.client.port if request.client else 0
    return PlainTextResponse(str(port))  # the client's port identifies the connection


async def _stream(request: Request) -> Response:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(3):
            yield b"part%d;" % i

    return StreamingResponse(parts(), media_type="text/plain")


async def _echo(request: Request) -> Response:
    return JSONResponse({"got": (await request.json())["n"]}, status_code=201)


APP = Starlette(
    routes=[
        Route("/hello", _hello),
        Route("/stream", _stream),
        Route("/echo", _echo, methods=["POST"]),
    ]
)


@pytest.fixture
async def uvicorn_url() -> AsyncIterator[str]:
    # proto must say TCP, or asyncio skips TCP_NODELAY on accepted sockets (40 ms Nagle stalls).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections queue in the kernel until uvicorn accepts: no start-up race
    config = uvicorn.Config(APP, log_level="warning", lifespan="off", loop="none")
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        with contextlib.suppress(OSError):
            sock.close()


async def test_keep_alive_reuse_against_uvicorn(uvicorn_url: str) -> None:
    async with Client() as client:
        pool = client.pool(uvicorn_url)
        template = pool.template("GET", "/hello")
        ports = {(await pool.request(template)).body for _ in range(50)}
    assert len(ports) == 1
    assert pool.connections_opened == 1


async def test_streaming_and_json_against_uvicorn(uvicorn_url: str) -> None:
    async with Client() as client:
        pool = client.pool(uvicorn_url)
        streamed = await pool.request(pool.template("GET", "/stream"))
        template = pool.template("POST", "/echo", headers={"Content-Type": "application/json"})
        echoed = await pool.request(template, template.encode(body=b'{"n": 7}'))
    assert streamed.header("transfer-encoding") == "chunked"
    assert streamed.body == b"part0;part1;part2;"
    assert (echoed.status, echoed.body) == (201, b'{"got":7}')


async def test_concurrency_against_uvicorn_respects_the_pool(uvicorn_url: str) -> None:
    async with Client(ClientOptions(max_connections=4)) as client:
        pool = client.pool(uvicorn_url)
        template = pool.template("GET", "/hello")
        responses = await asyncio.gather(*(pool.request(template) for _ in range(200)))
    assert {r.status for r in responses} == {200}
    assert 1 <= len({r.body for r in responses}) <= 4
    assert pool.connections_opened <= 4
