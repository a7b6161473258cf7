"""The fingerprint of a scenario: which runs are alike enough to be compared at all.

In: the scenario's workload (executor, rates or users, stages, duration, mix) and those run
`alongside` it with their start times, every flow they run and every flow those include (steps,
checks, extractions, think times, polls, the target *name*), and its chaos: each entry (fault,
at, for) with the fault's type, parameters and chaos target name. Out: descriptions, target base
URLs and chaos targets' addresses (the same suite against another host compares), variables and
data feeders (environment-specific values such as credentials or file paths), thresholds
(changing a gate does not change the load), and the suite and scenario names (the store keys
runs by them already). Fields left at their defaults are dropped, so adding an optional field to
the suite format does not orphan history.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final

from contval.spec.models import Suite
from contval.spec.steps import IncludeStep

VERSION: Final = "contval/fingerprint/v1"
"""Part of the hash: a change to what goes in must never match an old fingerprint."""
LENGTH: Final = 16


def fingerprint(suite: Suite, scenario_name: str) -> str:
    """A short hex digest of `canonical(suite, scenario_name)`."""
    text = json.dumps(canonical(suite, scenario_name), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:LENGTH]


def canonical(suite: Suite, scenario_name: str) -> dict[str, Any]:
    """The document the fingerprint hashes; exposed so `baseline show` can explain a mismatch."""
    scenario = suite.scenarios[scenario_name]
    workload = suite.workloads[scenario.workload]
    side = {  # workloads side by side: only when there are any, so older fingerprints hold
        "start_time": scenario.start_time,
        "alongside": {
            name: {"start_time": part.start_time, "workload": _dump(suite.workloads[part.workload])}
            for name, part in scenario.alongside.items()
        },
    }
    return {
        "version": VERSION,
        "workload": _dump(workload),
        **(side if scenario.alongside or scenario.start_time else {}),
        "flows": {name: _dump(suite.flows[name]) for name in flows_run(suite, scenario_name)},
        "chaos": [
            {"entry": _dump(entry), "fault": _dump(suite.faults[entry.fault])}
            for entry in scenario.chaos
        ],
    }


def flows_run(suite: Suite, scenario_name: str) -> list[str]:
    """The flows of the scenario's mix and, transitively, every flow they include; sorted."""
    scenario = suite.scenarios[scenario_name]
    pending = [flow for _, w, _ in scenario.parts() for flow in suite.workloads[w].mix]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen or name not in suite.flows:
            continue
        seen.add(name)
        pending += [s.include for s in suite.flows[name].steps if isinstance(s, IncludeStep)]
    return sorted(seen)


def _dump(model: Any) -> Any:
    """JSON form under the file's own names; a top-level `description` is never workload."""
    data = model.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if isinstance(data, dict):
        data.pop("description", None)
    return data
