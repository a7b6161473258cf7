"""Chaos targets: the only things on this machine a fault may touch.

A target's kind is the one key that names it (`proxy:`, `process:`, `host:`), like steps, so an
error names one kind. Addresses must be loopback: contval injects faults only on the machine it
runs on, and a typo must never point a fault at someone else's host.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from contval.spec.types import Frozen, Name

LOOPBACK_HELP: Final = "faults only touch this machine (127.0.0.0/8, ::1 or localhost)"
_ADDRESS = re.compile(r"(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:\s\[\]]+)):(?P<port>\d{1,5})")


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine: `localhost`, 127.0.0.0/8 or ::1 (no DNS lookups)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Address(Frozen):
    """`host:port` on this machine (`[::1]:9101` for IPv6); `text` is what the user wrote."""

    text: str
    host: str
    port: int

    def __str__(self) -> str:
        return self.text


def _address(value: Any) -> Any:
    if isinstance(value, Address) or not isinstance(value, str):
        return value
    match = _ADDRESS.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"invalid address {value!r}; expected host:port, e.g. 127.0.0.1:9101")
    host = match["v6"] or match["host"]
    port = int(match["port"])
    if not 1 <= port <= 65535:
        raise ValueError(f"invalid port {port} in {value!r}; expected 1 to 65535")
    if not is_loopback(host):
        raise ValueError(f"refused: `{value}` is not a loopback address; {LOOPBACK_HELP}")
    return Address(text=value.strip(), host=host, port=port)


HostPort = Annotated[
    Address,
    BeforeValidator(_address),
    WithJsonSchema(
        {
            "type": "string",
            "description": "host:port on this machine",
            "examples": ["127.0.0.1:9101"],
        }
    ),
]


class ProxyLink(Frozen):
    """A link through the fault proxy: clients dial `listen`, the proxy forwards to `upstream`."""

    listen: HostPort = Field(description="where the proxy listens (what the client dials)")
    upstream: HostPort = Field(description="where it forwards to (the real service)")

    @model_validator(mode="after")
    def _not_a_loop(self) -> ProxyLink:
        if (self.listen.host, self.listen.port) == (self.upstream.host, self.upstream.port):
            raise ValueError("a proxy link must not forward to its own `listen` address")
        return self


class ProxyTarget(Frozen):
    """Network faults between two components, applied by contval's fault proxy."""

    kind: ClassVar[str] = "proxy"
    proxy: ProxyLink


class ProcessSelector(Frozen):
    """How to find the process at fault time: a pidfile, a key in a JSON state file, or a
    command-line match. Found when the fault starts, so a restarted process is found again."""

    pidfile: Path | None = Field(
        default=None, description="a file holding the PID (relative to the suite)"
    )
    state_file: Path | None = Field(
        default=None, description="a JSON file whose `KEY.pid` is the PID (relative to the suite)"
    )
    key: Name | None = Field(
        default=None, description="the entry of `state_file` naming the process"
    )
    match: str | None = Field(
        default=None, min_length=1, description="a substring of exactly one process's command line"
    )

    @field_validator("pidfile", "state_file")
    @classmethod
    def _relative_to_suite(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        """Resolve against the suite's directory, so runs work from any working directory."""
        base = (info.context or {}).get("base_dir")
        if value is None or base is None or value.is_absolute():
            return value
        return Path(base) / value

    @model_validator(mode="after")
    def _one_way(self) -> ProcessSelector:
        ways = [w for w in (self.pidfile, self.state_file, self.match) if w is not None]
        if len(ways) != 1:
            raise ValueError(
                "a process target needs exactly one of `pidfile`, `state_file` (with `key`) "
                "or `match`"
            )
        if (self.state_file is None) != (self.key is None):
            raise ValueError("`state_file` and `key` go together: the PID is at KEY.pid")
        return self


class ProcessTarget(Frozen):
    """A local process that faults signal (kill, pause)."""

    kind: ClassVar[str] = "process"
    process: ProcessSelector


def _local_host(value: Any) -> Any:
    if value == "local" or not isinstance(value, str):
        return value
    if is_loopback(value):
        raise ValueError(f"write `host: local` for this machine, not `{value}`")
    raise ValueError(f"refused: host `{value}` is not this machine; {LOOPBACK_HELP}")


class HostTarget(Frozen):
    """This machine as a whole (CPU and memory pressure, netem on the loopback device)."""

    kind: ClassVar[str] = "host"
    host: Annotated[Literal["local"], BeforeValidator(_local_host)]


TARGET_KINDS: Final = ("proxy", "process", "host")


def _target_kind(value: Any) -> str | None:
    """The tag of a chaos target: the first of its keys that names a kind."""
    if isinstance(value, dict):
        return next((kind for kind in TARGET_KINDS if kind in value), None)
    return getattr(value, "kind", None)


ChaosTarget = Annotated[
    Annotated[ProxyTarget, Tag("proxy")]
    | Annotated[ProcessTarget, Tag("process")]
    | Annotated[HostTarget, Tag("host")],
    Discriminator(
        _target_kind,
        custom_error_type="target_kind",
        custom_error_message="a chaos target needs one of `proxy`, `process` or `host`",
    ),
]
