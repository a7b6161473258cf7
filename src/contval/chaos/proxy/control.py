"""The control API: a small HTTP/1.1 JSON server (httptools, no framework).

Every route is synchronous: adding or removing a toxic takes effect before the response is
written, so a caller that got its 201/204 can rely on the new state without polling. The
routes are the contract in docs/chaos-internals.md ("Proxy control API").
"""

from __future__ import annotations

import asyncio
import json
import os
from http import HTTPStatus
from typing import Any, Protocol
from urllib.parse import unquote

import httptools

from contval.chaos.proxy.link import Link
from contval.chaos.proxy.toxics import ToxicError, parse_lease, parse_toxic

MAX_BODY = 64 * 1024
Reply = tuple[int, dict[str, Any] | None]


class Registry(Protocol):
    """What the routes need from the running proxy."""

    links: dict[str, Link]

    def now(self) -> float: ...


def _error(status: int, message: str) -> Reply:
    return status, {"error": message}


def _link(registry: Registry, name: str) -> Link | Reply:
    link = registry.links.get(name)
    return link if link is not None else _error(404, f"unknown link {name!r}")


def _add(registry: Registry, name: str, body: object) -> Reply:
    link = _link(registry, name)
    if not isinstance(link, Link):
        return link
    try:
        toxic = parse_toxic(body, registry.now())
    except ToxicError as exc:
        return _error(400, str(exc))
    if toxic.id in link.toxics:
        return _error(409, f"toxic {toxic.id!r} already exists on link {name!r}")
    link.add(toxic)
    return 201, toxic.to_json(registry.now())


def _renew(registry: Registry, name: str, toxic_id: str, body: object) -> Reply:
    link = _link(registry, name)
    if not isinstance(link, Link):
        return link
    toxic = link.toxics.get(toxic_id)
    if toxic is None:
        return _error(404, f"no toxic {toxic_id!r} on link {name!r} (expired or removed)")
    try:
        lease = parse_lease(body.get("lease") if isinstance(body, dict) else None)
    except ToxicError as exc:
        return _error(400, str(exc))
    toxic.renew(lease, registry.now())
    return 200, toxic.to_json(registry.now())


def _delete(registry: Registry, name: str, toxic_id: str) -> Reply:
    link = _link(registry, name)
    if not isinstance(link, Link):
        return link
    if link.remove(toxic_id) is None:
        return _error(404, f"no toxic {toxic_id!r} on link {name!r}")
    return 204, None


def _clear(registry: Registry) -> Reply:
    for link in registry.links.values():
        for toxic_id in list(link.toxics):
            link.remove(toxic_id)
    return 204, None


def route(registry: Registry, method: str, path: str, body: object) -> Reply:
    """Dispatch one request; unknown paths are 404, known paths with a wrong method 405."""
    parts = [unquote(part) for part in path.split("?", 1)[0].strip("/").split("/")]
    match parts:
        case ["health"] if method == "GET":
            return 200, {"status": "ok", "pid": os.getpid()}
        case ["links"] if method == "GET":
            now = registry.now()
            return 200, {"links": {n: ln.to_json(now) for n, ln in registry.links.items()}}
        case ["links", name, "toxics"] if method == "POST":
            return _add(registry, name, body)
        case ["links", name, "toxics", toxic_id, "renew"] if method == "POST":
            return _renew(registry, name, toxic_id, body)
        case ["links", name, "toxics", toxic_id] if method == "DELETE":
            return _delete(registry, name, toxic_id)
        case ["toxics"] if method == "DELETE":
            return _clear(registry)
        case ["health"] | ["links"] | ["links", _, "toxics", *_] | ["toxics"]:
            return _error(405, f"method {method} not allowed on {path}")
    return _error(404, f"no route {method} {path}")


def encode(status: int, payload: dict[str, Any] | None, keep_alive: bool) -> bytes:
    """A complete HTTP/1.1 response (204 carries no body and no Content-Length)."""
    head = f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
    body = b""
    if status != 204:
        body = json.dumps(payload).encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    if not keep_alive:
        head += "Connection: close\r\n"
    return (head + "\r\n").encode("latin-1") + body


class ControlProtocol(asyncio.Protocol):
    """One control connection; requests are answered in order as each one completes."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._body: list[bytes] = []
        self._size = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._reply(400, {"error": "malformed HTTP request"}, keep_alive=False)

    def on_message_begin(self) -> None:
        self._url, self._body, self._size = b"", [], 0

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size <= MAX_BODY:
            self._body.append(body)

    def on_message_complete(self) -> None:
        keep_alive = bool(self._parser.should_keep_alive())
        if self._size > MAX_BODY:
            self._reply(413, {"error": "body too large"}, keep_alive=False)
            return
        raw = b"".join(self._body)
        try:
            body: object = json.loads(raw) if raw.strip() else None
        except ValueError:
            self._reply(400, {"error": "body is not valid JSON"}, keep_alive)
            return
        method = self._parser.get_method().decode("ascii", "replace")
        status, payload = route(self._registry, method, self._url.decode("latin-1"), body)
        self._reply(status, payload, keep_alive)

    def _reply(self, status: int, payload: dict[str, Any] | None, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        transport.write(encode(status, payload, keep_alive))
        if not keep_alive:
            transport.close()
