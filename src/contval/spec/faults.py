"""Faults: what to break, on which chaos target, with parameters in base units.

Tagged on `type`, one model per fault type, so a typo in one fault's parameters is reported
against that type only. Each model says which chaos target kinds it fits (`target_kinds`): a
proxy fault on a process would have nothing to act on, and validation says so up front.
Values are parsed once here (seconds, fractions, bytes, bytes per second); drivers never see text.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Final, Literal, get_args

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from contval.spec import units
from contval.spec.types import Bytes, Count, Frozen, Name, Percent, Seconds

Direction = Literal["downstream", "upstream", "both"]
"""downstream: upstream → client (responses, the default); upstream: client → upstream."""

Share = Annotated[Percent, Field(gt=0)]
Delay = Annotated[Seconds, Field(gt=0)]
PROXY: Final = ("proxy",)


def _bytes_per_second(value: Any) -> Any:
    """`100kB` or `100kB/s`: a bandwidth is a size per second."""
    if isinstance(value, str):
        text = value.strip()
        return units.parse_size(text.removesuffix("/s").rstrip())
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise units.UnitError(f"bandwidth {value} has no unit; expected e.g. 100kB (per second)")
    return value


BytesPerSecond = Annotated[
    int,
    BeforeValidator(_bytes_per_second),
    Field(gt=0),
    WithJsonSchema(
        {"type": "string", "description": "bytes per second, e.g. 100kB", "examples": ["100kB"]}
    ),
]


class FaultBase(Frozen):
    """Fields every fault has."""

    target_kinds: ClassVar[tuple[str, ...]]
    target: Name = Field(description="the name of a chaos target under `chaos_targets`")
    description: str | None = None


class ProxyFault(FaultBase):
    """Faults applied by the fault proxy on a link; `fraction` is the share of connections
    (or, for HTTP faults, requests) affected."""

    target_kinds: ClassVar[tuple[str, ...]] = PROXY
    fraction: Share = Field(default=1.0, description="share of connections or requests affected")


class Latency(ProxyFault):
    """Delay data on the link by `delay` ± `jitter`."""

    type: Literal["latency"]
    delay: Delay
    jitter: Seconds = 0.0
    direction: Direction = "downstream"


class Bandwidth(ProxyFault):
    """Throttle the link to `rate` bytes per second."""

    type: Literal["bandwidth"]
    rate: BytesPerSecond = Field(description="bytes per second, written as a size: 100kB")
    direction: Direction = "downstream"


class Reset(ProxyFault):
    """Reset connections (TCP RST): the client sees `connection reset`."""

    type: Literal["reset"]


class Refuse(ProxyFault):
    """Refuse new connections: the client sees `connection refused`."""

    type: Literal["refuse"]


class Blackhole(ProxyFault):
    """Accept, then never answer: the client sees a timeout."""

    type: Literal["blackhole"]


class Slicer(ProxyFault):
    """Cut data into `size`-byte pieces sent `delay` apart (exercises partial reads)."""

    type: Literal["slicer"]
    size: Annotated[Bytes, Field(gt=0)] = 64
    delay: Seconds = 0.01
    direction: Direction = "downstream"


class HttpError(ProxyFault):
    """Answer a `fraction` of requests with `status` instead of forwarding them."""

    type: Literal["http-error"]
    status: Annotated[Count, Field(ge=400, le=599)]


class HttpDelay(ProxyFault):
    """Hold a `fraction` of requests for `delay` before forwarding them."""

    type: Literal["http-delay"]
    delay: Delay


Signal = Literal["SIGKILL", "SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGABRT"]
SIGNALS: Final = get_args(Signal)


class Kill(FaultBase):
    """Send `signal` to the process (it is expected to be restarted by its supervisor)."""

    target_kinds: ClassVar[tuple[str, ...]] = ("process",)
    type: Literal["kill"]
    signal: Signal = "SIGKILL"


class Pause(FaultBase):
    """Freeze the process (SIGSTOP), then resume it (SIGCONT) when the fault ends."""

    target_kinds: ClassVar[tuple[str, ...]] = ("process",)
    type: Literal["pause"]


class Cpu(FaultBase):
    """Load the CPUs with stress-ng: `workers` workers each busy `load` of the time."""

    target_kinds: ClassVar[tuple[str, ...]] = ("host",)
    type: Literal["cpu"]
    load: Share = Field(default=1.0, description="how busy each worker keeps its CPU")
    workers: Annotated[Count, Field(gt=0)] | None = Field(
        default=None, description="stress-ng workers; default: one per core"
    )


class Memory(FaultBase):
    """Hold `size` bytes of memory with stress-ng."""

    target_kinds: ClassVar[tuple[str, ...]] = ("host",)
    type: Literal["memory"]
    size: Annotated[Bytes, Field(gt=0)]


class Netem(FaultBase):
    """Kernel network emulation (tc netem): packet loss and delay. Needs root; skipped with a
    clear message otherwise."""

    target_kinds: ClassVar[tuple[str, ...]] = ("proxy", "host")
    type: Literal["netem"]
    loss: Percent = 0.0
    delay: Seconds = 0.0
    jitter: Seconds = 0.0

    @model_validator(mode="after")
    def _does_something(self) -> Netem:
        if not self.loss and not self.delay:
            raise ValueError("a netem fault needs `loss` or `delay`")
        if self.jitter and not self.delay:
            raise ValueError("netem `jitter` varies `delay`; set `delay` too")
        return self


Fault = Annotated[
    Latency
    | Bandwidth
    | Reset
    | Refuse
    | Blackhole
    | Slicer
    | HttpError
    | HttpDelay
    | Kill
    | Pause
    | Cpu
    | Memory
    | Netem,
    Field(discriminator="type"),
]
FAULT_TYPES: Final = (
    "latency",
    "bandwidth",
    "reset",
    "refuse",
    "blackhole",
    "slicer",
    "http-error",
    "http-delay",
    "kill",
    "pause",
    "cpu",
    "memory",
    "netem",
)
"""Every `type` a fault may have, for messages (a test keeps it in step with `Fault`)."""
