"""Origins and pre-encoded requests: everything static about a request is encoded once.

The hot path then only joins a handful of byte strings (method, path, static header block, dynamic
headers, body); a fully static request costs nothing at all, its bytes are reused as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
FORBIDDEN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
REPLAYABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods the client may send twice (Go's net/http rule): they promise no side effect."""
IDEMPOTENCY_HEADERS = frozenset({"idempotency-key", "x-idempotency-key"})
"""A request carrying one of these tells the server to de-duplicate it: it may be sent twice."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a pool connects: one pool per (scheme, host, port), as browsers do."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Origin:
        """Accept `http(s)://host[:port][/anything]`; the path is ignored, an origin has none."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise ValueError(f"unsupported scheme in {url!r}: only http and https")
        if not parts.hostname:
            raise ValueError(f"no host in {url!r}")
        port = parts.port if parts.port is not None else _DEFAULT_PORTS[scheme]
        return cls(scheme, parts.hostname, port)

    @property
    def tls(self) -> bool:
        """Whether connections to this origin speak TLS."""
        return self.scheme == "https"

    @property
    def host_header(self) -> str:
        """The Host header value: port only when not the scheme's default, IPv6 in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == _DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{self.port}"


def _check_path(path: bytes) -> None:
    """Refuse request targets that would smuggle a second line or point at another host."""
    if path[:1] != b"/" or b" " in path or b"\r" in path or b"\n" in path:
        raise ValueError(f"invalid request path {path!r}: must start with '/' and hold no spaces")


def has_idempotency_key(names: Iterable[str]) -> bool:
    """Whether one of `names` is an `Idempotency-Key` (or `X-Idempotency-Key`) header."""
    return any(name.lower() in IDEMPOTENCY_HEADERS for name in names)


def _encode_headers(items: Iterable[tuple[str, str]]) -> bytes:
    """Encode caller headers once, refusing the ones the client owns (framing and Host)."""
    lines = []
    for name, value in items:
        if name.lower() in FORBIDDEN_HEADERS:
            raise ValueError(f"header {name!r} is set by the client, not by templates")
        if any(c in name + value for c in "\r\n") or ":" in name:
            raise ValueError(f"invalid header {name!r}: {value!r}")
        lines.append(f"{name}: {value}\r\n")
    return "".join(lines).encode("latin-1")


class RequestTemplate:
    """A request whose static parts are encoded once; `encode` joins in the dynamic parts.

    `wire` is the complete request for the static case. The client never follows redirects: a 3xx
    is returned to the caller like any other response. `replayable` says whether the pool may
    send it a second time after a keep-alive race: GET, HEAD, OPTIONS and TRACE, a request the
    caller declares `idempotent`, and one carrying an `Idempotency-Key` header (pass `idempotent`
    when that header is rendered per request).
    """

    __slots__ = (
        "_has_body",
        "_head_block",
        "_method_sp",
        "body",
        "head",
        "keep_body",
        "method",
        "path",
        "replayable",
        "wire",
    )

    def __init__(
        self,
        method: str,
        path: str,
        *,
        host: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        body: bytes | None = None,
        idempotent: bool = False,
        keep_body: bool = True,
    ) -> None:
        self.method = method.upper()
        if not self.method.isalpha():
            raise ValueError(f"invalid method {method!r}")
        items = list(headers.items() if isinstance(headers, Mapping) else headers)
        self.replayable = (
            idempotent
            or self.method in REPLAYABLE_METHODS
            or has_idempotency_key(name for name, _ in items)
        )
        self.path = path.encode("ascii")
        _check_path(self.path)
        self.body = body
        self.keep_body = keep_body
        """False: the response body is counted against max_body but never stored (status-only
        steps), so an endless body costs no memory."""
        self.head = self.method == "HEAD"
        self._has_body = body is not None or self.method in _BODY_METHODS
        self._method_sp = self.method.encode("ascii") + b" "
        self._head_block = (
            b" HTTP/1.1\r\nHost: " + host.encode("ascii") + b"\r\n" + _encode_headers(items)
        )
        self.wire = self.encode()

    def encode(
        self, path: bytes | None = None, body: bytes | None = None, headers: bytes = b""
    ) -> bytes:
        """Join the dynamic parts into a full request; `None` keeps the template's part.

        `headers` are pre-encoded `Name: value\\r\\n` lines (the flow layer renders them); `path`
        must already be percent-encoded.
        """
        if path is None:
            path = self.path
        else:
            _check_path(path)
        if body is None:
            body = self.body
        if body is None and not self._has_body:
            return b"".join((self._method_sp, path, self._head_block, headers, b"\r\n"))
        length = 0 if body is None else len(body)
        return b"".join(
            (
                self._method_sp,
                path,
                self._head_block,
                headers,
                b"Content-Length: %d\r\n\r\n" % length,
                body or b"",
            )
        )
