"""The Ray controller on a real two-node cluster, driven as the pipeline drives it."""

from __future__ import annotations

from pathlib import Path

from contval.engine import messages as msg
from contval.engine.controller import Controller
from contval.engine.ray_controller import RayController
from contval.spec import load_suite
from tests.engine.target import Target
from tests.engine.test_run import constant_rate, one_step, write_suite


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
