"""Before any load: every target a scenario will use must accept connections, or the run fails
fast (exit 3) naming the target, instead of reporting a wall of connection errors.

A target may sit behind a fault-proxy link (its URL dials the link's `listen` address, so the
load itself goes through the proxy): the run starts the proxy before this check, and the check
then also asks the link's upstream, since the proxy accepts connections even when the service
behind it is down."""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from contval.http.proxy import proxy_for
from contval.spec import IncludeStep, Suite
from contval.spec.chaostargets import Address

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
ANY_ADDRESS = frozenset({"0.0.0.0", "::", ""})


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


def unreachable(
    targets: dict[str, str], timeout: float = 3.0, proxy_env: Mapping[str, str] | None = None
) -> list[str]:
    """One message per target that refuses or does not answer a TCP connection; an https
    target that goes through HTTPS_PROXY (`proxy_env`, as the suite was loaded) dials its proxy,
    as the load does (the target's name may be one only the proxy resolves)."""
    problems = []
    for name, url in targets.items():
        host, port = host_port(url)
        chosen = proxy_for(urlsplit(url).scheme.lower(), host, port, proxy_env or {})
        if chosen is not None:
            proxy = chosen[1]
            reason = refused(proxy.host, proxy.port, timeout=timeout)
            if reason is not None:
                problems.append(
                    f"target `{name}` ({url}) goes through HTTPS_PROXY {proxy.shown}, which is"
                    f" unreachable: {reason}"
                )
            continue
        reason = refused(host, port, timeout=timeout)
        if reason is not None:
            problems.append(f"target `{name}` ({url}) is unreachable: {reason}")
    return problems


def refused(host: str, port: int, timeout: float = 3.0) -> str | None:
    """Why a TCP connection to host:port fails; None when it connects."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def host_port(url: str) -> tuple[str, int]:
    """(host, port) a target URL dials; the scheme's port when the URL names none."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _same_address(dialed: tuple[str, int], listen: tuple[str, int]) -> bool:
    (host, port), (l_host, l_port) = dialed, listen
    if port != l_port:
        return False
    loopback = host in LOOPBACK_NAMES and l_host in LOOPBACK_NAMES
    return host == l_host or l_host in ANY_ADDRESS or (loopback and "localhost" in (host, l_host))


def behind_links(suite: Suite, targets: dict[str, str]) -> list[tuple[str, str, Address]]:
    """(target, link, upstream) for every target whose URL dials a proxy link's `listen`."""
    found = []
    for name, url in targets.items():
        for link, chaos_target in suite.chaos_targets.items():
            proxy = getattr(chaos_target, "proxy", None)
            if proxy is not None and _same_address(
                host_port(url), (proxy.listen.host, proxy.listen.port)
            ):
                found.append((name, link, proxy.upstream))
    return found


def reachability_problems(suite: Suite, scenarios: Iterable[str]) -> list[str]:
    """unreachable() for the scenarios' targets, plus the upstream of each link they sit behind."""
    targets = targets_used(suite, scenarios)
    problems = unreachable(targets, proxy_env=suite.environment.proxy_env)
    for name, link, upstream in behind_links(suite, targets):
        reason = refused(upstream.host, upstream.port)
        if reason is not None:
            problems.append(
                f"target `{name}` sits behind fault-proxy link `{link}`, whose upstream "
                f"{upstream} is unreachable: {reason}"
            )
    return problems
