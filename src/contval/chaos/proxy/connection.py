"""One relayed TCP connection: two protocols, two pipes, and the toxics that apply to it.

Protocol callbacks (not streams) keep the clean path to one write per chunk (plus a version
check and a flag): requests are parsed only while the link carries an HTTP-aware toxic.
Which connection-level toxics apply is decided once per connection and toxic (the toxicity
fraction) and cached until the link's toxic set changes (`Link.version`).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from typing import TYPE_CHECKING

from contval.chaos.proxy import httptap
from contval.chaos.proxy.pipe import CONNECTING, DEST_FULL, GONE, Pipe, clock
from contval.chaos.proxy.shaping import shape
from contval.chaos.proxy.toxics import BLACKHOLE, HTTP_AWARE, HTTP_ERROR, SHAPERS, Toxic

if TYPE_CHECKING:
    from contval.chaos.proxy.link import Link

_LINGER_RST = struct.pack("ii", 1, 0)


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    """Small writes go out at once: the proxy must not add Nagle delays of its own."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def reset(transport: asyncio.BaseTransport) -> None:
    """Close with RST (SO_LINGER 0) so the peer sees ECONNRESET, not a polite FIN."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    transport.abort()  # type: ignore[attr-defined]


def affected(toxic: Toxic) -> bool:
    """Roll the toxicity dice once; count a hit when it lands."""
    hit = toxic.fraction >= 1.0 or random.random() < toxic.fraction
    if hit:
        toxic.hits += 1
    return hit


class Connection:
    """A client connection and its upstream twin, relaying through two pipes."""

    def __init__(self, link: Link, client: asyncio.Transport) -> None:
        self.link = link
        self.loop = asyncio.get_running_loop()
        self.client = client
        self.upstream: asyncio.Transport | None = None
        self.up = Pipe(self.loop, self._pipe_ended)  # client → upstream (requests)
        self.down = Pipe(self.loop, self._pipe_ended)  # upstream → client (responses)
        self.up.src = self.down.dest = client
        self.closed = False
        self.connecting: asyncio.Task[None] | None = None
        self.version = -1
        self.decided: dict[int, bool] = {}
        self.up_shape: list[Toxic] = []
        self.down_shape: list[Toxic] = []
        self.http: list[Toxic] = []
        self.black = False
        self.up_direct: asyncio.Transport | None = None
        self.down_direct = False
        # Parsed only while an HTTP toxic is on the link; started at a request boundary.
        self.tap: httptap.RequestTap | None = None
        self.boundary = True  # the next client chunk begins a request (nothing sent, or answered)
        self.opaque = False  # not HTTP/1.x (or upgraded): never parsed again
        set_nodelay(client)
        self.up.pause(CONNECTING)

    async def connect(self) -> None:
        """Open the upstream side; a dead upstream resets the client as a direct connect would."""
        host, port = self.link.upstream
        try:
            await self.loop.create_connection(lambda: UpstreamSide(self), host, port)
        except OSError:
            if not self.closed:
                self.abort()

    def upstream_made(self, transport: asyncio.Transport) -> None:
        """The upstream answered: start reading the client."""
        if self.closed:
            transport.close()
            return
        set_nodelay(transport)
        self.upstream = self.down.src = transport
        self.up.connected(transport)
        self._set_direct()
        self.up.resume(CONNECTING)

    def _refresh(self) -> None:
        """Recompute which toxics apply here after the link's toxic set changed."""
        self.version = self.link.version
        up: list[Toxic] = []
        down: list[Toxic] = []
        http: list[Toxic] = []
        black = False
        for toxic in self.link.toxics.values():
            if toxic.type in HTTP_AWARE:
                http.append(toxic)
                continue
            if toxic.type != BLACKHOLE and toxic.type not in SHAPERS:
                continue  # reset / refuse act on the link, at add time and on arrival
            decision = self.decided.get(toxic.serial)
            if decision is None:
                decision = self.decided[toxic.serial] = affected(toxic)
            if not decision:
                continue
            if toxic.type == BLACKHOLE:
                black = True
                continue
            if toxic.upstream:
                up.append(toxic)
            if toxic.downstream:
                down.append(toxic)
        self.up_shape, self.down_shape, self.http, self.black = up, down, http, black
        self._set_direct()

    def _set_direct(self) -> None:
        """Cache whether a direction may skip the pipe (no shaping, no blackhole)."""
        clean = not self.black
        self.up_direct = self.upstream if clean and not self.up_shape else None
        self.down_direct = clean and not self.down_shape

    def _decide_request(self) -> httptap.Decision:
        """Per-request toxicity for http-error / http-delay (first one that lands wins)."""
        if self.version != self.link.version:
            self._refresh()
        for toxic in self.http:
            if affected(toxic):
                if toxic.type == HTTP_ERROR:
                    return httptap.ERROR, toxic.params["status"]
                return httptap.DELAY, clock() + toxic.params["delay"]
        return httptap.PASS, 0.0

    def from_client(self, data: bytes) -> None:
        """A chunk of request bytes: parse, then drop, answer, hold or forward it."""
        if self.version != self.link.version:
            self._refresh()
        start = 0.0
        tap = self.tap
        if self.boundary:
            self.boundary = False
            if (tap is None) == bool(self.http) and not self.opaque:
                tap = self._retap(tap)
        if tap is not None:
            if not tap.feed(data):
                self.tap = None
                self.opaque = tap.upgraded or self.opaque
            elif tap.action == httptap.ERROR:
                answer = tap.take_answer()
                if answer is not None:
                    self.boundary = True  # answered here: the next chunk is a new request
                    self._answer(*answer)
                return
            elif tap.action == httptap.DELAY:
                start = tap.value
        direct = self.up_direct
        if direct is not None and not start and not self.up.queue:
            direct.write(data)  # the clean path: nothing to shape, nothing held
        elif not self.black:
            self._send(self.up, self.up_shape, data, start)

    def _retap(self, tap: httptap.RequestTap | None) -> httptap.RequestTap | None:
        """At a request boundary: start parsing (an HTTP toxic appeared) or stop (none left)."""
        tap = httptap.RequestTap(self._decide_request) if tap is None else None
        self.tap = tap
        return tap

    def from_upstream(self, data: bytes) -> None:
        """A chunk of response bytes: forward it, shaped if a toxic says so."""
        self.boundary = True
        if self.version != self.link.version:
            self._refresh()
        if self.down_direct and not self.down.queue:
            self.client.write(data)
        elif not self.black:
            self._send(self.down, self.down_shape, data, 0.0)

    def _send(self, pipe: Pipe, toxics: list[Toxic], data: bytes, start: float) -> None:
        if toxics:
            now = clock()
            for due, piece in shape(data, toxics, max(now, start), pipe.last_due):
                pipe.push(due, piece)
        elif start:
            pipe.push(start, data)
        else:
            pipe.write_now(data)

    def _answer(self, status: int, keep_alive: bool) -> None:
        """Reply locally to an injected-error request, in order with earlier responses."""
        self.down.write_now(httptap.error_response(status, keep_alive))
        if not keep_alive:
            self.up.pause(GONE)
            self.down.finish()

    def _pipe_ended(self) -> None:
        if self.up.ended and self.down.ended:
            self.client.close()
            if self.upstream is not None:
                self.upstream.close()

    def release(self) -> None:
        """A toxic went away: let held bytes go now rather than at their due time."""
        self.up.release()
        self.down.release()

    def abort(self) -> None:
        """Reset both sides (the reset toxic, or an upstream that cannot be reached)."""
        self.closed = True
        self.up.discard()
        self.down.discard()
        reset(self.client)
        if self.upstream is not None:
            reset(self.upstream)

    def client_lost(self) -> None:
        """The client is gone: nothing held for either side matters any more."""
        self.closed = True
        self.up.discard()
        self.down.discard()
        if self.upstream is not None:
            self.upstream.close()
        self.link.forget(self)

    def upstream_lost(self) -> None:
        """The upstream hung up: deliver what is held for the client, then close it."""
        self.up.discard()
        self.up.pause(GONE)
        self.down.finish()


class ClientSide(asyncio.Protocol):
    """The accepted side; a new Connection per accept unless a toxic turns it away."""

    __slots__ = ("conn", "link")

    def __init__(self, link: Link) -> None:
        self.link = link
        self.conn: Connection | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.conn = self.link.accept(transport)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        if self.conn is not None:
            self.conn.from_client(data)

    def eof_received(self) -> bool:
        if self.conn is not None and not self.conn.black:
            self.conn.up.source_eof()
        return True

    def pause_writing(self) -> None:
        if self.conn is not None:
            self.conn.down.pause(DEST_FULL)

    def resume_writing(self) -> None:
        if self.conn is not None:
            self.conn.down.resume(DEST_FULL)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.conn.client_lost()


class UpstreamSide(asyncio.Protocol):
    """The side facing the real server."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # Bound before the transport exists, so the loop calls the relay without a hop.
        self.data_received = conn.from_upstream  # type: ignore[method-assign]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.conn.upstream_made(transport)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:  # replaced per instance in __init__
        self.conn.from_upstream(data)

    def eof_received(self) -> bool:
        if not self.conn.black:
            self.conn.down.source_eof()
        return True

    def pause_writing(self) -> None:
        self.conn.up.pause(DEST_FULL)

    def resume_writing(self) -> None:
        self.conn.up.resume(DEST_FULL)

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn.upstream_lost()
