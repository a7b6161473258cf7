"""The Ray controller on a real two-node cluster, driven as the pipeline drives it."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from contval.engine import messages as msg
from contval.engine.controller import Controller, SecondStats, WorkerFailed
from contval.engine.ray_controller import RayController, connect
from contval.engine.ray_worker import LEASE_S, RayWorker
from contval.metrics import Snapshot
from contval.spec import load_suite
from tests.engine.target import Target
from tests.engine.test_run import constant_rate, one_step, write_suite

ray = pytest.importorskip("ray")


def test_workers_spread_one_per_node_and_merge_exactly(
    tmp_path: Path, target: Target, cluster: str
) -> None:
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("200/s", "2s"))
    controller: Controller = RayController(msg.jobs_for(load_suite(suite), "main", 2), cluster)
    controller.start()
    try:
        outcome = controller.run(lambda series, snapshot, stats: None)
    finally:
        controller.close()
    assert outcome.failures == [] and outcome.stop_reason is None
    assert isinstance(controller, RayController)
    engine = controller.engine()
    assert engine["kind"] == "ray" and engine["address"] == cluster
    nodes = engine["nodes"]
    assert len(nodes) == 2 and [n["workers"] for n in nodes] == [1, 1]
    assert len({n["node_id"] for n in nodes}) == 2
    merged = sum(s.counters.requests for s in outcome.series.totals().select("f", "get"))
    assert merged == sum(n["requests"] for n in nodes) == target.seen.paths["/ok"] == 400
    assert all(n["requests"] == 200 and n["errors"] == 0 for n in nodes)
    # Ray starts its workers at niceness 15; the load thread runs at 0 where allowed (root here)
    assert all(n["nice"] == (0 if os.geteuid() == 0 else n["nice"]) for n in nodes), nodes
    assert all(isinstance(n["nice"], int) for n in nodes)


def _controller(tmp_path: Path, url: str, rate: str, duration: str, cluster: str):
    suite = write_suite(tmp_path, url, one_step("/ok"), constant_rate(rate, duration))
    return RayController(msg.jobs_for(load_suite(suite), "main", 2), cluster)


def test_a_stop_reaches_every_worker_within_a_second(
    tmp_path: Path, target: Target, cluster: str
) -> None:
    controller = _controller(tmp_path, target.url, "100/s", "30s", cluster)
    controller.start()

    def on_second(series: object, snapshot: Snapshot, stats: SecondStats) -> str | None:
        return "aborted: test" if stats.second == 1 else None

    try:
        outcome = controller.run(on_second)
    finally:
        controller.close()
    assert outcome.stop_reason == "aborted: test" and outcome.failures == []
    assert outcome.stopped_at is not None and outcome.stopped_at < 3
    # every worker reported its last second and DONE within a second of the stop
    assert outcome.elapsed - outcome.stopped_at < 1.0, (outcome.elapsed, outcome.stopped_at)
    assert all(n["requests"] > 0 for n in controller.engine()["nodes"])
    assert target.seen.paths["/ok"] < 100 * 4


def test_a_killed_actor_is_noticed_within_two_seconds_and_names_its_node(
    tmp_path: Path, target: Target, cluster: str
) -> None:
    controller = _controller(tmp_path, target.url, "100/s", "30s", cluster)
    controller.start()
    killed: list[float] = []

    def on_second(series: object, snapshot: Snapshot, stats: SecondStats) -> str | None:
        if stats.second == 1 and not killed:
            ray.kill(controller.actors[1].handle)
            killed.append(time.monotonic() - controller.start_time)
        return None

    try:
        outcome = controller.run(on_second)
    finally:
        controller.close()
    lost = controller.actors[1].node
    assert outcome.failures and outcome.failures[0] == outcome.stop_reason
    assert outcome.failures[0].startswith(
        f"worker 1 on node {lost['host']} ({lost['node_id'][:12]}) was lost"
    )
    assert outcome.stopped_at is not None and outcome.stopped_at - killed[0] < 2.0
    nodes = {n["node_id"]: n for n in controller.engine()["nodes"]}
    assert nodes[lost["node_id"]]["lost"] is True
    assert [n["lost"] for n in nodes.values()].count(False) == 1
    assert outcome.elapsed < 8  # the other worker stopped too


def test_each_worker_checks_its_targets_from_its_node_before_start(
    tmp_path: Path, cluster: str
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = _controller(tmp_path, f"http://127.0.0.1:{port}", "10/s", "1s", cluster)
    try:
        with pytest.raises(WorkerFailed) as failed:
            controller.start()
    finally:
        controller.close()
    text = str(failed.value)
    assert f"target `app` (http://127.0.0.1:{port})" in text
    for actor in controller.actors:
        assert f"unreachable from node {actor.node['host']} ({actor.node['node_id'][:12]})" in text


def test_a_worker_stops_its_load_when_its_controller_goes_silent(
    tmp_path: Path, target: Target, cluster: str
) -> None:
    """The lease: this process stays alive (Ray would not end the actor) but stops calling it;
    the actor stops its own load a lease after the last word."""
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("50/s", "60s"))
    job = msg.jobs_for(load_suite(suite), "main", 1)[0]
    ray_ = connect(cluster)
    actor = ray_.remote(num_cpus=1, max_concurrency=4)(RayWorker).remote(job)
    try:
        ray_.get(actor.launch.remote(), timeout=60)
        seen: list[tuple[Any, ...]] = []
        deadline = time.monotonic() + 60
        while not any(m[0] == msg.READY for m in seen) and time.monotonic() < deadline:
            seen += ray_.get(actor.poll.remote(0.25), timeout=60)
        ray_.get(actor.start.remote(time.time() + 0.1, 0.1), timeout=60)
        while target.seen.paths["/ok"] < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        silent = time.monotonic()  # not a word to the actor from here on
        count, changed = target.seen.paths["/ok"], silent
        while time.monotonic() < silent + LEASE_S + 3:
            if target.seen.paths["/ok"] != count:
                count, changed = target.seen.paths["/ok"], time.monotonic()
            time.sleep(0.05)
        assert changed - silent < LEASE_S + 1.0 < 5.0
        done = [m for m in ray_.get(actor.poll.remote(0), timeout=60) if m[0] == msg.DONE]
        assert done and done[0][1]["stop_reason"].startswith("controller lost: no word from it")
    finally:
        ray_.kill(actor)


def test_a_node_that_dies_is_noticed_within_two_seconds(
    tmp_path: Path, target: Target, cluster: str, ray_cluster: Any
) -> None:
    """A third node joins; three one-CPU workers fill the three nodes; mid-run the third node
    dies as a machine does: its raylet and the worker actor on it are SIGKILLed at once."""
    node = ray_cluster.add_node(num_cpus=1)
    ray_cluster.wait_for_nodes()
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("60/s", "30s"))
    controller = RayController(msg.jobs_for(load_suite(suite), "main", 3), cluster)
    controller.start()
    doomed = next(a for a in controller.actors if a.node["node_id"] == node.node_id)
    raylet = node.all_processes["raylet"][0].process
    killed: list[float] = []

    def on_second(series: object, snapshot: Snapshot, stats: SecondStats) -> str | None:
        if stats.second == 1 and not killed:
            os.kill(doomed.node["pid"], signal.SIGKILL)
            raylet.kill()
            killed.append(time.monotonic() - controller.start_time)
        return None

    try:
        outcome = controller.run(on_second)
    finally:
        controller.close()
        ray_cluster.remove_node(node, allow_graceful=False)
    assert outcome.stop_reason is not None
    assert outcome.stop_reason.startswith(
        f"worker {doomed.index} on node {doomed.node['host']} ({node.node_id[:12]}) was lost"
    )
    assert outcome.stopped_at is not None and outcome.stopped_at - killed[0] < 2.0
    assert outcome.elapsed < 10
