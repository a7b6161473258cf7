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
