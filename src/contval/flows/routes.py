"""How the client reaches each declared target: its TLS settings and its proxy, decided once.

Built from the loaded suite (the `tls:` of each target's options, with its certificate files'
contents, and the HTTPS_PROXY/NO_PROXY values read where the suite was loaded), so a worker
never reads files or its own environment to connect.
"""

from __future__ import annotations

from dataclasses import dataclass

from contval.http import Client
from contval.http.proxy import Proxy, proxy_for
from contval.http.request import Origin
from contval.http.tls import TlsConfig
from contval.spec import Suite
from contval.spec.tls import TlsSpec


@dataclass(frozen=True, slots=True)
class Route:
    """One target origin's TLS settings (None: the client's defaults) and proxy (None: direct)."""

    url: str
    tls: TlsConfig | None = None
    proxy: Proxy | None = None

    def apply(self, client: Client) -> None:
        client.route(self.url, tls=self.tls, proxy=self.proxy)


def routes_for(suite: Suite) -> tuple[Route, ...]:
    """A route for every declared https target that has `tls` options or a proxy."""
    proxy_env = suite.environment.proxy_env
    routes: dict[Origin, Route] = {}
    for name, url in suite.targets.items():
        origin = Origin.parse(url)
        if not origin.tls or origin in routes:
            continue
        options = suite.target_options.get(name)
        tls = None if options is None or options.tls is None else tls_config(options.tls)
        chosen = proxy_for(origin.scheme, origin.host, origin.port, proxy_env)
        proxy = None if chosen is None else chosen[1]
        if tls is not None or proxy is not None:
            routes[origin] = Route(url, tls, proxy)
    return tuple(routes.values())


def tls_config(spec: TlsSpec) -> TlsConfig:
    """The client's settings from the suite's (PEM contents as read at load)."""
    return TlsConfig(
        verify=spec.verify,
        ca_pem=None if spec.ca_file is None else spec.ca_file.data.decode("latin-1"),
        cert_pem=None if spec.client_cert is None else spec.client_cert.data,
        key_pem=None if spec.client_key is None else spec.client_key.data,
        server_name=spec.server_name,
    )
