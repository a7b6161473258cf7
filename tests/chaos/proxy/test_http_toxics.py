"""HTTP-aware toxics: injected errors answered locally on a consistent keep-alive connection,
and delayed requests."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.chaos.proxy.peers import (
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


async def test_http_error_answers_every_request_without_forwarding() -> None:
    stats = HttpStats()
    async with upstream(lambda: Http(stats)) as up, running_proxy(up) as proxy:
        client = await HttpClient.connect(listen_of(proxy))
        assert await client.get("/before") == (200, b"/before")
        await add_toxic(proxy, "http-error", params={"status": 503})
        answers = [await client.get(f"/x{i}") for i in range(20)]  # same keep-alive connection
        _, links = await control(proxy, "GET", "/links")
        await control(proxy, "DELETE", "/toxics")
        after = await client.get("/after")
        client.close()
    assert {status for status, _ in answers} == {503}
    assert json.loads(answers[0][1]) == {"error": "injected by contval"}
    assert stats.requests == ["/before", "/after"]
    assert after == (200, b"/after")
    assert links["links"]["l"]["toxics"][0]["hits"] == 20


async def test_http_error_fraction_hits_about_that_share_of_requests() -> None:
    stats = HttpStats()
    async with upstream(lambda: Http(stats)) as up, running_proxy(up) as proxy:
        client = await HttpClient.connect(listen_of(proxy))
        await add_toxic(proxy, "http-error", params={"status": 500}, fraction=0.3)
        answers = [await client.get(f"/r{i}") for i in range(200)]
        _, links = await control(proxy, "GET", "/links")
        client.close()
    errors = [path for path, (status, _) in enumerate(answers) if status == 500]
    assert 35 <= len(errors) <= 85
    assert links["links"]["l"]["toxics"][0]["hits"] == len(errors)
    assert len(stats.requests) == 200 - len(errors)  # the others reached the upstream
    assert all(body == f"/r{i}".encode() for i, (s, body) in enumerate(answers) if s == 200)


async def test_http_error_honours_connection_close() -> None:
    async with upstream(lambda: Http(HttpStats())) as up, running_proxy(up) as proxy:
        client = await HttpClient.connect(listen_of(proxy))
        await add_toxic(proxy, "http-error", params={"status": 502})
        assert (await client.get("/bye", close=True))[0] == 502
        assert await client.reader.read() == b""  # then the proxy closes, as announced
        client.close()


async def test_http_delay_delays_the_affected_requests() -> None:
    stats = HttpStats()
    async with upstream(lambda: Http(stats)) as up, running_proxy(up) as proxy:
        client = await HttpClient.connect(listen_of(proxy))
        await add_toxic(proxy, "http-delay", params={"delay": 0.1})
        timings = [await client.timed_get(f"/d{i}") for i in range(5)]
        _, links = await control(proxy, "GET", "/links")
        client.close()
    assert all(0.1 <= t < 0.2 for t in timings), timings
    assert stats.requests == [f"/d{i}" for i in range(5)]
    assert links["links"]["l"]["toxics"][0]["hits"] == 5


async def test_non_http_traffic_is_relayed_untouched() -> None:
    payload = b"\x00\x01binary protocol\r\n\r\n"
    async with upstream(Echo) as up, running_proxy(up) as proxy:
        await add_toxic(proxy, "http-error", params={"status": 503})
        reader, writer = await asyncio.open_connection(*listen_of(proxy))
        writer.write(payload)
        assert await reader.readexactly(len(payload)) == payload
        writer.close()


async def test_http_toxic_added_mid_request_spares_it_and_hits_the_next() -> None:
    # Clean links are not parsed: an HTTP toxic added while a request is half sent must neither
    # garble that request nor miss the next one on the same keep-alive connection.
    stats = HttpStats()
    async with upstream(lambda: Http(stats)) as up, running_proxy(up) as proxy:
        client = await HttpClient.connect(listen_of(proxy))
        assert await client.get("/warm") == (200, b"/warm")
        client.writer.write(b"POST /half HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
        await client.writer.drain()
        await asyncio.sleep(0.05)
        await add_toxic(proxy, "http-error", params={"status": 503})
        client.writer.write(b"56789")
        head = await client.reader.readuntil(b"\r\n\r\n")
        body = await client.reader.readexactly(len(b"/half"))
        next_status, _ = await client.get("/next")
        client.close()
    assert head.startswith(b"HTTP/1.1 200") and body == b"/half"
    assert next_status == 503
    assert stats.requests == ["/warm", "/half"]


async def test_http_toxic_removed_stops_parsing_at_the_next_request() -> None:
    stats = HttpStats()
    async with upstream(lambda: Http(stats)) as up, running_proxy(up) as proxy:
        client = await HttpClient.connect(listen_of(proxy))
        await add_toxic(proxy, "http-delay", params={"delay": 0.01})
        assert await client.get("/slow") == (200, b"/slow")
        (conn,) = proxy.links["l"].connections
        assert conn.tap is not None
        await control(proxy, "DELETE", "/toxics")
        assert await client.get("/a") == (200, b"/a")
        assert conn.tap is None  # the clean path again: relayed without parsing
        await add_toxic(proxy, "http-error", params={"status": 500})
        assert (await client.get("/b"))[0] == 500
        client.close()
    assert stats.requests == ["/slow", "/a"]
