"""The Ray controller: a scenario's workers as Ray actors on a cluster, merged exactly like local
worker processes (`LocalController`, whose merge this reuses: per-second HDR snapshots, a second
complete when every live worker has reported it).

Each worker is an actor with one CPU, placed by a placement group (SPREAD, or one bundle per
node with `workers_per_node`); it runs the local worker's event loop on a thread of its own
(`engine.ray_worker`). The controller long-polls every actor for its queued messages, renews
each actor's lease from a heartbeat thread, and treats an actor that dies or goes silent as a
lost worker: the run stops, naming the worker's node; or, with the scenario's
`on_worker_loss: continue`, goes on with the survivors and records what was lost
(`engine.ray_loss`).

This is the only place (with `ray_worker`) that imports `ray`; a local run never does.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from contval.engine import messages as msg
from contval.engine.local import LocalController, OnSecond, OnTick, RunOutcome, WorkerFailed
from contval.engine.ray_loss import Loss, lost_share, policy
from contval.engine.warmup import warm_collection

INSTALL = "pip install 'contval[ray]'"
START_DELAY = 0.5  # seconds between "all ready" and the common start (remote calls included)
READY_TIMEOUT = 120.0
POLL_WAIT = 0.25  # an actor answers a poll at least this often, with or without messages
SILENCE_S = 1.5  # an actor that has not answered a poll for this long is lost (node down)
HEARTBEAT_S = 0.5  # how often the controller renews every actor's lease
STOP_TIMEOUT = 10.0  # after a stop, a worker that has not finished by then is given up
TICK = 0.05
NAMESPACE = "contval"
"""Ray namespace of the worker actors, named `<run token>-w<index>` (`ray list actors` shows
which node each one runs on)."""


class ClusterUnavailable(Exception):
    """Ray is missing (`code` 2: a bad option) or the cluster cannot be reached (3)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def connect(address: str) -> Any:
    """`ray`, connected to the cluster at `address` (auto, HOST:PORT or ray://HOST:PORT);
    `ClusterUnavailable` with a one-line reason otherwise. Connecting twice is harmless."""
    try:
        import ray
    except ImportError:
        raise ClusterUnavailable(
            f"--cluster {address} needs Ray, which is not installed: {INSTALL}", 2
        ) from None
    if ray.is_initialized():
        return ray
    if address.startswith("ray://") and importlib.util.find_spec("grpc") is None:
        raise ClusterUnavailable(
            f"--cluster {address} needs Ray Client, which is not installed: "
            f"pip install 'ray[client]=={ray.__version__}' (or run contval on a node of the "
            "cluster with --cluster auto)",
            2,
        )
    if address != "auto":
        _reachable(address)
    else:  # a head this host started earlier may be gone: check before Ray's long retries
        found = _auto_address()
        if found is not None:
            _reachable(found, f"auto ({found})")
    import logging

    try:
        ray.init(
            address=address,
            logging_level=logging.ERROR,
            log_to_driver=False,
            configure_logging=True,
        )
    except Exception as exc:  # ConnectionError, RuntimeError, ValueError: all one answer
        detail = " ".join(str(exc).split())[:300]
        raise ClusterUnavailable(
            f"could not connect to the Ray cluster at {address}: {detail} "
            f"(start one with `ray start --head`; Ray itself: {INSTALL})",
            3,
        ) from None
    return ray


def _auto_address() -> str | None:
    """What `auto` means to Ray (RAY_ADDRESS, else the head last started on this host), or
    None when there is none (`ray.init` then says so at once)."""
    try:
        from ray._private.services import canonicalize_bootstrap_address

        found = canonicalize_bootstrap_address("auto")
    except Exception:  # none found, or Ray's private helper moved: let ray.init answer
        return None
    return str(found) if found else None


def _reachable(address: str, shown: str | None = None) -> None:
    """Fail fast (3 s) when nothing listens at the address, instead of Ray's long retries."""
    shown = shown or address
    hostport = address.removeprefix("ray://").rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise ClusterUnavailable(
            f"--cluster {shown}: expected auto, HOST:PORT (a head's GCS address) or "
            "ray://HOST:PORT",
            2,
        )
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=3.0):
            pass
    except OSError as exc:
        raise ClusterUnavailable(
            f"could not connect to the Ray cluster at {shown}: "
            f"{exc.strerror or type(exc).__name__} (start one with `ray start --head`, or "
            f"check the address; Ray itself: {INSTALL})",
            3,
        ) from None


def cluster_nodes(address: str) -> list[dict[str, Any]]:
    """The alive nodes of the cluster: node_id, host, cpu (for `contval plan --cluster`)."""
    ray = connect(address)
    return [
        {
            "node_id": n["NodeID"],
            "host": n["NodeManagerAddress"],
            "cpu": n["Resources"].get("CPU", 0.0),
        }
        for n in ray.nodes()
        if n["Alive"]
    ]


def placement(workers: int, nodes: int, per_node: int | None) -> list[int]:
    """Workers per node, in order: `per_node` each (the last node the rest), or spread evenly
    over `nodes` (SPREAD fills every node before a second worker lands on one)."""
    if per_node:
        full, rest = divmod(workers, per_node)
        return [per_node] * full + ([rest] if rest else [])
    nodes = max(1, min(nodes, workers))
    base, extra = divmod(workers, nodes)
    return [base + (1 if i < extra else 0) for i in range(nodes)]


@dataclass
class _Actor:
    """One worker actor; the fields `LocalController`'s merge reads are those of its peers."""

    index: int
    handle: Any
    node: dict[str, Any] = field(default_factory=dict)
    last: int = -1
    done: bool = False
    pending: Any = None  # the poll in flight
    polled: float = 0.0  # when the last poll was sent (a poll renews the lease too)
    answered: float = field(default_factory=time.monotonic)


@dataclass
class NodeFigures:
    """What the workers on one node did: the per-node view in result.json."""

    node_id: str
    host: str
    cpu: float
    workers: list[int] = field(default_factory=list)
    requests: int = 0
    errors: int = 0
    lag_ms: float = 0.0  # the worst second's
    rss_mb: float = 0.0  # the largest worker's
    lost: bool = False
    lost_at_s: float | None = None  # when its first worker was lost, after the common start
    nice: int | None = None  # the load threads' niceness (Ray's workers start at 15)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node_id": self.node_id,
            "host": self.host,
            "workers": len(self.workers),
            "cpu": self.cpu,
            "worker_indexes": self.workers,
            "requests": self.requests,
            "errors": self.errors,
            "max_lag_ms": self.lag_ms,
            "max_rss_mb": self.rss_mb,
            "lost": self.lost,
            "lost_at_s": self.lost_at_s,
            "nice": self.nice,
        }


class RayController(LocalController):
    """Workers as Ray actors; the pipeline drives it exactly as it drives local workers."""

    def __init__(
        self, jobs: list[msg.WorkerJob], address: str = "auto", per_node: int | None = None
    ) -> None:
        super().__init__(jobs)
        self.address = address
        self.per_node = per_node
        self.on_loss = policy(jobs[0]) if jobs else "stop"
        self.losses: list[Loss] = []  # workers the run went on without
        self.actors: list[_Actor] = []
        self.peers = []  # `LocalController._release` reads `last` and `done` of these
        self.nodes: dict[str, NodeFigures] = {}
        self._group: Any = None
        self._ray: Any = None
        self._beat = threading.Event()
        self._heart: threading.Thread | None = None
        self._stop_at: float | None = None

    def engine(self) -> dict[str, Any]:
        """result.json `engine`: where the workers ran and what each node did."""
        return {
            "kind": "ray",
            "address": self.address,
            "nodes": [n.to_dict() for n in self.nodes.values()],
            "on_worker_loss": self.on_loss,
            "lost_workers": [loss.to_dict() for loss in self.losses],
            "lost_share": round(sum(loss.share for loss in self.losses), 4),
        }

    def start(self) -> None:
        try:
            ray = self._ray = connect(self.address)
        except ClusterUnavailable as exc:
            raise WorkerFailed(str(exc)) from None
        from ray.util.placement_group import placement_group
        from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

        from contval.engine.ray_worker import RayWorker

        shares = self._bundles(ray)
        if self.per_node:
            bundles = [{"CPU": float(n)} for n in shares]
            self._group = placement_group(bundles, strategy="STRICT_SPREAD")
            where = [i for i, n in enumerate(shares) for _ in range(n)]
        else:
            self._group = placement_group([{"CPU": 1.0}] * len(self.jobs), strategy="SPREAD")
            where = list(range(len(self.jobs)))
        ready = self._group.ready()
        warm_collection()  # while the cluster places the workers: not in the load's first second
        done, _ = ray.wait([ready], timeout=READY_TIMEOUT)
        if not done:
            raise WorkerFailed(
                f"the Ray cluster at {self.address} could not place {len(self.jobs)} worker(s) "
                f"({len(shares)} node(s): {shares}) in {READY_TIMEOUT:g}s"
            )
        remote = ray.remote(num_cpus=1, max_concurrency=4, max_restarts=0)(RayWorker)
        token = uuid.uuid4().hex[:8]
        for job, bundle in zip(self.jobs, where, strict=True):
            strategy = PlacementGroupSchedulingStrategy(
                self._group, placement_group_bundle_index=bundle
            )
            options = remote.options(
                scheduling_strategy=strategy,
                name=f"{token}-w{job.worker}",
                namespace=NAMESPACE,
            )
            actor = _Actor(job.worker, options.remote(job))
            self.actors.append(actor)
        self.peers = self.actors  # type: ignore[assignment]
        try:
            self._locate(ray)
            self._check_targets(ray)
            nices = ray.get([a.handle.launch.remote() for a in self.actors], timeout=READY_TIMEOUT)
            self._note_niceness(nices)
            self._heart = threading.Thread(target=self._heartbeat, daemon=True, name="ray-lease")
            self._heart.start()
            self._wait_ready()
        except WorkerFailed:
            raise
        except Exception as exc:  # an actor that could not be created, or died starting
            detail = " ".join(str(exc).split())[:500]
            raise WorkerFailed(
                f"workers could not start on the Ray cluster at {self.address}: {detail}"
            ) from None

    def _bundles(self, ray: Any) -> list[int]:
        """How many workers go to each node; fails at once when the cluster is too small."""
        workers = len(self.jobs)
        nodes = [n for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU", 0) >= 1]
        cpus = sum(int(n["Resources"].get("CPU", 0)) for n in nodes)
        shares = placement(workers, len(nodes), self.per_node)
        if workers > cpus or (self.per_node and len(shares) > len(nodes)):
            raise WorkerFailed(
                f"the Ray cluster at {self.address} has {cpus} CPU(s) on {len(nodes)} node(s); "
                f"{workers} worker(s)"
                + (f" at {self.per_node} per node" if self.per_node else "")
                + " need more: add nodes, or lower --workers"
            )
        return shares

    def _locate(self, ray: Any) -> None:
        places = ray.get([a.handle.node.remote() for a in self.actors], timeout=READY_TIMEOUT)
        for actor, place in zip(self.actors, places, strict=True):
            actor.node = place
            figures = self.nodes.setdefault(
                place["node_id"], NodeFigures(place["node_id"], place["host"], place["cpu"])
            )
            figures.workers.append(actor.index)

    def _note_niceness(self, nices: list[int | None]) -> None:
        """Each node's load threads' niceness, the highest (least favoured) of its workers."""
        for actor, nice in zip(self.actors, nices, strict=True):
            figures = self.nodes.get(actor.node.get("node_id", ""))
            if figures is not None and nice is not None:
                figures.nice = nice if figures.nice is None else max(figures.nice, nice)

    def _check_targets(self, ray: Any) -> None:
        """Each worker dials its targets from its own node before START."""
        from contval.pipeline.preflight import targets_used

        job = self.jobs[0]
        targets = targets_used(job.suite, [job.scenario])
        answers = ray.get(
            [a.handle.check_targets.remote(targets) for a in self.actors], timeout=READY_TIMEOUT
        )
        problems = [
            f"{problem} is unreachable from node {_where(actor)}"
            for actor, found in zip(self.actors, answers, strict=True)
            for problem in found
        ]
        if problems:
            raise WorkerFailed("; ".join(dict.fromkeys(problems)))

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        waiting = {a.index for a in self.actors}
        while waiting:
            if time.monotonic() > deadline:
                raise WorkerFailed(
                    f"workers {sorted(waiting)} were not ready in {READY_TIMEOUT:g}s"
                )
            for actor, messages in self._poll():
                if messages is None:
                    raise WorkerFailed(f"worker {actor.index} on node {_where(actor)} died")
                for message in messages:
                    if message[0] == msg.FAILED:
                        raise WorkerFailed(
                            f"worker {actor.index} on node {_where(actor)}: {message[1]}"
                        )
                    if message[0] == msg.READY:
                        waiting.discard(actor.index)

    def run(self, on_second: OnSecond, on_tick: OnTick | None = None) -> RunOutcome:
        start_at = time.monotonic() + START_DELAY
        self._start_at = start_at
        self._on_tick = on_tick
        wall = time.time() + START_DELAY
        self.outcome.started_at = wall
        for actor in self.actors:
            actor.answered = time.monotonic()  # silence counts from the start of the load
            actor.handle.start.remote(wall, START_DELAY)
        try:
            self._collect(on_second)
        except KeyboardInterrupt:
            self.stop("interrupted")
            self._collect(lambda series, snapshot, stats: None)
        self.outcome.elapsed = max(0.0, time.monotonic() - start_at)
        return self.outcome

    def stop(self, reason: str) -> None:
        if self._stop_sent:
            return
        self._stop_sent = True
        self._stop_at = time.monotonic()
        self.outcome.stop_reason = self.outcome.stop_reason or reason
        if self._start_at:
            self.outcome.stopped_at = max(0.0, time.monotonic() - self._start_at)
        for actor in self.actors:
            if not actor.done:
                with contextlib.suppress(Exception):
                    actor.handle.stop.remote(reason)

    def _collect(self, on_second: OnSecond) -> None:
        while not all(a.done for a in self.actors):
            for actor, messages in self._poll():
                if messages is None:
                    self._lost(actor, "its actor died")
                    continue
                for message in messages:
                    self._take(actor, message)
            self._check_silence()
            if self._on_tick is not None:
                self._on_tick(time.monotonic() - self._start_at)
            self._release(on_second)
        self._release(on_second, final=True)

    def _take(self, actor: _Actor, message: tuple[Any, ...]) -> None:
        figures = self.nodes.get(actor.node.get("node_id", ""))
        if message[0] == msg.SECOND and figures is not None:
            snapshot = message[1]
            for slot in snapshot["slots"]:
                figures.requests += int(slot["requests"])
                figures.errors += sum(slot["errors"])
            stats = message[2]
            figures.lag_ms = max(figures.lag_ms, float(stats["lag_ms"]))
            figures.rss_mb = max(figures.rss_mb, float(stats.get("rss_mb", 0.0)))
        if message[0] == msg.FAILED:
            message = (msg.FAILED, f"on node {_where(actor)}: {message[1]}")
        self._handle(actor, message)  # type: ignore[arg-type]

    def _poll(self) -> list[tuple[_Actor, list[tuple[Any, ...]] | None]]:
        """One round: a poll in flight for every live actor; the answers that came within a
        tick (None for an actor that died)."""
        ray = self._ray
        for actor in self.actors:
            if not actor.done and actor.pending is None:
                actor.pending = actor.handle.poll.remote(POLL_WAIT)
                actor.polled = time.monotonic()
        flying = {a.pending: a for a in self.actors if a.pending is not None and not a.done}
        if not flying:
            return []
        ready, _ = ray.wait(list(flying), num_returns=1, timeout=TICK)
        if ready:
            ready, _ = ray.wait(list(flying), num_returns=len(flying), timeout=0)
        answers = []
        for ref in ready:
            actor = flying[ref]
            actor.pending = None
            actor.answered = time.monotonic()
            try:
                answers.append((actor, ray.get(ref)))
            except Exception:  # RayActorError, a node gone, a worker process killed
                answers.append((actor, None))
        return answers

    def _check_silence(self) -> None:
        now = time.monotonic()
        for actor in self.actors:
            if not actor.done and now - actor.answered > SILENCE_S:
                self._lost(actor, f"it did not answer for {now - actor.answered:.1f}s")
            elif (
                not actor.done and self._stop_at is not None and now - self._stop_at > STOP_TIMEOUT
            ):
                actor.done = True
                self.outcome.failures.append(
                    f"worker {actor.index} on node {_where(actor)} did not stop in "
                    f"{STOP_TIMEOUT:g}s"
                )

    def _lost(self, actor: _Actor, why: str) -> None:
        """A worker gone mid-run: recorded, its node named, and every other worker stopped;
        with `on_worker_loss: continue` and survivors left, the run goes on without it."""
        actor.done = True
        actor.pending = None
        at = time.monotonic() - self._start_at if self._start_at else 0.0
        figures = self.nodes.get(actor.node.get("node_id", ""))
        if figures is not None:
            if not figures.lost:
                figures.lost_at_s = round(at, 3)
            figures.lost = True
        reason = f"worker {actor.index} on node {_where(actor)} was lost: {why}"
        survivors = any(not a.done for a in self.actors)
        if self.on_loss == "continue" and survivors and not self._stop_sent:
            self._go_on_without(actor, at, reason)
            return
        self.outcome.failures.append(reason)
        if self._stop_sent:
            return
        self.stop(reason)

    def _go_on_without(self, actor: _Actor, at: float, reason: str) -> None:
        """Record the loss and what it costs (the worker's share of the rest of the schedule,
        from its first second that never reached the results); the actor is ended, should it
        only be cut off, so that no load goes unmeasured."""
        job = next(j for j in self.jobs if j.worker == actor.index)
        measured_to = actor.last + 1
        share = lost_share(job, measured_to)
        node = actor.node
        self.losses.append(
            Loss(
                actor.index,
                node.get("node_id", ""),
                node.get("host", ""),
                at,
                measured_to,
                share,
                reason,
            )
        )
        self.outcome.lost.append(
            f"{reason}; the run went on without it from second {measured_to} "
            f"({share:.1%} of the planned load not driven)"
        )
        with contextlib.suppress(Exception):
            self._ray.kill(actor.handle)

    def _heartbeat(self) -> None:
        """Renew the lease of every actor not polled within a beat: while the collect loop runs
        its polls renew the leases; the beat keeps them alive while it is busy elsewhere (a
        slow callback), one remote call per actor fewer each beat otherwise."""
        while not self._beat.wait(HEARTBEAT_S):
            recent = time.monotonic() - HEARTBEAT_S
            for actor in self.actors:
                if not actor.done and actor.polled < recent:
                    with contextlib.suppress(Exception):
                        actor.handle.lease.remote()

    def close(self) -> None:
        self._beat.set()
        if self._heart is not None:
            self._heart.join(timeout=5)
        ray = self._ray
        if ray is None:
            return
        for actor in self.actors:
            with contextlib.suppress(Exception):
                ray.kill(actor.handle)
        if self._group is not None:
            from ray.util.placement_group import remove_placement_group

            with contextlib.suppress(Exception):
                remove_placement_group(self._group)


def side_by_side_engine(described: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """result.json `engine` of workloads run side by side on one cluster, from each one's
    (`RayController.engine`, by workload name): the nodes with every workload's figures added
    up (`workers_by_workload` for which of each one's workers ran there), the lost workers
    naming their workload, and `workloads`: each one's workers and own nodes."""
    nodes: dict[str, dict[str, Any]] = {}
    for name, engine in described:
        for node in engine["nodes"]:
            merged = nodes.get(node["node_id"])
            if merged is None:
                merged = nodes[node["node_id"]] = {
                    k: v for k, v in node.items() if k != "worker_indexes"
                } | {"workers_by_workload": {}}
            else:
                _add_node(merged, node)
            merged["workers_by_workload"][name] = list(node["worker_indexes"])
    first = described[0][1]
    return {
        "kind": first["kind"],
        "address": first["address"],
        "nodes": list(nodes.values()),
        "on_worker_loss": first["on_worker_loss"],
        "lost_workers": [
            {"workload": name, **loss} for name, e in described for loss in e["lost_workers"]
        ],
        "lost_share": max(e["lost_share"] for _, e in described),
        "workloads": [
            {
                "name": name,
                "workers": sum(n["workers"] for n in e["nodes"]),
                "nodes": e["nodes"],
                "lost_share": e["lost_share"],
            }
            for name, e in described
        ],
    }


def _add_node(merged: dict[str, Any], node: Mapping[str, Any]) -> None:
    """Another workload's figures of the same node added to the merged entry."""
    for key in ("workers", "requests", "errors"):
        merged[key] += node[key]
    for key in ("max_lag_ms", "max_rss_mb"):
        merged[key] = max(merged[key], node[key])
    merged["lost"] = merged["lost"] or node["lost"]
    lost_at = [t for t in (merged["lost_at_s"], node["lost_at_s"]) if t is not None]
    merged["lost_at_s"] = min(lost_at) if lost_at else None
    nice = [n for n in (merged["nice"], node["nice"]) if n is not None]
    merged["nice"] = max(nice) if nice else None


def _where(actor: _Actor) -> str:
    """A node as a person finds it: its address and the start of its Ray node id."""
    node = actor.node
    if not node:
        return "(not placed yet)"
    return f"{node['host']} ({node['node_id'][:12]})"


def local_engine(workers: int) -> dict[str, Any]:
    """result.json `engine` for a run on local worker processes."""
    return {
        "kind": "local",
        "address": None,
        "nodes": [
            {
                "node_id": "local",
                "host": socket.gethostname(),
                "workers": workers,
                "cpu": float(len(os.sched_getaffinity(0))),
            }
        ],
    }


__all__ = [
    "ClusterUnavailable",
    "RayController",
    "connect",
    "local_engine",
    "placement",
    "side_by_side_engine",
]
