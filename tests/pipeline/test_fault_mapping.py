"""Every fault type a suite can declare maps onto its driver with its parameters (no I/O)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contval.chaos.faults import FaultSkipped
from contval.chaos.faults.cpu import CpuFault
from contval.chaos.faults.http_error import HttpErrorFault
from contval.chaos.faults.kill import KillFault
from contval.chaos.faults.latency import LatencyFault
from contval.chaos.faults.memory import MemoryFault
from contval.chaos.faults.netem import NetemFault
from contval.chaos.faults.pause import PauseFault
from contval.chaos.faults.reset import ResetFault
from contval.pipeline.faults import make_driver
from contval.spec import load_suite

EXAMPLE = Path(__file__).parents[2] / "examples" / "contoso-shoes" / "suite.yaml"


def test_example_faults_map_onto_drivers() -> None:
    suite = load_suite(EXAMPLE)
    slow = make_driver(suite, "payments-slow", 15.0)
    assert isinstance(slow, LatencyFault)
    assert (slow.delay, slow.jitter, slow.direction, slow.fraction) == (0.4, 0.1, "downstream", 1.0)
    assert slow.link.link == "payments-link" and slow.link.control == "127.0.0.1:8474"
    assert isinstance(make_driver(suite, "payments-down", 15.0), ResetFault)
    errors = make_driver(suite, "payments-503", 15.0)
    assert isinstance(errors, HttpErrorFault) and (errors.status, errors.fraction) == (503, 0.3)
    crash = make_driver(suite, "worker-crash", 15.0)
    assert isinstance(crash, KillFault) and crash.signal == "SIGKILL"
    assert crash.target.state_file is not None and crash.target.key == "worker"
    assert crash.target.state_file.name == "state.json"
    assert isinstance(make_driver(suite, "worker-freeze", 15.0), PauseFault)
    cpu = make_driver(suite, "cpu-pressure", 15.0)
    assert isinstance(cpu, CpuFault) and (cpu.load, cpu.workers, cpu.duration) == (0.8, 2, 15.0)
    memory = make_driver(suite, "memory-pressure", 15.0)
    assert isinstance(memory, MemoryFault) and memory.size == 256 * 1024 * 1024
    netem = make_driver(suite, "lossy-network", 15.0)  # on a proxy link: refused, not global
    with pytest.raises(FaultSkipped, match="per-port tc filter"):
        netem.inject()


def test_netem_on_the_host_maps_onto_tc(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace(
        "lossy-network:   {type: netem, target: payments-link,",
        "lossy-network:   {type: netem, target: host,",
    )
    (tmp_path / "suite.yaml").write_text(text)
    (tmp_path / "customers.csv").write_text((EXAMPLE.parent / "customers.csv").read_text())
    netem = make_driver(load_suite(tmp_path / "suite.yaml"), "lossy-network", 15.0)
    assert isinstance(netem, NetemFault) and (netem.dev, netem.loss, netem.delay) == (
        "lo",
        0.05,
        0.05,
    )


LINKED = """version: 1
name: linked
targets:
  shop: {shop}
  api: http://127.0.0.1:9300
chaos_targets:
  shop-link: {{proxy: {{listen: "{listen}", upstream: 127.0.0.1:9200}}}}
flows:
  browse: {{target: shop, steps: [{{name: list, request: GET /}}]}}
  ping: {{target: api, steps: [{{name: ping, request: GET /}}]}}
workloads:
  shop-load: {{executor: constant-vus, vus: 1, duration: 2s, mix: {{browse: 1}}}}
  api-load: {{executor: constant-vus, vus: 1, duration: 2s, mix: {{ping: 1}}}}
scenarios:
  shop: {{workload: shop-load}}
  api: {{workload: api-load}}
"""


@pytest.mark.parametrize(
    ("shop", "listen", "behind"),
    [
        ("http://127.0.0.1:9101", "127.0.0.1:9101", True),
        ("http://localhost:9101/", "127.0.0.1:9101", True),
        ("http://127.0.0.1:9101", "localhost:9101", True),
        ("http://[::1]:9101", "[::1]:9101", True),
        ("http://127.0.0.1:9102", "127.0.0.1:9101", False),
        ("http://127.0.0.2:9101", "127.0.0.1:9101", False),
    ],
)
def test_targets_behind_a_proxy_link_need_the_proxy(
    tmp_path: Path, shop: str, listen: str, behind: bool
) -> None:
    from contval.pipeline.preflight import behind_links, targets_used
    from contval.pipeline.proxyctl import needs_proxy

    path = tmp_path / "suite.yaml"
    path.write_text(LINKED.format(shop=shop, listen=listen))
    suite = load_suite(path)
    found = behind_links(suite, targets_used(suite, ["shop"]))
    assert [(t, link, str(up)) for t, link, up in found] == (
        [("shop", "shop-link", "127.0.0.1:9200")] if behind else []
    )
    assert needs_proxy(suite, ("shop",)) is behind
    assert needs_proxy(suite, ("api",)) is False  # only the scenarios that run count
