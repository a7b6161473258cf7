"""Toxics: the faults a link can carry, validated from control-API JSON.

A toxic is plain data plus two counters (hits, expiry). Validation lives here, away from the
sockets, so a bad request is refused with a precise message before anything touches a link.
Params use base units (seconds, bytes, bytes/second) as the control contract fixes them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Final

LATENCY: Final = "latency"
BANDWIDTH: Final = "bandwidth"
RESET: Final = "reset"
REFUSE: Final = "refuse"
BLACKHOLE: Final = "blackhole"
SLICER: Final = "slicer"
HTTP_ERROR: Final = "http-error"
HTTP_DELAY: Final = "http-delay"

# Toxics that reshape the byte stream of a direction (data is held, then released in order).
SHAPERS: Final = frozenset({LATENCY, BANDWIDTH, SLICER})
# Toxics decided per request on the client → upstream direction.
HTTP_AWARE: Final = frozenset({HTTP_ERROR, HTTP_DELAY})

DIRECTIONS: Final = ("downstream", "upstream", "both")
MAX_LEASE: Final = 3600.0
DEFAULT_LEASE: Final = 30.0

# type → {param: (required, default, minimum, maximum, integer)}
_Spec = tuple[bool, float, float, float, bool]
PARAMS: Final[dict[str, dict[str, _Spec]]] = {
    LATENCY: {"delay": (True, 0.0, 0.0, 3600.0, False), "jitter": (False, 0.0, 0.0, 3600.0, False)},
    BANDWIDTH: {"rate": (True, 0.0, 1.0, 1e12, False)},
    RESET: {},
    REFUSE: {},
    BLACKHOLE: {},
    SLICER: {"size": (False, 64, 1, 1 << 24, True), "delay": (False, 0.01, 0.0, 60.0, False)},
    HTTP_ERROR: {"status": (True, 0, 400, 599, True)},
    HTTP_DELAY: {"delay": (True, 0.0, 0.0, 3600.0, False)},
}

_serials = itertools.count(1)


class ToxicError(ValueError):
    """A toxic description the proxy refuses (HTTP 400 with this message)."""


@dataclass(slots=True, eq=False)
class Toxic:
    """One active fault on one link; `serial` tells a re-added id apart from its predecessor."""

    id: str
    type: str
    params: dict[str, float]
    direction: str
    fraction: float
    lease: float
    expires_at: float
    hits: int = 0
    serial: int = field(default_factory=lambda: next(_serials))

    @property
    def upstream(self) -> bool:
        """Acts on client → upstream bytes (requests)."""
        return self.direction != "downstream"

    @property
    def downstream(self) -> bool:
        """Acts on upstream → client bytes (responses)."""
        return self.direction != "upstream"

    def renew(self, lease: float, now: float) -> None:
        """Extend the lease from now: a controller that stops renewing loses the toxic."""
        self.lease = lease
        self.expires_at = now + lease

    def to_json(self, now: float) -> dict[str, Any]:
        """The TOXIC object of the control contract."""
        return {
            "id": self.id,
            "type": self.type,
            "params": dict(self.params),
            "direction": self.direction,
            "fraction": self.fraction,
            "lease": self.lease,
            "expires_in": round(max(0.0, self.expires_at - now), 3),
            "hits": self.hits,
        }


def _number(value: object, what: str) -> float:
    """A finite JSON number; booleans are not numbers even though Python says they are."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ToxicError(f"{what} must be a number, got {value!r}")
    return float(value)


def _ranged(value: object, what: str, low: float, high: float) -> float:
    number = _number(value, what)
    if not low <= number <= high:
        raise ToxicError(f"{what} must be between {low:g} and {high:g}, got {number:g}")
    return number


def parse_params(kind: str, raw: object) -> dict[str, float]:
    """Check a type's params (unknown or missing ones are errors) and fill defaults."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ToxicError("params must be an object")
    spec = PARAMS[kind]
    unknown = sorted(set(raw) - set(spec))
    if unknown:
        allowed = ", ".join(spec) or "none"
        raise ToxicError(f"unknown param(s) for {kind}: {', '.join(unknown)} (allowed: {allowed})")
    params: dict[str, float] = {}
    for name, (required, default, low, high, integer) in spec.items():
        if name not in raw:
            if required:
                raise ToxicError(f"{kind} needs param {name!r}")
            params[name] = default
            continue
        value = _ranged(raw[name], f"params.{name}", low, high)
        if integer and not value.is_integer():
            raise ToxicError(f"params.{name} must be an integer, got {value:g}")
        params[name] = int(value) if integer else value
    return params


def parse_lease(raw: object) -> float:
    """A lease in seconds: positive and capped, so a fault can never be made permanent."""
    if raw is None:
        return DEFAULT_LEASE
    lease = _number(raw, "lease")
    if not 0 < lease <= MAX_LEASE:
        raise ToxicError(f"lease must be > 0 and <= {MAX_LEASE:g} seconds, got {lease:g}")
    return lease


def parse_toxic(body: object, now: float) -> Toxic:
    """Build a toxic from a POST body, or raise ToxicError saying what is wrong."""
    if not isinstance(body, dict):
        raise ToxicError("body must be a JSON object")
    toxic_id = body.get("id")
    if not isinstance(toxic_id, str) or not toxic_id or "/" in toxic_id:
        raise ToxicError("id must be a non-empty string without '/'")
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in PARAMS:
        raise ToxicError(f"unknown type {kind!r} (known: {', '.join(PARAMS)})")
    direction = body.get("direction", "downstream")
    if not isinstance(direction, str) or direction not in DIRECTIONS:
        raise ToxicError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    fraction = _ranged(body.get("fraction", 1.0), "fraction", 0.0, 1.0)
    lease = parse_lease(body.get("lease"))
    return Toxic(
        id=toxic_id,
        type=kind,
        params=parse_params(kind, body.get("params")),
        direction=direction,
        fraction=fraction,
        lease=lease,
        expires_at=now + lease,
    )
