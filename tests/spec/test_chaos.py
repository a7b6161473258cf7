"""Chaos additions to the suite: the contract's example block parses to base units; targets,
faults and chaos entries keep their rules (the invalid corpus covers the located messages)."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from contval.spec import SuiteInvalid, load_suite_text, suite_json_schema
from contval.spec.chaostargets import HostTarget, ProcessTarget, ProxyTarget, is_loopback
from contval.spec.faults import FAULT_TYPES, Fault
from contval.spec.models import Suite
from contval.spec.workloads import load_duration

INTERNALS = Path(__file__).parents[2] / "docs" / "chaos-internals.md"
REST = """
version: 1
name: chaos
targets: {shop: "http://127.0.0.1:8000"}
flows:
  browse: {target: shop, steps: [{name: home, request: GET /}]}
  checkout: {target: shop, steps: [{name: home, request: GET /}]}
workloads:
  steady:
    executor: constant-arrival-rate
    rate: 10/s
    duration: 1m
    mix: {browse: 1, checkout: 1}
"""


def contract_block() -> str:
    """The first YAML block of docs/chaos-internals.md: the issue's example, verbatim."""
    match = re.search(r"```yaml\n(.*?)```", INTERNALS.read_text(), re.DOTALL)
    assert match is not None
    return match.group(1)


def load(text: str, path: Path | str = "/suites/suite.yaml") -> Suite:
    return load_suite_text(REST + text, path)


@pytest.fixture(scope="module")
def suite() -> Suite:
    return load(contract_block())


def test_contract_targets(suite: Suite) -> None:
    link = suite.chaos_targets["payments-link"]
    assert isinstance(link, ProxyTarget) and link.kind == "proxy"
    assert (link.proxy.listen.host, link.proxy.listen.port) == ("127.0.0.1", 9101)
    assert str(link.proxy.upstream) == "127.0.0.1:9100"
    worker = suite.chaos_targets["order-worker"]
    assert isinstance(worker, ProcessTarget)
    assert worker.process.pidfile == Path("/suites/run/worker.pid")  # relative to the suite
    assert isinstance(suite.chaos_targets["host"], HostTarget)


def test_contract_faults_in_base_units(suite: Suite) -> None:
    dumped = {name: f.model_dump(exclude_defaults=True) for name, f in suite.faults.items()}
    assert dumped == {
        "payments-slow": {
            "type": "latency",
            "target": "payments-link",
            "delay": 0.4,
            "jitter": 0.1,
        },
        "payments-down": {"type": "reset", "target": "payments-link"},
        "payments-503": {
            "type": "http-error",
            "target": "payments-link",
            "status": 503,
            "fraction": 0.3,
        },
        "worker-crash": {"type": "kill", "target": "order-worker"},
        "worker-freeze": {"type": "pause", "target": "order-worker"},
        "cpu-pressure": {"type": "cpu", "target": "host", "load": 0.8, "workers": 2},
        "memory-pressure": {"type": "memory", "target": "host", "size": 1024**3},
        "lossy-network": {
            "type": "netem",
            "target": "payments-link",
            "loss": 0.05,
            "delay": 0.05,
        },
    }
    slow = suite.faults["payments-slow"]
    assert (slow.fraction, slow.direction) == (1.0, "downstream")  # type: ignore[union-attr]
    assert suite.faults["worker-crash"].signal == "SIGKILL"  # type: ignore[union-attr]


def test_contract_scenario(suite: Suite) -> None:
    scenario = suite.scenarios["payments-slow"]
    (entry,) = scenario.chaos
    assert (entry.fault, entry.at, entry.duration, entry.end) == ("payments-slow", 20.0, 30.0, 50.0)
    assert len(scenario.thresholds) == 4
    assert scenario.model_dump(by_alias=True)["chaos"] == (
        {"fault": "payments-slow", "at": 20.0, "for": 30.0},
    )


def test_fault_types_match_the_union() -> None:
    members = typing.get_args(typing.get_args(Fault)[0])
    tags = tuple(typing.get_args(m.model_fields["type"].annotation)[0] for m in members)
    assert tags == FAULT_TYPES


CHAOS = """
chaos_targets:
  link: {proxy: {listen: "[::1]:9101", upstream: "localhost:9100"}}
  worker: {process: {state_file: ../run/state.json, key: worker}}
  named: {process: {match: contoso_shoes worker}}
  host: {host: local}
faults:
  thin: {type: bandwidth, target: link, rate: 100kB/s, direction: both}
  sliced: {type: slicer, target: link}
  held: {type: http-delay, target: link, delay: 2s, fraction: 10%}
  term: {type: kill, target: worker, signal: SIGTERM}
  burn: {type: cpu, target: host}
  lo-loss: {type: netem, target: host, loss: 1%}
scenarios:
  s:
    workload: steady
    chaos:
      - {fault: thin, at: 10s, for: 20s}
      - {fault: held, at: 15s, for: 1s}
"""


def test_other_parameters_and_defaults() -> None:
    suite = load(CHAOS, "/suites/x/suite.yaml")
    link = suite.chaos_targets["link"]
    assert isinstance(link, ProxyTarget)
    assert (link.proxy.listen.host, link.proxy.upstream.host) == ("::1", "localhost")
    worker = suite.chaos_targets["worker"]
    assert isinstance(worker, ProcessTarget)
    assert worker.process.state_file == Path("/suites/x/../run/state.json")
    assert worker.process.key == "worker"
    named = suite.chaos_targets["named"]
    assert isinstance(named, ProcessTarget) and named.process.match == "contoso_shoes worker"
    f = suite.faults
    assert f["thin"].model_dump(include={"rate", "direction"}) == {
        "rate": 100_000,
        "direction": "both",
    }
    assert f["sliced"].model_dump(include={"size", "delay"}) == {"size": 64, "delay": 0.01}
    assert f["held"].model_dump(include={"delay", "fraction"}) == {"delay": 2.0, "fraction": 0.1}
    assert f["burn"].model_dump(include={"load", "workers"}) == {"load": 1.0, "workers": None}
    assert f["burn"].target_kinds == ("host",)
    assert f["lo-loss"].target_kinds == ("proxy", "host")


def test_chaos_is_optional() -> None:
    suite = load("scenarios: {normal: {workload: steady}}")
    assert suite.chaos_targets == {} and suite.faults == {}
    assert suite.scenarios["normal"].chaos == ()


def test_models_are_frozen(suite: Suite) -> None:
    with pytest.raises(ValueError, match="frozen"):
        suite.faults["payments-slow"].target = "host"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("LOCALHOST", True),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("example.com", False),
        ("::", False),
    ],
)
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


RAMP = """
chaos_targets: {link: {proxy: {listen: 127.0.0.1:9101, upstream: 127.0.0.1:9100}}}
faults: {down: {type: reset, target: link}}
scenarios:
  s:
    workload: ramp
    chaos: [{fault: down, at: 10s, for: FOR}]
"""


def test_fault_window_strictly_inside_a_ramp() -> None:
    with_ramp = REST.replace(
        "workloads:\n",
        "workloads:\n  ramp:\n    executor: ramping-vus\n"
        "    stages: [{to: 5, over: 20s}, {to: 5, over: 11s}]\n    mix: {browse: 1}\n",
    )
    suite = load_suite_text(with_ramp + RAMP.replace("FOR", "20s"))
    assert load_duration(suite.workloads["ramp"]) == 31.0
    with pytest.raises(SuiteInvalid, match="ends at 31s, but workload `ramp` runs for 31s"):
        load_suite_text(with_ramp + RAMP.replace("FOR", "21s"))


def test_schema_describes_chaos() -> None:
    schema = suite_json_schema()
    assert {"chaos_targets", "faults"} <= set(schema["properties"])
    entry = schema["$defs"]["ChaosEntry"]
    assert entry["required"] == ["fault", "at", "for"]
    assert schema["$defs"]["Latency"]["properties"]["fraction"]["examples"] == ["5%", "30%"]
