"""The pure fault timeline: sorted windows, ordered events, active faults and phases."""

from __future__ import annotations

import pytest

from contval.chaos.timeline import Event, FaultWindow, Timeline, timeline
from contval.spec import Suite, load_suite_text

SUITE = """
version: 1
name: t
targets: {shop: "http://127.0.0.1:8000"}
chaos_targets:
  link: {proxy: {listen: 127.0.0.1:9101, upstream: 127.0.0.1:9100}}
  worker: {process: {match: worker}}
  host: {host: local}
faults:
  slow: {type: latency, target: link, delay: 400ms}
  crash: {type: kill, target: worker}
  burn: {type: cpu, target: host}
flows:
  a: {target: shop, steps: [{name: home, request: GET /}]}
workloads:
  steady: {executor: constant-vus, vus: 1, duration: 1m, mix: {a: 1}}
  ramp:
    executor: ramping-arrival-rate
    stages: [{to: 5/s, over: 10s}, {to: 5/s, over: 20s}]
    mix: {a: 1}
scenarios:
  normal: {workload: steady}
  mixed:
    workload: steady
    chaos:
      - {fault: burn, at: 30s, for: 10s}
      - {fault: slow, at: 10s, for: 20s}
      - {fault: crash, at: 15s, for: 500ms}
  ramped:
    workload: ramp
    chaos: [{fault: crash, at: 5s, for: 20s}]
"""


@pytest.fixture(scope="module")
def suite() -> Suite:
    return load_suite_text(SUITE)


def test_windows_sorted_by_start_with_type_and_target(suite: Suite) -> None:
    line = timeline(suite.scenarios["mixed"], suite)
    assert line.duration == 60.0
    assert line.windows == (
        FaultWindow("slow", "latency", "link", 10.0, 30.0),
        FaultWindow("crash", "kill", "worker", 15.0, 15.5),
        FaultWindow("burn", "cpu", "host", 30.0, 40.0),
    )
    assert [w.duration for w in line.windows] == [20.0, 0.5, 10.0]


def test_events_revert_before_inject_at_the_same_time(suite: Suite) -> None:
    events = timeline(suite.scenarios["mixed"], suite).events()
    assert events == (
        Event(10.0, "inject", "slow"),
        Event(15.0, "inject", "crash"),
        Event(15.5, "revert", "crash"),
        Event(30.0, "revert", "slow"),
        Event(30.0, "inject", "burn"),
        Event(40.0, "revert", "burn"),
    )


@pytest.mark.parametrize(
    ("t", "active"),
    [
        (0.0, ()),
        (10.0, ("slow",)),
        (15.2, ("slow", "crash")),
        (15.5, ("slow",)),
        (29.99, ("slow",)),
        (30.0, ("burn",)),
        (40.0, ()),
        (59.0, ()),
    ],
)
def test_active_at_is_half_open(suite: Suite, t: float, active: tuple[str, ...]) -> None:
    assert timeline(suite.scenarios["mixed"], suite).active_at(t) == active


def test_phases(suite: Suite) -> None:
    line = timeline(suite.scenarios["mixed"], suite)
    assert line.phases("slow") == (10.0, 30.0)
    assert line.fault_phases() == {
        "slow": (10.0, 30.0),
        "crash": (15.0, 15.5),
        "burn": (30.0, 40.0),
    }
    with pytest.raises(
        KeyError, match=r"'nope' is not on this timeline \(faults: slow, crash, burn"
    ):
        line.phases("nope")


def test_ramp_duration_and_empty_timeline(suite: Suite) -> None:
    ramped = timeline(suite.scenarios["ramped"], suite)
    assert ramped.duration == 30.0  # the sum of the stages
    assert ramped.phases("crash") == (5.0, 25.0)
    empty = timeline(suite.scenarios["normal"], suite)
    assert empty == Timeline((), 60.0)
    assert empty.events() == () and empty.active_at(1.0) == ()
