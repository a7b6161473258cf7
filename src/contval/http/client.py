"""The client: one pool per origin, created on first use, closed together."""

from __future__ import annotations

import ssl
from types import TracebackType

from contval.http.options import ClientOptions
from contval.http.pool import Pool
from contval.http.proxy import Proxy
from contval.http.request import Origin
from contval.http.tls import TlsConfig
from contval.http.writes import Writes


class Client:
    """Owns the pools of one worker; the engine makes one per event loop.

    Look pools up once per target (`pool(url)`) and keep them: the hot path should be
    `await pool.request(template, wire)`, with no dict lookup per request.
    """

    def __init__(self, options: ClientOptions | None = None) -> None:
        self.options = options or ClientOptions()
        self._pools: dict[Origin, Pool] = {}
        self._ssl: ssl.SSLContext | None = None
        self._routes: dict[Origin, tuple[TlsConfig | None, Proxy | None]] = {}
        self._writes = Writes()  # one flush per loop pass for every pool's requests

    def route(self, url: str, *, tls: TlsConfig | None = None, proxy: Proxy | None = None) -> None:
        """TLS settings and a proxy for `url`'s origin, before its pool is first made.

        The origin's SSL context is built here, once (a bad certificate raises now, not on a
        request); origins without a route use the client's options.
        """
        origin = Origin.parse(url)
        if origin in self._pools:
            raise RuntimeError(f"{url}: route an origin before its first request")
        if tls is not None and origin.tls:
            tls.context()  # fail here, where the caller can say which target
        self._routes[origin] = (tls, proxy)

    def pool(self, url: str) -> Pool:
        """The pool for `url`'s origin (scheme, host, port); the path is ignored."""
        origin = Origin.parse(url)
        pool = self._pools.get(origin)
        if pool is None:
            tls, proxy = self._routes.get(origin, (None, None))
            context = None
            server_name = None
            if not origin.tls:
                proxy = None
            elif tls is not None:
                context = tls.context()
                server_name = tls.server_name
            else:
                if self._ssl is None:
                    self._ssl = self.options.make_ssl_context()
                context = self._ssl
            pool = Pool(
                origin,
                self.options,
                context,
                server_name=server_name,
                proxy=proxy,
                writes=self._writes,
            )
            self._pools[origin] = pool
        return pool

    async def close(self) -> None:
        """Close every pool; requests still in flight fail with `reset`."""
        for pool in self._pools.values():
            await pool.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
