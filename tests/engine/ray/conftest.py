"""One real Ray cluster of two nodes (one CPU each) on this machine, shared by the tests of this
package: `ray.cluster_utils.Cluster` starts a head and a second node as processes of the test
run and ends exactly those processes. Skipped only when `ray` is not installed."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'contval[ray]'")


@pytest.fixture(scope="package")
def cluster(ray_cluster: Any) -> str:
    """The GCS address of the two-node cluster."""
    return str(ray_cluster.address)


@pytest.fixture(scope="package")
def ray_cluster() -> Iterator[Any]:
    """A two-node cluster (`ray.cluster_utils.Cluster`); Ray's files go to a temporary
    directory."""
    from ray.cluster_utils import Cluster

    temp = tempfile.mkdtemp(prefix="cvray-", dir="/tmp")  # short: Ray's sockets live in it
    old = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = temp
    nodes: Any = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 1, "include_dashboard": False},
    )
    try:
        nodes.add_node(num_cpus=1)
        nodes.wait_for_nodes()
        yield nodes
    finally:
        if ray.is_initialized():
            ray.shutdown()
        nodes.shutdown()
        if old is None:
            os.environ.pop("RAY_TMPDIR", None)
        else:
            os.environ["RAY_TMPDIR"] = old
        shutil.rmtree(temp, ignore_errors=True)
