"""The load generator's own health in result.json (`scenario.generator`) and the line the
console and the Markdown summary print about it.

Latency is timed from when a request was due, so a generator that runs short of CPU shows up
as latency the system never caused. Every result therefore says how busy the generator was
(its busiest worker's share of a core, per second) and how far behind schedule it started
iterations; a run whose generator was saturated, or close to it, says so next to its figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Protocol

BUSY_CPU: Final = 0.9
"""A worker busier than this share of a core in a second was near saturation in it: its event
loop had no slack left, and any more load would have queued behind it."""
LATE_SHARE: Final = 0.01
"""More late starts than this share of iterations and the schedule was not kept."""


class GeneratorSecond(Protocol):
    """What the controller knows of the generator in one merged second (`SecondStats`)."""

    @property
    def lag_ms(self) -> float: ...

    @property
    def cpu(self) -> float: ...


def generator_dict(
    seconds: Sequence[GeneratorSecond], iterations: int, late_starts: int, saturated: bool
) -> dict[str, Any]:
    """result.json `scenario.generator`."""
    cpu = [s.cpu for s in seconds]
    lag = [s.lag_ms for s in seconds]
    busy = sum(1 for c in cpu if c >= BUSY_CPU)
    late_share = late_starts / iterations if iterations else 0.0
    return {
        "cpu_max": round(max(cpu, default=0.0), 3),
        "cpu_mean": round(sum(cpu) / len(cpu), 3) if cpu else 0.0,
        "busy_seconds": busy,
        "lag_max_ms": round(max(lag, default=0.0), 3),
        "late_starts": late_starts,
        "late_share": round(late_share, 6),
        "saturated": saturated,
        "near_saturation": not saturated and (busy > 0 or late_share > LATE_SHARE),
    }


def generator_note(scenario: Mapping[str, Any]) -> str | None:
    """One line for a saturated or nearly saturated generator; None for a healthy one."""
    generator = scenario.get("generator")
    if not isinstance(generator, Mapping):
        return None
    figures = (
        f"busiest worker {generator.get('cpu_max', 0.0):.0%} of a core, "
        f"{generator.get('busy_seconds', 0)} s at or above {BUSY_CPU:.0%}; "
        f"worst start lag {generator.get('lag_max_ms', 0.0):.1f} ms; "
        f"{generator.get('late_share', 0.0):.2%} of iterations started late"
    )
    if generator.get("saturated"):
        return f"generator saturated ({figures}): the measurement failed, not the system"
    if generator.get("near_saturation") and not generator.get("busy_seconds"):
        # late, yet never busy: the host gave the generator too little CPU, not the load
        return (
            f"generator held back by its host ({figures}): the workers were not busy, so other "
            "work on this machine delayed them; latencies may include that delay"
        )
    if generator.get("near_saturation"):
        return (
            f"generator near saturation ({figures}): latencies may include the generator's own "
            "delay; give it more CPU or workers"
        )
    return None
