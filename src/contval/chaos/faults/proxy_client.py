"""A small synchronous client for the fault proxy's control API (docs/chaos-internals.md).

Synchronous and short-timed on purpose: it is called from the fault timeline and from the
guard, where a hung proxy must turn into a clear error within seconds, not a stuck run.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

from contval.chaos.faults.base import FaultError

DEFAULT_CONTROL = "127.0.0.1:8474"


class ProxyUnavailable(FaultError):
    """Nothing answers on the control address."""


class ProxyRequestError(FaultError):
    """The proxy answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ProxyClient:
    """Calls one proxy's control API; every call opens a fresh connection (they are rare)."""

    def __init__(self, control: str = DEFAULT_CONTROL, timeout: float = 2.0) -> None:
        host, _, port = control.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"control address must be HOST:PORT, got {control!r}")
        self.control = control
        self._host, self._port, self._timeout = host, int(port), timeout

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def links(self) -> dict[str, Any]:
        links: dict[str, Any] = self._call("GET", "/links")["links"]
        return links

    def toxics(self, link: str) -> list[dict[str, Any]]:
        """The toxics active on a link; FaultError if the proxy has no such link."""
        links = self.links()
        if link not in links:
            raise FaultError(f"the proxy at {self.control} has no link {link!r}")
        toxics: list[dict[str, Any]] = links[link].get("toxics", [])
        return toxics

    def add_toxic(self, link: str, toxic: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/links/{link}/toxics", toxic)

    def renew(self, link: str, toxic_id: str, lease: float) -> dict[str, Any]:
        return self._call("POST", f"/links/{link}/toxics/{toxic_id}/renew", {"lease": lease})

    def delete(self, link: str, toxic_id: str) -> bool:
        """Drop a toxic; False when it was already gone (which callers treat as reverted)."""
        try:
            self._call("DELETE", f"/links/{link}/toxics/{toxic_id}")
        except ProxyRequestError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        try:
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            status, raw = response.status, response.read()
        except (ConnectionRefusedError, TimeoutError, OSError) as exc:
            raise ProxyUnavailable(
                f"no fault proxy at {self.control} ({type(exc).__name__}: {exc}): "
                "start it with `contval proxy SUITE`"
            ) from None
        finally:
            conn.close()
        data = _decode(raw)
        if status >= 400:
            error = data.get("error") if isinstance(data, dict) else None
            raise ProxyRequestError(
                status, f"proxy {method} {path}: HTTP {status}: {error or raw[:200]!r}"
            )
        return data if isinstance(data, dict) else {}


def _decode(raw: bytes) -> Any:
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {}
