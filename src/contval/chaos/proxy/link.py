"""A link: one listening address relayed to one upstream, and the toxics it carries.

The link owns its listening socket because `refuse` closes it (connects then get ECONNREFUSED
from the kernel, exactly like a dead service) and removal reopens it on the same port. Sockets
are bound synchronously so that by the time a control request is answered, the port is already
accepting (or refusing) connections: callers never have to poll.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any

from contval.chaos.proxy.connection import ClientSide, Connection, affected, reset
from contval.chaos.proxy.toxics import REFUSE, RESET, Toxic

Address = tuple[str, int]


def parse_address(text: str) -> Address:
    """HOST:PORT (IPv6 as [::1]:PORT) → (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def format_address(address: Address) -> str:
    """(host, port) → HOST:PORT, bracketing IPv6 hosts."""
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def listen_socket(address: Address, backlog: int = 1024) -> socket.socket:
    """A bound, listening socket (raises OSError at once, e.g. when the port is taken)."""
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class Link:
    """Listening side, live connections and toxics of one named link."""

    def __init__(self, name: str, listen: Address, upstream: Address) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.toxics: dict[str, Toxic] = {}
        self.version = 0
        self.connections: set[Connection] = set()
        self.accepted = 0
        self._server: asyncio.AbstractServer | None = None
        self._sock: socket.socket | None = None
        self._serving: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        """False while a refuse toxic holds the port closed."""
        return self._sock is not None

    def open(self) -> None:
        """Bind and start accepting; a port of 0 is resolved once and kept for reopening."""
        sock = listen_socket(self.listen)
        self.listen = (self.listen[0], int(sock.getsockname()[1]))
        self._sock = sock
        self._serving = asyncio.get_running_loop().create_task(self._serve(sock))

    async def _serve(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            server = await loop.create_server(lambda: ClientSide(self), sock=sock)
        except (OSError, ValueError):
            return  # closed by a refuse before it started serving
        if self._sock is sock:
            self._server = server
        else:  # refused again before serving started
            server.close()

    def close_listener(self) -> None:
        """Stop accepting: new connects are refused by the kernel; live ones keep flowing."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def accept(self, transport: asyncio.Transport) -> Connection | None:
        """A new client: turned away with RST when a reset (or partial refuse) lands on it."""
        self.accepted += 1
        for toxic in self.toxics.values():
            if toxic.type in (RESET, REFUSE) and affected(toxic):
                reset(transport)
                return None
        conn = Connection(self, transport)
        self.connections.add(conn)
        conn.connecting = conn.loop.create_task(conn.connect())
        return conn

    def forget(self, conn: Connection) -> None:
        """A connection ended."""
        self.connections.discard(conn)

    def add(self, toxic: Toxic) -> None:
        """Apply a toxic (the caller checked that its id is free)."""
        self.toxics[toxic.id] = toxic
        self.version += 1
        if toxic.type == RESET:
            for conn in list(self.connections):
                if affected(toxic):
                    conn.abort()
        elif toxic.type == REFUSE and toxic.fraction >= 1.0:
            self.close_listener()

    def remove(self, toxic_id: str) -> Toxic | None:
        """Drop a toxic; held bytes are released and a refused port reopens at once."""
        toxic = self.toxics.pop(toxic_id, None)
        if toxic is None:
            return None
        self.version += 1
        for conn in list(self.connections):
            conn.release()
        self.reopen_if_due()
        return toxic

    def reopen_if_due(self) -> None:
        """Listen again when no full refuse is left (retried by the reaper if the bind fails)."""
        if self._sock is not None or self._refusing():
            return
        try:
            self.open()
        except OSError as exc:
            print(
                f"contval proxy: link {self.name}: cannot reopen {self.listen}: {exc}",
                file=sys.stderr,
            )

    def _refusing(self) -> bool:
        return any(t.type == REFUSE and t.fraction >= 1.0 for t in self.toxics.values())

    def expire(self, now: float) -> list[str]:
        """Drop toxics whose lease ran out; returns their ids."""
        gone = [tid for tid, toxic in self.toxics.items() if toxic.expires_at <= now]
        for tid in gone:
            self.remove(tid)
        self.reopen_if_due()
        return gone

    def shutdown(self) -> None:
        """Stop listening and reset nothing: close every relayed connection politely."""
        self.close_listener()
        for conn in list(self.connections):
            conn.client.close()
            if conn.upstream is not None:
                conn.upstream.close()

    def to_json(self, now: float) -> dict[str, Any]:
        """The link object of GET /links."""
        return {
            "listen": format_address(self.listen),
            "upstream": format_address(self.upstream),
            "connections": self.accepted,
            "active": len(self.connections),
            "listening": self.listening,
            "toxics": [toxic.to_json(now) for toxic in self.toxics.values()],
        }
