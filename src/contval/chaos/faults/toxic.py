"""The shared shape of proxy faults: a toxic on a fault-proxy link, held by a lease.

A toxic lives in the proxy's memory and lapses unless contval renews its lease, so a dead
contval never leaves a broken link behind; reverting is a DELETE, and "already gone" counts
as reverted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from contval.chaos.faults.base import LeaseLapsed, Verification
from contval.chaos.faults.proxy_client import DEFAULT_CONTROL, ProxyClient, ProxyRequestError

Direction = Literal["downstream", "upstream", "both"]
DIRECTIONS = ("downstream", "upstream", "both")


@dataclass(frozen=True)
class ProxyLink:
    """A link of a running fault proxy: its name and the proxy's control address."""

    link: str
    control: str = DEFAULT_CONTROL


def new_toxic_id() -> str:
    return f"contval-{uuid.uuid4().hex[:12]}"


@dataclass(kw_only=True, eq=False)
class ToxicFault:
    """Base of every proxy fault; subclasses add their parameters and params()."""

    type_name: ClassVar[str] = ""
    link: ProxyLink
    direction: Direction = "downstream"
    fraction: float = 1.0
    lease: float = 5.0
    toxic_id: str = field(default_factory=new_toxic_id)

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}")
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction must be within 0..1, got {self.fraction}")
        if self.lease <= 0:
            raise ValueError(f"lease must be positive, got {self.lease}")
        self._client = ProxyClient(self.link.control)

    def params(self) -> dict[str, Any]:
        """The toxic's parameters in base units (seconds, bytes, bytes/second)."""
        return {}

    def undo(self) -> dict[str, Any]:
        return {
            "kind": "proxy-toxic",
            "control": self.link.control,
            "link": self.link.link,
            "toxic": self.toxic_id,
        }

    def inject(self) -> None:
        self._client.add_toxic(
            self.link.link,
            {
                "id": self.toxic_id,
                "type": self.type_name,
                "params": self.params(),
                "direction": self.direction,
                "fraction": self.fraction,
                "lease": self.lease,
            },
        )

    def renew(self) -> None:
        try:
            self._client.renew(self.link.link, self.toxic_id, self.lease)
        except ProxyRequestError as exc:
            if exc.status == 404:
                raise LeaseLapsed(
                    f"toxic {self.toxic_id} on {self.link.link} is gone: its lease lapsed "
                    f"(renew more often than every {self.lease:g}s)"
                ) from None
            raise

    def verify(self) -> Verification:
        toxic = self._find()
        if toxic is None:
            return Verification(False, f"toxic {self.toxic_id} is not listed on {self.link.link}")
        return Verification(
            True,
            f"{self.type_name} toxic {self.toxic_id} active on {self.link.link} "
            f"({toxic.get('direction', self.direction)}, hits {toxic.get('hits', 0)}, "
            f"expires in {toxic.get('expires_in', '?')}s)",
        )

    def revert(self) -> None:
        self._client.delete(self.link.link, self.toxic_id)

    def verify_reverted(self) -> Verification:
        if self.link.link not in self._client.links():
            return Verification(True, f"the proxy has no link {self.link.link}: no toxic on it")
        if self._find() is not None:
            return Verification(False, f"toxic {self.toxic_id} still listed on {self.link.link}")
        return Verification(True, f"no toxic {self.toxic_id} on {self.link.link}")

    def _find(self) -> dict[str, Any] | None:
        for toxic in self._client.toxics(self.link.link):
            if toxic.get("id") == self.toxic_id:
                return toxic
        return None


def check_non_negative(**values: float) -> None:
    """Reject negative durations and sizes early, at construction, with the field's name."""
    for name, value in values.items():
        if value < 0:
            raise ValueError(f"{name} must not be negative, got {value}")
