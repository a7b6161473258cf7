"""Every step of a scenario's result.json entry, as the step tables list them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def steps_of(scenario: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(`flow/step`, its result.json entry) for every step, skipping what is malformed."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    flows = scenario.get("flows")
    for flow_name, flow in flows.items() if isinstance(flows, Mapping) else ():
        steps = flow.get("steps") if isinstance(flow, Mapping) else None
        for step_name, step in steps.items() if isinstance(steps, Mapping) else ():
            if isinstance(step, Mapping):
                found.append((f"{flow_name}/{step_name}", step))
    return found
