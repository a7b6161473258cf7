"""One step's HTTP exchange beyond its first request's bytes: cookies, redirects, URL targets
and content decoding.

`Exchange.send` is what a step awaits instead of `pool.request`: it adds the session's cookies,
stores the ones the response sets, follows redirects (only to declared targets, at most `follow`
hops, the step's latency covering every hop) and decodes a gzip/deflate body a check or an
extraction will read, within the decoded-size bound. It raises only `HttpError`, whose `kind` is
the class to count: a redirect off the declared targets is `OFF_TARGET` (nothing is sent there),
one hop too many `TOO_MANY_REDIRECTS`, a body decoding past the bound `BODY_TOO_LARGE`.

A request step of an iteration with no cookie to send takes the runner's direct path
(`pool.request` on its bytes); it comes here (`after`) only when its response redirects, sets a
cookie a later request may send, or has a coded body a check will read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final
from urllib.parse import quote, urljoin, urlsplit

from contval.flows.cookies import CookieJar
from contval.flows.ops import Call
from contval.flows.templates import RenderError, Scope, header_value
from contval.http import Client, ErrorClass, HttpError, Origin, Pool, RequestTemplate, Response
from contval.http import now as _now
from contval.http.encoding import decode_body

REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
"""Statuses that are followed (300 Multiple Choices and 304 Not Modified are answers)."""
_PATH_SAFE: Final = "!#$%&'()*+,/:;=?@[]~"
_NO_BODY_HEADERS: Final = frozenset({"content-type", "content-encoding", "content-language"})


class NotSent(HttpError):
    """Refused before a byte was sent (a URL off the targets, a value unfit to send): counted
    without a latency, as a refused connection is, so it never shows as a fast request."""


class Links:
    """The declared targets of a run, and the client's pools for them (created on first use).

    A URL whose (scheme, host, port) is not a declared target gets no pool: that is the one check
    between a server's `Location` (or a URL taken from a response) and sending load somewhere.
    """

    __slots__ = ("_client", "_declared", "_pools", "max_decoded")

    def __init__(self, client: Client, targets: Iterable[str]) -> None:
        self._client = client
        self._declared = {_origin(url) for url in targets}
        self._declared.discard(None)
        self._pools: dict[str, Pool] = {}
        self.max_decoded = client.options.max_decoded_body

    def pool(self, url: str) -> Pool | None:
        """The pool for an absolute http(s) URL on a declared target, else None."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}".lower()
        found = self._pools.get(key)
        if found is None:
            if _origin(key) not in self._declared:
                return None
            found = self._pools[key] = self._client.pool(key)
        return found


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        origin = Origin.parse(url)
    except ValueError:
        return None
    return origin.scheme, origin.host.lower(), origin.port


class Exchange:
    """Cookies, redirects, URL targets and decoding for one bound call (see the module doc)."""

    __slots__ = (
        "call",
        "cookies",
        "declared",
        "follow",
        "keep",
        "links",
        "pool",
        "send_cookies",
        "template",
        "url_target",
    )

    def __init__(
        self,
        call: Call,
        pool: Pool,
        template: RequestTemplate,
        links: Links | None,
        *,
        keep: bool,
        cookies: bool = True,
        declared: frozenset[int] | None = None,
    ) -> None:
        self.call = call
        self.pool = pool
        self.template = template
        self.links = links
        self.keep = keep
        self.follow = call.follow_redirects if links is not None else 0
        self.declared = declared or frozenset()
        """Statuses the step's check lists: such a 3xx is the answer it wants, never followed."""
        self.cookies = cookies and links is not None
        names = {name.lower() for name in call.headers}
        names.update(name.lower() for name, _ in call.dynamic_headers)
        self.send_cookies = self.cookies and "cookie" not in names
        """A step that sets its own `Cookie` header sends that one, not the jar's."""
        self.url_target = call.url_target

    def follows(self, status: int) -> bool:
        """Whether a response with `status` is a redirect this step follows."""
        return bool(self.follow) and status in REDIRECTS and status not in self.declared

    async def send(self, scope: Scope, wire: bytes | None, timeout: float | None) -> Response:
        """The step's request (cookies added) and everything after it; raises `HttpError`."""
        pool, template = self.pool, self.template
        try:
            if self.url_target:
                pool, template, wire = self._url_request(scope)
            jar = scope.jar
            if jar is not None and self.send_cookies:
                wire = _with_cookies(jar, pool.origin, template, wire)
        except HttpError:
            raise
        except Exception as exc:  # whatever a value from a response holds, nothing is sent
            raise NotSent(ErrorClass.CHECK_ERROR, f"cannot send: {exc}", _now()) from None
        response = await pool.request(template, wire, timeout)
        if response.set_cookie or response.coded or response.status in REDIRECTS:
            return await self.after(scope, response, pool, template, wire, timeout)
        return response

    async def after(
        self,
        scope: Scope,
        response: Response,
        pool: Pool,
        template: RequestTemplate,
        wire: bytes | None,
        timeout: float | None,
    ) -> Response:
        """Store cookies, follow redirects, decode the body a check will read.

        Raises only `HttpError`: anything else a server's headers cause (a `Location` no URL
        parser takes, a cookie no jar can hold) is `MALFORMED`, never an escaping exception."""
        try:
            if response.set_cookie and self.cookies:
                _store(scope, response, pool.origin, _request_path(template, wire))
            if self.follows(response.status):
                response = await self._redirect(scope, response, pool, template, wire, timeout)
        except HttpError:
            raise
        except Exception as exc:
            raise HttpError(
                ErrorClass.MALFORMED, f"unusable response headers: {exc}", response.completed_at
            ) from None
        if self.keep and response.coded and response.body:
            coding = response.header("content-encoding")
            if coding:
                assert self.links is not None
                limit = self.call.max_decoded_body
                if limit is None:
                    limit = self.links.max_decoded
                response.body = decode_body(response.body, coding, limit)
        return response

    async def _redirect(
        self,
        scope: Scope,
        response: Response,
        pool: Pool,
        template: RequestTemplate,
        wire: bytes | None,
        timeout: float | None,
    ) -> Response:
        links = self.links
        assert links is not None
        method = template.method
        body = template.body if wire is None else _body_of(wire)
        url = _url(pool.origin, _request_path(template, wire))
        first = pool.origin
        hops = 0
        while response.status in REDIRECTS and response.status not in self.declared:
            location = response.header("location")
            if not location:
                return response  # nothing to follow: the 3xx is the answer, judged as it is
            if hops >= self.follow:
                raise HttpError(
                    ErrorClass.TOO_MANY_REDIRECTS,
                    f"still redirected after {hops} hops (follow_redirects: {self.follow})",
                    response.completed_at,
                )
            hops += 1
            url = urljoin(url, location.strip())
            parts = urlsplit(url)
            next_pool = links.pool(url) if parts.scheme in ("http", "https") else None
            if next_pool is None:
                raise HttpError(
                    ErrorClass.OFF_TARGET,
                    f"redirect to {parts.scheme}://{parts.netloc} refused: not a declared target",
                    response.completed_at,
                )
            status = response.status
            if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
                method, body = "GET", None
            same_origin = next_pool.origin == first
            path = quote(parts.path or "/", safe=_PATH_SAFE)
            if parts.query:
                path += "?" + quote(parts.query, safe=_PATH_SAFE)
            try:
                template = next_pool.template(
                    method,
                    path,
                    headers=self._hop_headers(scope, same_origin, body is not None),
                    body=body,
                    idempotent=self.call.idempotent,
                    keep_body=self.keep,
                )
            except ValueError as exc:
                raise HttpError(
                    ErrorClass.MALFORMED, f"unusable redirect: {exc}", response.completed_at
                ) from None
            pool, wire = next_pool, None
            jar = scope.jar
            if jar is not None and self.send_cookies:
                wire = _with_cookies(jar, pool.origin, template, None)
            response = await pool.request(template, wire, timeout)
            if response.set_cookie and self.cookies:
                _store(scope, response, pool.origin, path)
        return response

    def _hop_headers(self, scope: Scope, same_origin: bool, body: bool) -> list[tuple[str, str]]:
        """The step's headers for a redirected request: credentials only to the same origin,
        body headers only with a body."""
        headers: list[tuple[str, str]] = []
        for name, value in self.call.headers.items():
            lower = name.lower()
            if (lower == "authorization" and not same_origin) or (
                lower in _NO_BODY_HEADERS and not body
            ):
                continue
            headers.append((name, value))
        for name, text in self.call.dynamic_headers:
            if name.lower() == "authorization" and not same_origin:
                continue
            headers.append((name, header_value(text.render(scope))))
        return headers

    def _url_request(self, scope: Scope) -> tuple[Pool, RequestTemplate, bytes | None]:
        """A request whose target is a template: a path on the flow's target, or a URL on a
        declared target; anything else is refused before a byte is sent."""
        call = self.call
        try:
            text = call.path.render(scope)
        except RenderError as exc:
            raise NotSent(ErrorClass.CHECK_ERROR, str(exc), _now()) from None
        pool = self.pool
        if text.startswith(("http://", "https://")):
            found = self.links.pool(text) if self.links is not None else None
            if found is None:
                parts = urlsplit(text)
                raise NotSent(
                    ErrorClass.OFF_TARGET,
                    f"request to {parts.scheme}://{parts.netloc} refused: not a declared target",
                    _now(),
                )
            pool = found
            parts = urlsplit(text)
            path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        elif text.startswith("/"):
            path = text
        else:
            raise NotSent(
                ErrorClass.CHECK_ERROR,
                f"request target {text[:80]!r} is neither a path nor an http(s) URL",
                _now(),
            )
        try:
            template = pool.template(
                call.method,
                path,
                headers=dict(call.headers),
                body=call.body,
                idempotent=call.idempotent,
                keep_body=self.keep,
            )
            headers = b"".join(
                f"{name}: {header_value(text.render(scope))}\r\n".encode("latin-1")
                for name, text in call.dynamic_headers
            )
            body = None
            if call.body_template is not None:
                rendered = call.body_template.render(scope)
                body = rendered if isinstance(rendered, bytes) else rendered.encode()
        except (ValueError, UnicodeError) as exc:
            raise NotSent(ErrorClass.CHECK_ERROR, f"cannot send: {exc}", _now()) from None
        wire = template.encode(body=body, headers=headers) if headers or body else None
        return pool, template, wire


def _url(origin: Origin, path: str) -> str:
    return f"{origin.scheme}://{origin.host_header}{path}"


def _request_path(template: RequestTemplate, wire: bytes | None) -> str:
    """The request target as sent (static: the template's)."""
    if wire is None:
        return template.path.decode("ascii")
    start = len(template.method) + 1
    return wire[start : wire.index(b" ", start)].decode("ascii", "replace")


def _body_of(wire: bytes) -> bytes | None:
    head, sep, body = wire.partition(b"\r\n\r\n")
    return body if sep and b"\r\nContent-Length:" in head else None


def _with_cookies(
    jar: CookieJar, origin: Origin, template: RequestTemplate, wire: bytes | None
) -> bytes | None:
    """`wire` with the jar's `Cookie` line for this request (after the request line)."""
    value = jar.header(origin.tls, origin.host, _request_path(template, wire))
    if value is None:
        return wire
    line = b"Cookie: " + value.encode("latin-1", "replace") + b"\r\n"
    if wire is None:
        return template.encode(headers=line)
    cut = wire.index(b"\r\n") + 2
    return wire[:cut] + line + wire[cut:]


def _store(scope: Scope, response: Response, origin: Origin, path: str) -> None:
    jar = scope.jar
    if jar is None:
        jar = scope.jar = CookieJar()
    jar.store(response.header_values("set-cookie"), origin.host, path)
