"""The client: one pool per origin, created on first use, closed together."""

from __future__ import annotations

import ssl
from types import TracebackType

from contval.http.options import ClientOptions
from contval.http.pool import Pool
from contval.http.request import Origin


class Client:
    """Owns the pools of one worker; the engine makes one per event loop.

    Look pools up once per target (`pool(url)`) and keep them: the hot path should be
    `await pool.request(template, wire)`, with no dict lookup per request.
    """

    def __init__(self, options: ClientOptions | None = None) -> None:
        self.options = options or ClientOptions()
        self._pools: dict[Origin, Pool] = {}
        self._ssl: ssl.SSLContext | None = None

    def pool(self, url: str) -> Pool:
        """The pool for `url`'s origin (scheme, host, port); the path is ignored."""
        origin = Origin.parse(url)
        pool = self._pools.get(origin)
        if pool is None:
            context = None
            if origin.tls:
                if self._ssl is None:
                    self._ssl = self.options.make_ssl_context()
                context = self._ssl
            pool = self._pools[origin] = Pool(origin, self.options, context)
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
