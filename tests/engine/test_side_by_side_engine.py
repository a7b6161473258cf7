"""result.json `engine` of workloads run side by side on one Ray cluster, with a worker lost.

`side_by_side_engine` is pure: it merges each workload's `RayController.engine()` (built here from
the real `NodeFigures` and `Loss` records, as a two-node run where one workload lost a worker
would leave them). The Ray runs in tests/engine/ray cover a loss in one workload; this is the
merge of several.
"""

from __future__ import annotations

from typing import Any

from contval.engine.ray_controller import NodeFigures, side_by_side_engine
from contval.engine.ray_loss import Loss


def _engine(nodes: list[NodeFigures], losses: list[Loss]) -> dict[str, Any]:
    """What `RayController.engine()` returns for these nodes and losses."""
    return {
        "kind": "ray",
        "address": "127.0.0.1:6379",
        "nodes": [n.to_dict() for n in nodes],
        "on_worker_loss": "continue",
        "lost_workers": [loss.to_dict() for loss in losses],
        "lost_share": round(sum(loss.share for loss in losses), 4),
    }


def _described() -> list[tuple[str, dict[str, Any]]]:
    # Workload "browse": workers 0 and 1, one per node; worker 1 (node b) lost at 2.5 s, after
    # 2 of its 4 seconds reached the results: a quarter of browse's planned load not driven.
    browse = _engine(
        [
            NodeFigures("a" * 56, "10.0.0.1", 2.0, [0], 400, 1, 3.5, 60.0, nice=0),
            NodeFigures(
                "b" * 56, "10.0.0.2", 2.0, [1], 200, 0, 2.0, 58.0, lost=True, lost_at_s=2.5
            ),
        ],
        [Loss(1, "b" * 56, "10.0.0.2", 2.5, 2, 0.25, "actor died")],
    )
    # Workload "buyers": one worker (0) on node b, which kept running until node b's loss was
    # later (4.0 s), and one on a new node c.
    buyers = _engine(
        [
            NodeFigures(
                "b" * 56, "10.0.0.2", 2.0, [0], 100, 4, 9.0, 70.0, lost=True, lost_at_s=4.0
            ),
            NodeFigures("c" * 56, "10.0.0.3", 4.0, [1], 150, 0, 1.0, 55.0),
        ],
        [Loss(0, "b" * 56, "10.0.0.2", 4.0, 3, 0.125, "node died")],
    )
    return [("browse", browse), ("buyers", buyers)]


def test_nodes_shared_by_workloads_are_added_up_and_keep_their_first_loss() -> None:
    engine = side_by_side_engine(_described())
    nodes = {n["node_id"][0]: n for n in engine["nodes"]}
    assert sorted(nodes) == ["a", "b", "c"]
    b = nodes["b"]
    assert (b["workers"], b["requests"], b["errors"]) == (2, 300, 4)
    assert (b["max_lag_ms"], b["max_rss_mb"]) == (9.0, 70.0)
    assert b["lost"] is True and b["lost_at_s"] == 2.5  # the earlier of the two losses
    assert b["workers_by_workload"] == {"browse": [1], "buyers": [0]}
    assert "worker_indexes" not in b
    assert nodes["a"]["lost"] is False and nodes["a"]["lost_at_s"] is None
    assert nodes["a"]["workers_by_workload"] == {"browse": [0]}
    assert nodes["c"]["workers_by_workload"] == {"buyers": [1]}


def test_each_lost_worker_names_its_workload_and_the_share_is_the_worst_workloads() -> None:
    engine = side_by_side_engine(_described())
    assert [
        (w["workload"], w["worker"], w["at_s"], w["share"]) for w in engine["lost_workers"]
    ] == [
        ("browse", 1, 2.5, 0.25),
        ("buyers", 0, 4.0, 0.125),
    ]
    # Each share is of its own workload's planned load, so they are not added across workloads.
    assert engine["lost_share"] == 0.25
    assert [(w["name"], w["workers"], w["lost_share"]) for w in engine["workloads"]] == [
        ("browse", 2, 0.25),
        ("buyers", 2, 0.125),
    ]
    assert engine["on_worker_loss"] == "continue"
    assert (engine["kind"], engine["address"]) == ("ray", "127.0.0.1:6379")


def test_the_merge_leaves_each_workloads_own_figures_untouched() -> None:
    described = _described()
    before = [(name, e["nodes"][0]["requests"], e["nodes"][0]["lost"]) for name, e in described]
    engine = side_by_side_engine(described)
    after = [(name, e["nodes"][0]["requests"], e["nodes"][0]["lost"]) for name, e in described]
    assert before == after == [("browse", 400, False), ("buyers", 100, True)]
    # each workload's own entry keeps its own per-node view, not the merged one
    assert engine["workloads"][1]["nodes"][0]["requests"] == 100
