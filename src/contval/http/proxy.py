"""HTTPS through an HTTP proxy: `HTTPS_PROXY`/`NO_PROXY` rules and the CONNECT tunnel.

Only https origins use a proxy (a CONNECT tunnel keeps TLS end to end, so the load and its
timings are the target's); plain http load always goes direct. `proxy_for` decides, the pool
calls `open_tunnel` once per new connection, and the request path never sees a proxy.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

MAX_PROXY_HEAD = 64 * 1024
"""Bytes a proxy may answer a CONNECT with before its head ends."""


class ProxyError(Exception):
    """The proxy could not be reached or refused the tunnel; the message says which."""


@dataclass(frozen=True, slots=True)
class Proxy:
    """An HTTP proxy to tunnel through: where it is and the credentials its URL carried."""

    host: str
    port: int
    authorization: str | None = None
    """`Proxy-Authorization` value from `http://user:password@host:port`, never shown."""

    @classmethod
    def parse(cls, url: str) -> Proxy:
        """`http://[user:password@]host[:port]` (a URL without a scheme is http, as in curl)."""
        text = url.strip()
        if "://" not in text:
            text = "http://" + text
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"invalid proxy URL ({exc})") from None
        if parts.scheme.lower() != "http":
            raise ValueError(
                f"proxy scheme `{parts.scheme}` is not supported: contval tunnels through a"
                " plain-HTTP proxy with CONNECT (write http://host:port)"
            )
        if not parts.hostname:
            raise ValueError("the proxy URL has no host")
        authorization = None
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            authorization = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        return cls(parts.hostname, port if port is not None else 80, authorization)

    @property
    def shown(self) -> str:
        """The proxy as messages may show it: no credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def on_loopback(self) -> bool:
        """Whether the proxy is on this host (127.0.0.0/8, ::1 or `localhost`)."""
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    """A loopback address literal or `localhost` (names are never resolved here)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def env_value(environ: Mapping[str, str], name: str) -> str:
    """The lower-case variable if set (curl's precedence), else the upper-case one, else ""."""
    value = environ.get(name.lower())
    if value is None:
        value = environ.get(name.upper(), "")
    return value.strip()


def bypassed(no_proxy: str, host: str, port: int) -> bool:
    """Whether `NO_PROXY` exempts `host:port`, with curl's rules.

    Entries are comma- (or space-) separated: `*` exempts every host; a name exempts itself and
    its subdomains (`example.com` and `.example.com` both match `api.example.com`); an IP
    address exempts itself, a CIDR block (`10.0.0.0/8`) its addresses; `entry:port` only that
    port. Names compare case-insensitively; names are never resolved.
    """
    host = host.lower().strip("[]").rstrip(".")
    for raw in no_proxy.replace(" ", ",").split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry, entry_port = _split_port(entry)
        if entry_port is not None and entry_port != port:
            continue
        if _matches(entry, host):
            return True
    return False


def _split_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):  # [::1]:8443
        address, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return address, int(port) if port.isdigit() else None
    if entry.count(":") == 1:
        name, _, port = entry.partition(":")
        if port.isdigit():
            return name, int(port)
    return entry, None


def _matches(entry: str, host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        try:
            return address in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    name = entry.lstrip(".").rstrip(".")
    return bool(name) and (host == name or host.endswith("." + name))


def proxy_for(
    scheme: str, host: str, port: int, environ: Mapping[str, str]
) -> tuple[str, Proxy] | None:
    """The proxy URL as set and the `Proxy` an origin goes through, or None (direct).

    Only https origins use one (`HTTPS_PROXY`); `NO_PROXY` exempts hosts. Raises `ValueError`
    for a proxy URL contval cannot use (validation reports it with the fix).
    """
    if scheme != "https":
        return None
    url = env_value(environ, "https_proxy")
    if not url or bypassed(env_value(environ, "no_proxy"), host, port):
        return None
    return url, Proxy.parse(url)


async def open_tunnel(
    loop: asyncio.AbstractEventLoop, proxy: Proxy, host: str, port: int
) -> socket.socket:
    """A connected socket to the proxy with a CONNECT tunnel to `host:port` established.

    Raises `ProxyError` when the proxy answers anything but 2xx, and `OSError` when it cannot
    be reached. The caller bounds the time (its connect timeout covers the tunnel).
    """
    try:
        sock = await _connect(loop, proxy)
    except OSError as exc:
        raise ProxyError(f"cannot connect to proxy {proxy.shown}: {exc}") from None
    try:
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        if proxy.authorization is not None:
            lines.append(f"Proxy-Authorization: {proxy.authorization}")
        await loop.sock_sendall(sock, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head, rest = await _read_head(loop, sock, proxy)
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1", "replace")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ProxyError(f"proxy {proxy.shown} answered CONNECT with {status_line[:80]!r}")
        if not 200 <= int(parts[1]) < 300:
            raise ProxyError(
                f"proxy {proxy.shown} refused the tunnel to {authority}: {status_line[:80]}"
            )
        if rest:  # the client speaks first in TLS: bytes here would corrupt the handshake
            raise ProxyError(f"proxy {proxy.shown} sent bytes after its CONNECT answer")
    except BaseException:
        sock.close()
        raise
    return sock


async def _connect(loop: asyncio.AbstractEventLoop, proxy: Proxy) -> socket.socket:
    infos = await loop.getaddrinfo(proxy.host, proxy.port, type=socket.SOCK_STREAM)
    error: OSError | None = None
    for family, kind, protocol, _, address in infos:
        sock = socket.socket(family, kind, protocol)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        except BaseException:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise error or OSError(f"cannot resolve proxy {proxy.shown}")


async def _read_head(
    loop: asyncio.AbstractEventLoop, sock: socket.socket, proxy: Proxy
) -> tuple[bytes, bytes]:
    """The proxy's answer up to the blank line, and what came after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await loop.sock_recv(sock, 4096)
        if not chunk:
            raise ProxyError(f"proxy {proxy.shown} closed the connection during CONNECT")
        data += chunk
        if len(data) > MAX_PROXY_HEAD:
            raise ProxyError(f"proxy {proxy.shown} answered CONNECT with an endless head")
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest
