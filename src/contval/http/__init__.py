"""contval.http: the load client — keep-alive pools, TLS, timeouts, classified errors.

Our own HTTP/1.1 client on asyncio Protocols and httptools, because general-purpose clients cost
10–40× more CPU per request than the loop itself (see docs/http.md and bench/http_client.py).
"""

from contval.http.client import Client
from contval.http.clock import now
from contval.http.errors import ErrorClass, HttpError
from contval.http.options import DEFAULT_MAX_BODY, ClientOptions
from contval.http.pool import Pool
from contval.http.request import Origin, RequestTemplate
from contval.http.response import Response

__all__ = [
    "DEFAULT_MAX_BODY",
    "Client",
    "ClientOptions",
    "ErrorClass",
    "HttpError",
    "Origin",
    "Pool",
    "RequestTemplate",
    "Response",
    "now",
]
