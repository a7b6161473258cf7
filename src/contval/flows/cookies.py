"""A small RFC 6265 cookie jar: one per virtual-user session, keyed by (domain, path, name).

Only what a load generator needs: Domain (host-only or domain-matching), Path, Expires and
Max-Age, Secure (sent over https only); HttpOnly and SameSite are kept or ignored as a non-browser
client may. Every response that sets cookies goes through `store`; every request of a session with
cookies asks `header` for its `Cookie:` value. A jar never grows without bound: cookies over
4096 bytes are ignored, and a jar keeps at most `MAX_COOKIES` cookies of `MAX_JAR_BYTES` in all
(the oldest go first), whatever a server sends: a thousand virtual users cost at most 64 MiB of
cookies. The stdlib's `http.cookiejar` wants urllib request objects and costs far more per
request; its lenient date parser (`http2time`) is reused.
"""

from __future__ import annotations

import re
import time
from http.cookiejar import http2time  # type: ignore[attr-defined]
from typing import Final

MAX_COOKIES: Final = 100
"""Cookies one jar keeps at most (RFC 6265 6.1 suggests at least 50 per domain)."""
MAX_JAR_BYTES: Final = 64 * 1024
"""Names and values one jar keeps at most, all cookies together."""
MAX_COOKIE_BYTES: Final = 4096
"""A cookie whose name and value together are longer is ignored (RFC 6265 6.1)."""
_BAD: Final = frozenset("\x00\r\n;")
_DELTA: Final = re.compile(r"-?[0-9]{1,12}")

Key = tuple[str, str, str]


class Cookie:
    """One stored cookie; `expires` is a `time.time()` reading or None (a session cookie)."""

    __slots__ = ("domain", "expires", "host_only", "name", "path", "secure", "value")

    def __init__(
        self,
        name: str,
        value: str,
        domain: str,
        host_only: bool,
        path: str,
        expires: float | None,
        secure: bool,
    ) -> None:
        self.name = name
        self.value = value
        self.domain = domain
        self.host_only = host_only
        self.path = path
        self.expires = expires
        self.secure = secure

    def matches(self, https: bool, host: str, path: str) -> bool:
        """Whether a request to `host` `path` carries this cookie (RFC 6265 5.4, expiry apart)."""
        if self.secure and not https:
            return False
        if self.host_only or host == self.domain:
            if host != self.domain:
                return False
        elif not domain_matches(host, self.domain):
            return False
        return path_matches(path, self.path)


class CookieJar:
    """Cookies of one session; `copy` gives an independent jar (a VU's post-setup state)."""

    __slots__ = ("_bytes", "_cookies")

    def __init__(self, cookies: dict[Key, Cookie] | None = None) -> None:
        self._cookies: dict[Key, Cookie] = {} if cookies is None else cookies
        self._bytes = sum(_size(c) for c in self._cookies.values())

    def __len__(self) -> int:
        return len(self._cookies)

    def copy(self) -> CookieJar:
        """A jar holding the same cookies; changes to either never reach the other."""
        return CookieJar(dict(self._cookies))

    def names(self) -> list[str]:
        """Stored cookie names (tests, debugging)."""
        return [cookie.name for cookie in self._cookies.values()]

    def store(self, lines: list[str], host: str, path: str) -> None:
        """Store every `Set-Cookie` line of a response to `host` `path` (RFC 6265 5.2, 5.3)."""
        at = time.time()
        for line in lines:
            cookie = parse_set_cookie(line, host, path, at)
            if cookie is None:
                continue
            key = (cookie.domain, cookie.path, cookie.name)
            self._drop(key)
            if cookie.expires is not None and cookie.expires <= at:
                continue  # an expiry in the past deletes the cookie
            cookies = self._cookies
            size = _size(cookie)
            while cookies and (len(cookies) >= MAX_COOKIES or self._bytes + size > MAX_JAR_BYTES):
                self._drop(next(iter(cookies)))
            cookies[key] = cookie
            self._bytes += size

    def _drop(self, key: Key) -> None:
        cookie = self._cookies.pop(key, None)
        if cookie is not None:
            self._bytes -= _size(cookie)

    def header(self, https: bool, host: str, path: str) -> str | None:
        """The `Cookie` header value for a request, or None when no cookie applies.

        Longer paths first, then oldest first (RFC 6265 5.4); expired cookies are dropped.
        """
        cookies = self._cookies
        if not cookies:
            return None
        query = path.find("?")
        if query >= 0:
            path = path[:query]
        at = 0.0
        found: list[Cookie] = []
        expired: list[Key] = []
        for key, cookie in cookies.items():
            if cookie.expires is not None:
                at = at or time.time()
                if cookie.expires <= at:
                    expired.append(key)
                    continue
            if cookie.matches(https, host, path):
                found.append(cookie)
        for key in expired:
            self._drop(key)
        if not found:
            return None
        found.sort(key=lambda c: -len(c.path))
        return "; ".join(f"{c.name}={c.value}" for c in found)


def _size(cookie: Cookie) -> int:
    return len(cookie.name) + len(cookie.value)


def parse_set_cookie(line: str, host: str, path: str, at: float) -> Cookie | None:
    """One `Set-Cookie` value as the jar stores it, or None when a client must ignore it."""
    pair, _, attributes = line.partition(";")
    name, eq, value = pair.partition("=")
    name, value = name.strip(), value.strip()
    if not eq or not name or len(name) + len(value) > MAX_COOKIE_BYTES:
        return None
    if any(c in _BAD for c in name + value):
        return None
    domain = ""
    cookie_path = ""
    expires: float | None = None
    max_age: float | None = None
    secure = False
    for attribute in attributes.split(";"):
        key, _, raw = attribute.partition("=")
        key, raw = key.strip().lower(), raw.strip()
        if key == "expires":
            parsed = http2time(raw)
            if parsed is not None:
                expires = float(parsed)
        elif key == "max-age":
            if _DELTA.fullmatch(raw):
                max_age = float(raw)
        elif key == "domain":
            if raw:
                domain = raw.lstrip(".").lower()
        elif key == "path":
            cookie_path = raw if raw.startswith("/") else ""
        elif key == "secure":
            secure = True
    if max_age is not None:
        expires = at + max_age if max_age > 0 else 0.0
    host = host.lower()
    if domain:
        if not domain_matches(host, domain):
            return None  # a server may not set cookies for another site
        host_only = False
    else:
        domain, host_only = host, True
    return Cookie(
        name, value, domain, host_only, cookie_path or default_path(path), expires, secure
    )


def domain_matches(host: str, domain: str) -> bool:
    """RFC 6265 5.1.3: equal, or `host` ends with `.domain` and is a name, not an IP address."""
    if host == domain:
        return True
    return host.endswith("." + domain) and not _is_ip(host)


def _is_ip(host: str) -> bool:
    return ":" in host or host.replace(".", "").isdigit()


def path_matches(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 5.1.4."""
    if request_path == cookie_path:
        return True
    if not request_path.startswith(cookie_path):
        return False
    return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"


def default_path(request_path: str) -> str:
    """RFC 6265 5.1.4: the request path's directory (`/a/b/c` → `/a/b`), or `/`."""
    query = request_path.find("?")
    if query >= 0:
        request_path = request_path[:query]
    if not request_path.startswith("/"):
        return "/"
    slash = request_path.rfind("/")
    return "/" if slash == 0 else request_path[:slash]
