"""The response head is kept as bytes and parsed again only when a header is read.

The connection defines no httptools `on_header` (its per-header callback was the costliest part
of a status-only request), so these check what replaces it: the head's bytes, however the reads
split them, give exactly the headers one parse of the whole response gives; `set_cookie` and
`coded` are never false where such a header came, whatever its case.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contval.http import Client
from contval.http.connection import Connection
from contval.http.response import Response, parse_head
from tests.http.servers import RawServer

pytestmark = pytest.mark.anyio


async def test_a_set_cookie_name_in_any_case_is_noted_and_read(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        response = await pool.request(pool.template("GET", "/odd-cookie"))
    assert response.set_cookie is True
    assert response.header_values("set-cookie") == ["c=3"]
    assert response.raw_headers == [
        (b"sET-cOOKIE", b"c=3"),
        (b"X-Note", b"no set-cookie here"),
        (b"Content-Length", b"2"),
    ]


async def test_the_names_in_a_header_value_only_say_where_to_look(server: RawServer) -> None:
    async with Client() as client:
        pool = client.pool(server.url)
        response = await pool.request(pool.template("GET", "/says-cookie"))
    assert (response.set_cookie, response.coded) == (True, True)  # looked for, not found:
    assert response.header_values("set-cookie") == []
    assert response.header("content-encoding") is None
    assert response.body == b"ok"


def test_parse_head_skips_1xx_heads_and_stops_at_the_body() -> None:
    head = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n5\r\n"
    )
    assert parse_head(head) == [b"Transfer-Encoding", b"chunked", b"X-A", b"1"]


class _Loop:
    """Enough of an event loop for a connection fed by hand: futures and a timer."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def create_future(self) -> asyncio.Future[Any]:
        return self._loop.create_future()

    def call_at(self, when: float, callback: Any) -> asyncio.TimerHandle:
        return self._loop.call_at(when, callback)

    def call_soon(self, callback: Any) -> asyncio.Handle:
        return self._loop.call_soon(callback)


class _Transport:
    def __init__(self) -> None:
        self.closing = False

    def write(self, data: bytes) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True


class _Pool:
    def release(self, conn: Connection) -> None:
        pass

    def on_closed(self, conn: Connection) -> None:
        pass


RESPONSES = [
    b"HTTP/1.1 200 OK\r\nServer: x\r\nSet-Cookie: a=1\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
    b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\nSet-Cookie: no=1\r\n\r\n"
    b"HTTP/1.1 201 Created\r\nx-one: 1\r\nX-Two: 2\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nSET-COOKIE: b=2\r\n\r\nset",
]


def _whole(raw: bytes) -> tuple[int, list[bytes], bytes]:
    """The response as one parse of all its bytes reads it (the reference)."""
    final = raw[raw.rindex(b"HTTP/1.1 ") :]
    head, _, _ = final.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers: list[bytes] = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers += [name, value.strip()]
    return int(lines[0].split()[1]), headers, b""


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(0, len(RESPONSES) - 1),
    cuts=st.lists(st.integers(1, 200), max_size=6),
)
def test_a_head_split_across_reads_reads_as_one(index: int, cuts: list[int]) -> None:
    raw = RESPONSES[index]
    points = sorted({c for c in cuts if c < len(raw)})
    pieces = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]

    async def feed() -> Response:
        loop = asyncio.get_running_loop()
        conn = Connection(_Pool(), _Loop(loop), 1 << 20)  # type: ignore[arg-type]
        conn.connection_made(_Transport())  # type: ignore[arg-type]
        waiter = conn.send(b"GET / HTTP/1.1\r\n\r\n", False, loop.time() + 60)
        await asyncio.sleep(0)  # the request is written at the end of the loop's pass
        for piece in pieces:
            conn.data_received(piece)
        return await waiter

    response = asyncio.run(feed())
    status, headers, _ = _whole(raw)
    assert response.status == status
    assert response._raw == headers
    names = [n.lower() for n in headers[::2]]
    assert response.set_cookie >= (b"set-cookie" in names)
    assert response.coded >= (b"content-encoding" in names)
    assert response.bytes_received == len(raw)
