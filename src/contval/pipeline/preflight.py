"""Before any load: every target a scenario will use must accept connections, or the run fails
fast (exit 3) naming the target, instead of reporting a wall of connection errors."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from contval.spec import IncludeStep, Suite


def flows_used(suite: Suite, scenario: str) -> set[str]:
    """The scenario's mix, plus every flow those include (transitively)."""
    workload = suite.workloads[suite.scenarios[scenario].workload]
    todo = list(workload.mix)
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in suite.flows:
            continue
        seen.add(name)
        todo.extend(s.include for s in suite.flows[name].steps if isinstance(s, IncludeStep))
    return seen


def targets_used(suite: Suite, scenarios: Iterable[str]) -> dict[str, str]:
    names = {suite.flows[f].target for s in scenarios for f in flows_used(suite, s)}
    return {name: str(suite.targets[name]) for name in sorted(names)}


def unreachable(targets: dict[str, str], timeout: float = 3.0) -> list[str]:
    """One message per target that refuses or does not answer a TCP connection."""
    problems = []
    for name, url in targets.items():
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((host, port), timeout=timeout):
                pass
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            problems.append(f"target `{name}` ({url}) is unreachable: {reason}")
    return problems
