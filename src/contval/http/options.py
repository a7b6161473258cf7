"""Client settings, and the one place an SSL context is built from them."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

DEFAULT_MAX_BODY = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """How every pool of a client behaves.

    `timeout` bounds a whole request, from the call to the last response byte (pool wait and
    connect included); `connect_timeout` additionally bounds opening a connection (TCP and TLS).
    `verify=False` accepts any certificate (self-signed test systems); `ca_file` adds trust roots.
    """

    max_connections: int = 100
    connect_timeout: float = 5.0
    timeout: float = 30.0
    max_body: int = DEFAULT_MAX_BODY
    max_decoded_body: int = DEFAULT_MAX_BODY
    """Bound on a gzip/deflate/br body once decoded (see `contval.http.encoding`)."""
    verify: bool = True
    ca_file: str | None = None
    ssl_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        if self.max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if self.connect_timeout <= 0 or self.timeout <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_body < 0 or self.max_decoded_body < 0:
            raise ValueError("body limits must not be negative")

    def make_ssl_context(self) -> ssl.SSLContext:
        """The context for https origins: the caller's own, or one built from `verify`/`ca_file`."""
        if self.ssl_context is not None:
            return self.ssl_context
        context = ssl.create_default_context(cafile=self.ca_file)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        context.set_alpn_protocols(["http/1.1"])
        return context
