"""Keep-alive reuse, body framing, server-side closes and the one safe retry."""

from __future__ import annotations

import pytest

from contval.http import Client, ClientOptions, ErrorClass, HttpError, now
from tests.http.servers import RawServer

pytestmark = pytest.mark.anyio


async def test_sequential_requests_reuse_one_connection(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        template = pool.template("GET", "/ok")
        statuses = [(await pool.request(template)).status for _ in range(20)]
    assert statuses == [200] * 20
    assert server.stats.connections == 1
    assert pool.connections_opened == 1


async def test_response_exposes_status_headers_body_and_completion_time(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        before = now()
        response = await pool.request(pool.template("GET", "/ok"))
        after = now()
    assert (response.status, response.body) == (200, b"ok")
    assert response.headers == {"content-length": "2"}
    assert response.header("Content-Length") == "2"
    assert before <= response.completed_at <= after


async def test_chunked_body_is_reassembled_and_connection_reused(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        first = await pool.request(pool.template("GET", "/chunked"))
        second = await pool.request(pool.template("GET", "/ok"))
    assert first.body == b"hello world"
    assert first.header("transfer-encoding") == "chunked"
    assert second.body == b"ok"
    assert server.stats.connections == 1


async def test_body_delimited_by_connection_close(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        response = await pool.request(pool.template("GET", "/eof-body"))
        assert (response.status, response.body) == (200, b"until the end")
        assert not response.keep_alive
        again = await pool.request(pool.template("GET", "/ok"))
    assert again.body == b"ok"
    assert server.stats.connections == 2


async def test_connection_close_header_is_honoured(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        response = await pool.request(pool.template("GET", "/conn-close"))
        assert response.body == b"bye"
        assert pool.open_connections == 0
        assert (await pool.request(pool.template("GET", "/ok"))).body == b"ok"
    assert server.stats.connections == 2


async def test_idle_connection_closed_by_server_is_replaced(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        assert (await pool.request(pool.template("GET", "/close-after"))).body == b"ok"
        # Whether the FIN was seen while idle or only when the next request was written, the
        # caller must not notice.
        assert (await pool.request(pool.template("GET", "/ok"))).body == b"ok"
    assert server.stats.connections == 2
    assert server.stats.requests.count("/ok") == 1


@pytest.mark.parametrize("arm", ["/arm-drop", "/arm-rst"])
@pytest.mark.parametrize(
    ("method", "headers", "idempotent"),
    [
        ("GET", {}, False),
        ("HEAD", {}, False),
        ("OPTIONS", {}, False),
        ("TRACE", {}, False),
        ("POST", {}, True),
        ("DELETE", {}, True),
        ("POST", {"Idempotency-Key": "k-1"}, False),
        ("PATCH", {"x-idempotency-key": "k-2"}, False),
    ],
)
async def test_replayable_request_on_a_stale_connection_is_retried_once(
    server: RawServer, arm: str, method: str, headers: dict[str, str], idempotent: bool
) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        await pool.request(pool.template("GET", arm))
        template = pool.template(method, "/echo", headers=headers, idempotent=idempotent)
        assert template.replayable
        response = await pool.request(template)
    assert response.status == 201
    assert server.stats.requests == [arm, "/echo", "/echo"]
    assert server.stats.connections == 2


@pytest.mark.parametrize("arm", ["/arm-drop", "/arm-rst"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "CONNECT", "PURGE"])
async def test_non_idempotent_request_on_a_stale_connection_is_a_reset_never_replayed(
    server: RawServer, arm: str, method: str
) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        await pool.request(pool.template("GET", arm))
        template = pool.template(method, "/echo", body=b"order-1")
        assert not template.replayable
        with pytest.raises(HttpError) as caught:
            await pool.request(template)
        after = await pool.request(pool.template("GET", "/ok"))
    assert caught.value.kind is ErrorClass.RESET
    assert "not replayed" in str(caught.value)
    assert server.stats.requests == [arm, "/echo", "/ok"]  # the order reached the server once
    assert after.body == b"ok"


async def test_request_never_written_is_retried_whatever_its_method(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        await pool.request(pool.template("GET", "/ok"))
        (conn,) = pool._idle
        # The peer's FIN is being handled (the transport is closing) as the request is due:
        # nothing can be written, so even a POST may go on a new connection.
        conn._transport.close()  # type: ignore[union-attr]
        response = await pool.request(pool.template("POST", "/echo", body=b"once"))
    assert (response.status, response.body) == (201, b"POST once")
    assert server.stats.requests == ["/ok", "/echo"]


async def test_retry_happens_at_most_once(server: RawServer) -> None:
    async with Client(ClientOptions(max_connections=1)) as client:
        pool = client.pool(server.url)
        await pool.request(pool.template("GET", "/arm-drop"))
        # The retry's fresh connection is reset too: that failure is reported, not retried.
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("GET", "/reset"))
    assert caught.value.kind is ErrorClass.RESET
    assert server.stats.requests == ["/arm-drop", "/reset", "/reset"]


async def test_fresh_connection_closed_before_any_byte_is_not_retried(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("GET", "/reset"))
    assert caught.value.kind is ErrorClass.RESET
    assert server.stats.requests == ["/reset"]


async def test_reused_connection_closed_mid_response_is_not_retried(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        await pool.request(pool.template("GET", "/ok"))
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("GET", "/partial"))
    assert caught.value.kind is ErrorClass.RESET
    assert server.stats.requests == ["/ok", "/partial"]


async def test_head_response_has_no_body_and_keeps_the_connection(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        head = await pool.request(pool.template("HEAD", "/head"))
        after = await pool.request(pool.template("GET", "/ok"))
    assert (head.status, head.body, head.header("x-kind")) == (200, b"", "head")
    assert after.body == b"ok"
    assert server.stats.connections == 1


async def test_interim_1xx_response_is_skipped(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        response = await pool.request(pool.template("GET", "/early-hints"))
    assert (response.status, response.body) == (200, b"ok")
    assert "link" not in response.headers


async def test_several_interim_responses_in_a_row_are_skipped(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        response = await pool.request(pool.template("POST", "/interim-run", body=b"x"))
        after = await pool.request(pool.template("GET", "/ok"))
    assert (response.status, response.body, response.raw_headers) == (
        200,
        b"ok",
        [(b"Content-Length", b"2")],
    )
    assert after.body == b"ok"
    assert server.stats.connections == 1


async def test_interim_responses_before_a_head_response_are_skipped(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        head = await pool.request(pool.template("HEAD", "/interim-head"))
        after = await pool.request(pool.template("GET", "/ok"))
    assert (head.status, head.body, head.header("x-kind"), head.header("link")) == (
        200,
        b"",
        "head",
        None,
    )
    assert after.body == b"ok"
    assert server.stats.connections == 1


async def test_an_endless_run_of_interim_responses_is_malformed(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("GET", "/interim-storm"))
    assert caught.value.kind is ErrorClass.MALFORMED
    assert "1xx" in str(caught.value)


async def test_repeated_set_cookie_headers_are_kept_apart(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        response = await pool.request(pool.template("GET", "/cookies"))
    assert response.header_values("Set-Cookie") == [
        "a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
        "b=2; Path=/",
    ]
    assert response.header("set-cookie") == "a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT"
    assert response.header("x-many") == "x, y"
    assert response.header_values("x-many") == ["x", "y"]
    assert response.header_values("absent") == []


async def test_a_head_over_the_limit_is_malformed(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("GET", "/huge-head"))
    assert caught.value.kind is ErrorClass.MALFORMED
    assert "head" in str(caught.value)


async def test_endless_trailers_are_bounded(server: RawServer) -> None:
    async with Client(ClientOptions(max_body=1000)) as client:
        pool = client.pool(server.url)
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("GET", "/endless-trailers"))
    assert caught.value.kind is ErrorClass.MALFORMED
    assert "framing" in str(caught.value)


async def test_a_body_nobody_reads_is_counted_not_stored(server: RawServer) -> None:
    async with Client(ClientOptions(max_body=1000)) as client:
        pool = client.pool(server.url)
        dropped = await pool.request(pool.template("GET", "/big/1000", keep_body=False))
        kept = await pool.request(pool.template("GET", "/big/1000"))
        with pytest.raises(HttpError) as caught:  # still bounded: an endless body ends
            await pool.request(pool.template("GET", "/big/1001", keep_body=False))
    assert (dropped.status, dropped.body) == (200, b"")
    assert kept.body == b"x" * 1000
    assert caught.value.kind is ErrorClass.MALFORMED
    assert server.stats.connections == 1  # the dropped body was read off the socket: reused


async def test_redirect_is_returned_not_followed(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        response = await pool.request(pool.template("GET", "/redirect"))
    assert (response.status, response.header("location")) == (302, "/ok")
    assert server.stats.requests == ["/redirect"]


async def test_dynamic_parts_are_joined_per_request(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        template = pool.template("POST", "/echo", headers={"Content-Type": "text/plain"})
        bodies = [
            (await pool.request(template, template.encode(body=b"n=%d" % i))).body for i in range(3)
        ]
        empty = await pool.request(template)
    assert bodies == [b"POST n=0", b"POST n=1", b"POST n=2"]
    assert empty.body == b"POST "


async def test_closing_connections_hand_their_slot_to_waiters(server: RawServer) -> None:
    import anyio

    seen: list[int] = []
    async with Client(ClientOptions(max_connections=2)) as client:
        pool = client.pool(server.url)
        template = pool.template("GET", "/conn-close")

        async def one() -> None:
            body = (await pool.request(template)).body
            seen.append(pool.open_connections if body == b"bye" else -1)

        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(one)
    assert len(seen) == 20
    assert max(seen) <= 2
    assert min(seen) >= 0
    assert server.stats.connections == 20


async def test_pool_limit_holds_under_concurrency(server: RawServer) -> None:
    import anyio

    limit, total = 3, 12
    server.inflight_target = limit
    results: list[int] = []
    async with Client(ClientOptions(max_connections=limit)) as client:
        pool = client.pool(server.url)
        template = pool.template("GET", "/slow")

        async def one() -> None:
            results.append((await pool.request(template)).status)

        async with anyio.create_task_group() as group:
            for _ in range(total):
                group.start_soon(one)
            await server.inflight_reached.wait()
            assert pool.open_connections == limit
            server.gate.set()
    assert results == [200] * total
    assert server.stats.connections == limit
    assert server.stats.max_active == limit
