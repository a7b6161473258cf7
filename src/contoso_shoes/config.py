"""Settings of the three services, and the parsing of their knobs (durations, route delays)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
_SCALE = {"ms": 0.001, "s": 1.0, "m": 60.0}


def parse_duration(text: str) -> float:
    """`250ms` → 0.25; a bare number means seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"invalid duration {text!r}: expected e.g. 250ms, 2s or 1m")
    return float(match.group(1)) * _SCALE[match.group(2) or "s"]


@dataclass(frozen=True)
class RouteDelay:
    """A fixed delay added to one route, to create a known regression on purpose."""

    method: str | None  # None: every method
    path: str  # route template, e.g. /api/products/{product_id}
    seconds: float

    def matches(self, method: str, path: str) -> bool:
        return self.path == path and (self.method is None or self.method == method)


def parse_route_delays(text: str) -> tuple[RouteDelay, ...]:
    """Parse `"GET /api/products=50ms, /api/orders=200ms"` (method optional, comma-separated)."""
    delays: list[RouteDelay] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        route, sep, value = item.rpartition("=")
        if not sep or not route.strip():
            raise ValueError(f"invalid route delay {item!r}: expected [METHOD] /path=DURATION")
        parts = route.split()
        if len(parts) == 1:
            method, path = None, parts[0]
        elif len(parts) == 2:
            method, path = parts[0].upper(), parts[1]
        else:
            raise ValueError(f"invalid route {route!r}: expected [METHOD] /path")
        if not path.startswith("/"):
            raise ValueError(f"invalid route {route!r}: the path must start with /")
        delays.append(RouteDelay(method, path, parse_duration(value)))
    return tuple(delays)


@dataclass(frozen=True)
class PaymentsLink:
    """How the shop and the worker reach Payments: timeout, bounded retries, circuit breaker."""

    url: str
    timeout: float = 1.0
    retries: int = 2
    backoff: float = 0.05
    breaker_failures: int = 5
    breaker_reset: float = 5.0

    @classmethod
    def from_env(cls, url: str | None = None) -> PaymentsLink:
        env = os.environ
        return cls(
            url=(url or env.get("PAYMENTS_URL", "http://127.0.0.1:9100")).rstrip("/"),
            timeout=parse_duration(env.get("PAYMENTS_TIMEOUT", "1s")),
            retries=int(env.get("PAYMENTS_RETRIES", "2")),
            backoff=parse_duration(env.get("PAYMENTS_BACKOFF", "50ms")),
            breaker_failures=int(env.get("PAYMENTS_BREAKER_FAILURES", "5")),
            breaker_reset=parse_duration(env.get("PAYMENTS_BREAKER_RESET", "5s")),
        )


@dataclass(frozen=True)
class ShopSettings:
    db_path: str
    payments: PaymentsLink
    route_delays: tuple[RouteDelay, ...] = field(default=())
    max_body_bytes: int = 1024 * 1024

    def delay_for(self, method: str, path: str) -> float:
        return sum(d.seconds for d in self.route_delays if d.matches(method, path))
