"""`--cluster` for the command line: connect once, size the run to the cluster, and show the
layout in `contval plan` (nodes, CPUs, workers per node, rate or users per worker).

Imports `ray` only through `ray_controller.connect`, i.e. only when `--cluster` is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from contval.engine.ray_controller import ClusterUnavailable, cluster_nodes, placement
from contval.spec.models import Suite


@dataclass(frozen=True)
class Layout:
    address: str
    nodes: list[dict[str, Any]]  # alive nodes: node_id, host, cpu
    workers: int
    per_node: int | None

    @property
    def cpus(self) -> int:
        return int(sum(n["cpu"] for n in self.nodes))

    def shares(self) -> list[int]:
        usable = [n for n in self.nodes if n["cpu"] >= 1]
        return placement(self.workers, len(usable), self.per_node)


def layout(address: str, workers: int | None, per_node: int | None) -> Layout:
    """The cluster's nodes and the number of workers a run starts on it: `--workers`, else
    `--workers-per-node` on every node, else one per CPU of the cluster. `ClusterUnavailable`
    when Ray is missing or the cluster cannot be reached, or is too small."""
    nodes = cluster_nodes(address)
    usable = [n for n in nodes if n["cpu"] >= 1]
    if not usable:
        raise ClusterUnavailable(f"the Ray cluster at {address} has no node with a free CPU", 3)
    count = workers or (per_node * len(usable) if per_node else int(sum(n["cpu"] for n in usable)))
    found = Layout(address, nodes, max(1, count), per_node)
    cpus = int(sum(n["cpu"] for n in usable))
    widest = int(max(n["cpu"] for n in usable))
    if per_node and per_node > widest:
        raise ClusterUnavailable(
            f"--workers-per-node {per_node}: no node of the Ray cluster at {address} has "
            f"that many CPUs (the most is {widest}; one per worker)",
            2,
        )
    if found.workers > cpus:
        raise ClusterUnavailable(
            f"--workers {found.workers}: the Ray cluster at {address} has {cpus} CPU(s) on "
            f"{len(usable)} node(s) (one per worker): add nodes, or lower --workers",
            2,
        )
    if per_node and len(found.shares()) > len(usable):
        raise ClusterUnavailable(
            f"--workers {found.workers} at --workers-per-node {per_node} needs "
            f"{len(found.shares())} nodes; the Ray cluster at {address} has {len(usable)}",
            2,
        )
    return found


def check_fits(found: Layout, suite: Suite, scenarios: Sequence[str]) -> None:
    """`ClusterUnavailable` (a bad option, 2) when a scenario runs more workloads side by side
    than the run has workers: on a cluster each workload needs a worker (a CPU) of its own."""
    for name in scenarios:
        parts = len(suite.scenarios[name].parts())
        if parts > found.workers:
            raise ClusterUnavailable(
                f"--cluster {found.address}: scenario `{name}` runs {parts} workloads side by "
                f"side, each on a worker (a CPU) of its own at least, and the run has "
                f"{found.workers} worker(s): add nodes, or raise --workers",
                2,
            )


def cluster_plan(found: Layout, plan: dict[str, Any]) -> dict[str, Any]:
    """The `cluster` entry of `contval plan --json`: one `per_worker` row per workload of each
    scenario (its own, then those `alongside`, which share the cluster's workers)."""
    per_worker = []
    for scenario in plan["scenarios"]:
        own = {**scenario, "name": scenario["workload"]}
        for part in (own, *scenario["alongside"]):
            used = max(1, len(part["workers"]))
            values = [p.get("rate", p.get("vus", 0)) for p in part["profile"]]
            peak = max(values, default=0)
            per_worker.append(
                {
                    "scenario": scenario["name"],
                    "workload": part["name"],
                    "alongside": part is not own,
                    "workers": used,
                    "peak_rate_per_worker": peak / used if part["model"] == "open" else None,
                    "max_vus_per_worker": max((w["max_vus"] for w in part["workers"]), default=0),
                }
            )
    return {
        "address": found.address,
        "nodes": found.nodes,
        "cpus": found.cpus,
        "workers": found.workers,
        "workers_per_node": found.shares(),
        "placement": "one bundle per node (STRICT_SPREAD)" if found.per_node else "SPREAD",
        "per_worker": per_worker,
    }


def render_cluster(data: dict[str, Any]) -> str:
    """The cluster section of `contval plan --cluster`."""
    shares = data["workers_per_node"]
    lines = [
        f"Ray cluster {data['address']}: {len(data['nodes'])} node(s), {data['cpus']} CPU(s); "
        f"{data['workers']} worker(s), {'/'.join(map(str, shares))} per node ({data['placement']})"
    ]
    for node in data["nodes"]:
        lines.append(f"  node {node['host']} ({node['node_id'][:12]}): {node['cpu']:g} CPU(s)")
    for row in data["per_worker"]:
        rate = row["peak_rate_per_worker"]
        what = (
            f"peak {rate:.1f}/s per worker" if rate is not None else "closed model"
        ) + f", up to {row['max_vus_per_worker']} VUs per worker"
        who = f"scenario {row['scenario']}"
        if row["alongside"]:
            who = f"  alongside {row['workload']}"
        lines.append(f"  {who}: {row['workers']} worker(s), {what}")
    return "\n".join(lines)
