"""`contval run --cluster` and `contval plan --cluster` end to end on a real two-node cluster:
accuracy as on local workers, one merged verdict, and the cluster's own faults."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from contval.engine.ray_controller import NAMESPACE, connect
from tests.engine.target import Target
from tests.engine.test_run import CLI, constant_rate, load_started, one_step, run, write_suite

ray = pytest.importorskip("ray")


def on_cluster(suite: Path, out: Path, cluster: str, *args: str) -> tuple[int, dict[str, Any], str]:
    return run(suite, out, "--cluster", cluster, "--workers", "2", *args)


def test_1000_per_second_within_1_percent_merged_exactly(
    tmp_path: Path, target: Target, cluster: str
) -> None:
    suite = write_suite(
        tmp_path,
        target.url,
        one_step("/ok"),
        constant_rate("1000/s", "4s"),
        "'dropped_iterations == 0'",
    )
    code, result, output = on_cluster(suite, tmp_path / "out", cluster)
    assert code == 0, output
    scenario = result["scenarios"][0]
    engine = scenario["engine"]
    assert engine["kind"] == "ray" and engine["address"] == cluster
    assert len(engine["nodes"]) == 2 and [n["workers"] for n in engine["nodes"]] == [1, 1]
    totals = scenario["totals"]
    assert totals["iterations"] == pytest.approx(4000, rel=0.01)
    assert totals["requests"] == sum(n["requests"] for n in engine["nodes"])
    assert totals["requests"] == target.seen.paths["/ok"]
    per_second = [row["iterations"] for row in scenario["series"][:4]]
    assert all(950 <= n <= 1050 for n in per_second), per_second


def test_a_50ms_route_p50_within_3ms_and_a_1s_stall_in_p99(
    tmp_path: Path, target: Target, cluster: str
) -> None:
    """Two flows at 200/s each over two nodes: one against a 50 ms route, one against a route
    that stalls every answer for 1 s after its 400th request (the local accuracy tests)."""
    target.behaviour.delay = 0.050
    target.behaviour.stall_after, target.behaviour.stall_for = 400, 1.0
    flows = one_step("/slow") + one_step("/stall", flow="g")
    suite = write_suite(
        tmp_path,
        target.url,
        flows,
        constant_rate("400/s", "5s", "{f: 1, g: 1}", max_vus=600),
        "'f/get: p50(latency) < 60ms'",
    )
    code, result, output = on_cluster(suite, tmp_path / "out", cluster)
    assert code == 0, output
    flows_ = result["scenarios"][0]["flows"]
    step = flows_["f"]["steps"]["get"]
    assert step["requests"] == 1000 and step["errors"] == 0
    assert 50.0 <= step["latency"]["p50"] <= 53.0
    stalled = flows_["g"]["steps"]["get"]["latency"]
    # 20 % of its requests waited up to 1 s; the bound above leaves room for two Ray nodes on a
    # 2-core machine answering the ~200 requests held by the stall at once (1110 ms seen)
    assert 800 <= stalled["p99"] <= 1250, stalled
    assert stalled["p50"] < 50


def test_an_abort_stops_every_node(tmp_path: Path, target: Target, cluster: str) -> None:
    suite = write_suite(
        tmp_path,
        target.url,
        one_step("/error"),
        constant_rate("50/s", "60s"),
        "'error_rate < 20% over 2s, abort'",
    )
    code, result, output = on_cluster(suite, tmp_path / "out", cluster)
    assert code == 1, output
    scenario = result["scenarios"][0]
    assert scenario["stop_reason"].startswith("aborted: ")
    assert scenario["duration_s"] < 10
    nodes = scenario["engine"]["nodes"]
    assert len(nodes) == 2 and all(n["requests"] > 0 for n in nodes)
    totals = scenario["totals"]  # a request in flight at the stop is interrupted, not counted
    assert totals["requests"] <= target.seen.paths["/error"] < 50 * 10
    assert target.seen.paths["/error"] <= totals["requests"] + totals["interrupted_iterations"]


def test_a_killed_actor_makes_the_scenario_incomplete_naming_its_node(
    tmp_path: Path, target: Target, cluster: str
) -> None:
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("50/s", "30s"))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*CLI, "run", str(suite), "--out", str(out), "--cluster", cluster, "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    load_started(out, proc)
    deadline = time.monotonic() + 30
    while target.seen.paths["/ok"] < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    _kill_worker(cluster, 1)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3, output
    result = json.loads((out / "result.json").read_text())
    assert result["complete"] is False and result["exit_code"] == 3
    scenario = result["scenarios"][0]
    assert scenario["complete"] is False and scenario["verdict"] == "error"
    assert scenario["stop"] == "worker_failed"
    lost = [n for n in scenario["engine"]["nodes"] if n["lost"]]
    assert len(lost) == 1
    assert (
        f"worker 1 on node {lost[0]['host']} ({lost[0]['node_id'][:12]}) was lost"
        in (scenario["stop_reason"])
    )
    assert scenario["duration_s"] < 10 and scenario["totals"]["requests"] > 0  # partial


def _kill_worker(cluster: str, index: int) -> None:
    """End worker `index`'s actor as Ray ends a crashed one (found by its name)."""
    ray_ = connect(cluster)
    names = [
        a["name"]
        for a in ray_.util.list_named_actors(all_namespaces=True)
        if a["namespace"] == NAMESPACE and a["name"].endswith(f"-w{index}")
    ]
    assert len(names) == 1, names
    ray_.kill(ray_.get_actor(names[0], namespace=NAMESPACE))


def test_on_worker_loss_continue_judges_the_survivors_and_records_the_lost_share(
    tmp_path: Path, target: Target, cluster: str
) -> None:
    """`on_worker_loss: continue`: a killed actor's share is not re-planned; the survivor
    drives its own share to the end, the thresholds judge what was measured, and result.json
    says which worker was lost, when, and how much of the planned load that was."""
    suite = write_suite(
        tmp_path, target.url, one_step("/ok"), constant_rate("100/s", "4s"), "'error_rate < 1%'"
    )
    suite.write_text(suite.read_text() + "    on_worker_loss: continue\n")
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*CLI, "run", str(suite), "--out", str(out), "--cluster", cluster, "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    load_started(out, proc)
    deadline = time.monotonic() + 30
    while target.seen.paths["/ok"] < 150 and time.monotonic() < deadline:
        time.sleep(0.05)
    _kill_worker(cluster, 1)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    result = json.loads((out / "result.json").read_text())
    scenario = result["scenarios"][0]
    assert scenario["verdict"] == "pass" and scenario["complete"] is False
    assert scenario["stop"] == "worker_lost"
    assert scenario["thresholds"][0]["verdict"] == "pass"
    engine = scenario["engine"]
    assert engine["on_worker_loss"] == "continue"
    [loss] = engine["lost_workers"]
    nodes = {n["node_id"]: n for n in engine["nodes"]}
    lost, kept = nodes[loss["node_id"]], next(n for n in nodes.values() if not n["lost"])
    assert loss["worker"] == 1 and lost["lost"] is True and lost["worker_indexes"] == [1]
    assert 1.0 <= loss["at_s"] < 4.0 and lost["lost_at_s"] == loss["at_s"]
    measured_to = loss["measured_to_s"]
    assert 1 <= measured_to <= loss["at_s"] + 1
    # worker 1 had half of the 400 arrivals, 50 a second; those from `measured_to` on are lost
    assert loss["share"] == engine["lost_share"] == pytest.approx(0.5 * (4 - measured_to) / 4)
    assert lost["requests"] == pytest.approx(50 * measured_to, abs=2)
    assert kept["requests"] == 200 and kept["errors"] == 0  # the survivor's own share, no more
    assert scenario["totals"]["requests"] == kept["requests"] + lost["requests"]
    assert scenario["stop_reason"].startswith(
        f"worker 1 on node {lost['host']} ({lost['node_id'][:12]}) was lost: "
    )
    assert f"went on without it from second {measured_to}" in scenario["stop_reason"]


def test_a_sigkilled_controller_stops_the_load_within_5s(
    tmp_path: Path, target: Target, cluster: str
) -> None:
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("50/s", "60s"))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*CLI, "run", str(suite), "--out", str(out), "--cluster", cluster, "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    load_started(out, proc)
    deadline = time.monotonic() + 30
    while target.seen.paths["/ok"] < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    killed = time.monotonic()
    proc.wait(timeout=30)
    seen, changed = target.seen.paths["/ok"], killed
    while time.monotonic() < killed + 6:  # watch the target for 6 s: when did load last come?
        if target.seen.paths["/ok"] != seen:
            seen, changed = target.seen.paths["/ok"], time.monotonic()
        time.sleep(0.05)
    assert changed - killed < 5.0


def test_plan_shows_the_cluster_layout(tmp_path: Path, cluster: str) -> None:
    suite = write_suite(
        tmp_path, "http://127.0.0.1:9", one_step("/ok"), constant_rate("100/s", "5s")
    )
    proc = subprocess.run(
        [*CLI, "plan", str(suite), "--cluster", cluster, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["cluster"]
    assert data["address"] == cluster and len(data["nodes"]) == 2 and data["cpus"] == 2
    assert data["workers"] == 2 and data["workers_per_node"] == [1, 1]
    assert data["per_worker"][0]["peak_rate_per_worker"] == 50.0
    text = subprocess.run(
        [*CLI, "plan", str(suite), "--cluster", cluster, "--workers-per-node", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert text.returncode == 0, text.stderr
    assert f"Ray cluster {cluster}: 2 node(s), 2 CPU(s); 2 worker(s), 1/1 per node" in text.stdout
    assert "scenario main: 2 worker(s), peak 50.0/s per worker, up to" in text.stdout
    wide = subprocess.run(
        [*CLI, "plan", str(suite), "--cluster", cluster, "--workers-per-node", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wide.returncode == 2
    assert wide.stderr.strip() == (
        f"error: --workers-per-node 2: no node of the Ray cluster at {cluster} has that many "
        "CPUs (the most is 1; one per worker)"
    )


BLOCK_RAY = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "ray" or name.startswith("ray."):
            raise ModuleNotFoundError(f"No module named {{name!r}}")
sys.meta_path.insert(0, Block())
sys.argv = {argv!r}
from contval.cli import main
main()
"""


def test_without_ray_the_error_names_the_address_and_the_install(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, "http://127.0.0.1:9", one_step("/ok"), constant_rate("1/s", "1s"))
    argv = ["contval", "run", str(suite), "--cluster", "auto", "--out", str(tmp_path / "o")]
    proc = subprocess.run(
        [sys.executable, "-c", BLOCK_RAY.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: --cluster auto needs Ray, which is not installed: pip install 'contval[ray]'"
    ]


def test_an_unreachable_cluster_is_exit_3_in_one_line(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, "http://127.0.0.1:9", one_step("/ok"), constant_rate("1/s", "1s"))
    proc = subprocess.run(
        [*CLI, "run", str(suite), "--cluster", "127.0.0.1:9", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("error: could not connect to the Ray cluster at 127.0.0.1:9: ")
    assert "pip install 'contval[ray]'" in lines[0]
    assert not (tmp_path / "o").exists()  # nothing was run


@pytest.mark.skipif(
    importlib.util.find_spec("grpc") is not None, reason="Ray Client (grpcio) is installed here"
)
def test_ray_client_without_its_package_names_the_install(tmp_path: Path) -> None:
    """`ray://` is Ray Client, an extra of Ray (grpcio) that `contval[ray]` does not install:
    one line naming it, exit 2, before anything is dialled."""
    suite = write_suite(tmp_path, "http://127.0.0.1:9", one_step("/ok"), constant_rate("1/s", "1s"))
    proc = subprocess.run(
        [*CLI, "plan", str(suite), "--cluster", "ray://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: --cluster ray://127.0.0.1:9 needs Ray Client, which is not installed: "
        f"pip install 'ray[client]=={ray.__version__}' (or run contval on a node of the cluster "
        "with --cluster auto)"
    ]


def test_workers_per_node_needs_a_cluster(tmp_path: Path) -> None:
    suite = write_suite(tmp_path, "http://127.0.0.1:9", one_step("/ok"), constant_rate("1/s", "1s"))
    proc = subprocess.run(
        [*CLI, "run", str(suite), "--workers-per-node", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: --workers-per-node needs --cluster"


def test_more_workers_than_the_cluster_has_cpus_is_a_bad_option(
    tmp_path: Path, cluster: str
) -> None:
    suite = write_suite(tmp_path, "http://127.0.0.1:9", one_step("/ok"), constant_rate("1/s", "1s"))
    proc = subprocess.run(
        [*CLI, "run", str(suite), "--cluster", cluster, "--workers", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        f"error: --workers 5: the Ray cluster at {cluster} has 2 CPU(s) on 2 node(s) (one per "
        "worker): add nodes, or lower --workers"
    )


def test_ctrl_c_stops_every_node_and_keeps_the_results(
    tmp_path: Path, target: Target, cluster: str
) -> None:
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("50/s", "60s"))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*CLI, "run", str(suite), "--out", str(out), "--cluster", cluster, "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    load_started(out, proc)
    deadline = time.monotonic() + 30
    while target.seen.paths["/ok"] < 50 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3, output
    scenario = json.loads((out / "result.json").read_text())["scenarios"][0]
    assert scenario["stop"] == "interrupted" and scenario["complete"] is False
    assert scenario["stop_reason"] == "interrupted by SIGINT"
    assert all(n["requests"] > 0 for n in scenario["engine"]["nodes"])
    assert scenario["totals"]["requests"] <= target.seen.paths["/ok"] < 50 * 10


def test_auto_with_a_head_that_is_gone_fails_fast(tmp_path: Path) -> None:
    """`auto` names a head that is gone (RAY_ADDRESS here; a file `ray start --head` leaves
    behind alike): one line and exit 3 at once, not Ray's minute of retries."""
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    suite = write_suite(tmp_path, "http://127.0.0.1:9", one_step("/ok"), constant_rate("1/s", "1s"))
    began = time.monotonic()
    proc = subprocess.run(
        [*CLI, "plan", str(suite), "--cluster", "auto"],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"RAY_ADDRESS": f"127.0.0.1:{port}"},
    )
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: could not connect to the Ray cluster")
    assert f":{port}): " in lines[0] and "at auto (" in lines[0]
    assert time.monotonic() - began < 20
