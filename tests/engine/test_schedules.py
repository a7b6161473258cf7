"""The four executors' schedules, asserted as data: no clock, no sleeping."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from contval.engine.schedules import (
    ClosedSchedule,
    OpenSchedule,
    describe,
    sample,
    schedule_for,
    share,
)
from contval.engine.schedules.constant_arrival_rate import ConstantRate
from contval.engine.schedules.ramp import Ramp
from contval.engine.schedules.ramping_arrival_rate import RampingRate
from contval.spec.workloads import Workload

WORKLOAD: TypeAdapter[Any] = TypeAdapter(Workload)
MIX = {"browse": 1}


def workload(**fields: Any) -> Any:
    return WORKLOAD.validate_python({"mix": MIX, **fields})


def open_schedule(**fields: Any) -> OpenSchedule:
    schedule = schedule_for(workload(**fields))
    assert isinstance(schedule, OpenSchedule)
    return schedule


def closed_schedule(**fields: Any) -> ClosedSchedule:
    schedule = schedule_for(workload(**fields))
    assert isinstance(schedule, ClosedSchedule)
    return schedule


def ramping_rate(start: float, stages: list[tuple[float, float]], max_vus: int = 100) -> Any:
    return OpenSchedule(RampingRate.from_ramp(Ramp.from_stages(start, stages)), max_vus)


def merged(schedule: OpenSchedule, workers: int) -> list[float]:
    return sorted(t for w in range(workers) for t in schedule.arrivals(w, workers))


def integral(start: float, stages: list[tuple[float, float]]) -> float:
    total, rate = 0.0, start
    for to, over in stages:
        total += (rate + to) / 2 * over
        rate = to
    return total


# constant-arrival-rate


def test_constant_rate_arrivals_are_exactly_k_over_rate() -> None:
    schedule = open_schedule(executor="constant-arrival-rate", rate="50/s", duration="1m")
    arrivals = list(schedule.arrivals())
    assert arrivals == [k / 50 for k in range(3000)]
    assert schedule.expected_iterations() == 3000
    assert (schedule.kind, schedule.duration, schedule.max_vus) == ("open", 60.0, 1000)
    assert schedule.rate_at(0) == schedule.rate_at(59.9) == 50.0
    assert schedule.rate_at(60.5) == schedule.rate_at(-1) == 0.0


def test_constant_rate_fractional_counts() -> None:
    slow = open_schedule(executor="constant-arrival-rate", rate="6/m", duration="30s")
    assert list(slow.arrivals()) == [0.0, 10.0, 20.0]
    odd = open_schedule(executor="constant-arrival-rate", rate="3/s", duration="1500ms")
    assert odd.expected_iterations() == 5  # 4.5 expected: arrivals at 0, ⅓, ⅔, 1, 1⅓
    assert len(list(odd.arrivals())) == 5


def test_worker_takes_every_wth_arrival() -> None:
    schedule = open_schedule(executor="constant-arrival-rate", rate="10/s", duration="1s")
    assert list(schedule.arrivals(1, 3)) == [0.1, 0.4, 0.7]
    assert [schedule.worker_iterations(w, 3) for w in range(3)] == [4, 3, 3]


@settings(max_examples=200, deadline=None)
@given(
    rate=st.floats(0.01, 2000),
    duration=st.floats(0.01, 60),
    workers=st.integers(1, 8),
)
def test_constant_rate_properties(rate: float, duration: float, workers: int) -> None:
    assume(rate * duration < 20_000)
    schedule = OpenSchedule(ConstantRate(rate, duration), max_vus=8)
    single = list(schedule.arrivals())
    assert len(single) == schedule.expected_iterations()
    assert rate * duration - 1e-6 <= len(single) < rate * duration + 1
    assert all(0 <= t < duration for t in single)
    assert single == sorted(single)
    assert merged(schedule, workers) == single
    assert sum(schedule.worker_iterations(w, workers) for w in range(workers)) == len(single)


# ramping-arrival-rate


def test_ramp_from_zero_to_100_over_10s() -> None:
    schedule = open_schedule(
        executor="ramping-arrival-rate", stages=[{"to": "100/s", "over": "10s"}]
    )
    arrivals = list(schedule.arrivals())
    assert len(arrivals) == schedule.expected_iterations() == 500
    assert arrivals == sorted(arrivals)
    assert all(0 <= t < 10 for t in arrivals)
    for second in range(10):
        in_bucket = sum(second <= t < second + 1 for t in arrivals)
        assert abs(in_bucket - 5 * (2 * second + 1)) <= 1  # ∫ 10t dt over [s, s+1]
    assert schedule.rate_at(5) == 50.0
    assert arrivals[200] == pytest.approx(math.sqrt(200 / 5))  # N(t) = 5t²


def test_ramp_holds_ramps_down_to_zero_and_restarts() -> None:
    stages = [(20.0, 5.0), (0.0, 5.0), (0.0, 5.0), (40.0, 5.0)]
    schedule = ramping_rate(20.0, stages)
    arrivals = list(schedule.arrivals())
    assert len(arrivals) == 100 + 50 + 0 + 100
    assert arrivals[:100] == pytest.approx([k / 20 for k in range(100)])
    assert not [t for t in arrivals if 10 <= t < 15]  # rate 0: nothing due
    assert arrivals[150] == 15.0  # the next arrival is due where the rate rises again
    assert all(0 <= t < 20 for t in arrivals)
    assert arrivals == sorted(arrivals)


def test_ramp_with_start_rate_and_example_shape() -> None:
    schedule = open_schedule(
        executor="ramping-arrival-rate",
        start_rate="10/s",
        stages=[
            {"to": "80/s", "over": "30s"},
            {"to": "80/s", "over": "1m"},
            {"to": "0/s", "over": "10s"},
        ],
        max_vus=200,
    )
    assert schedule.expected_iterations() == 1350 + 4800 + 400
    assert len(list(schedule.arrivals())) == 6550
    assert describe(schedule) == [(0.0, 10.0), (30.0, 80.0), (90.0, 80.0), (100.0, 0.0)]
    assert schedule.rate_at(15) == 45.0
    assert schedule.rate_at(95) == 40.0


stage_strategy = st.lists(st.tuples(st.floats(0, 200), st.floats(0.1, 10)), min_size=1, max_size=5)


@settings(max_examples=150, deadline=None)
@given(start=st.floats(0, 200), stages=stage_strategy, workers=st.integers(1, 8))
def test_ramping_rate_properties(
    start: float, stages: list[tuple[float, float]], workers: int
) -> None:
    expected = integral(start, stages)
    assume(expected < 20_000)
    schedule = ramping_rate(start, stages)
    arrivals = list(schedule.arrivals())
    duration = sum(over for _, over in stages)
    assert arrivals == sorted(arrivals)
    assert all(0 <= t < duration for t in arrivals)
    assert abs(len(arrivals) - round(expected)) <= 1
    assert len(arrivals) == schedule.expected_iterations()
    assert merged(schedule, workers) == arrivals
    profile = schedule.profile
    assert isinstance(profile, RampingRate)
    for second in range(math.ceil(duration)):
        in_bucket = sum(second <= t < second + 1 for t in arrivals)
        due = profile.count_until(second + 1) - profile.count_until(second)
        assert abs(in_bucket - due) <= 1


def test_max_vus_split() -> None:
    schedule = open_schedule(
        executor="constant-arrival-rate", rate="10/s", duration="1s", max_vus=10
    )
    assert [schedule.worker_max_vus(w, 4) for w in range(4)] == [3, 3, 2, 2]
    assert schedule.worker_max_vus(0, 1) == 10
    with pytest.raises(ValueError, match="at most 10 workers"):
        schedule.worker_max_vus(0, 11)
    with pytest.raises(ValueError, match=r"worker must be in \[0, 4\)"):
        list(schedule.arrivals(4, 4))


@given(max_vus=st.integers(1, 5000), workers=st.integers(1, 64))
def test_max_vus_split_properties(max_vus: int, workers: int) -> None:
    assume(workers <= max_vus)
    schedule = OpenSchedule(ConstantRate(1.0, 1.0), max_vus)
    parts = [schedule.worker_max_vus(w, workers) for w in range(workers)]
    assert sum(parts) == max_vus
    assert min(parts) >= 1
    assert max(parts) - min(parts) <= 1


# VU executors


def test_constant_vus() -> None:
    schedule = closed_schedule(executor="constant-vus", vus=10, duration="30s")
    assert schedule.kind == "closed"
    assert schedule.duration == 30.0
    assert schedule.vus_at(0) == schedule.vus_at(15) == schedule.vus_at(30) == 10
    assert schedule.vus_at(-0.1) == schedule.vus_at(30.1) == 0
    assert schedule.max_vus() == 10
    assert [schedule.worker_vus_at(1, w, 3) for w in range(3)] == [4, 3, 3]
    assert describe(schedule) == [(0.0, 10.0), (30.0, 10.0)]


def test_ramping_vus_boundaries_and_midpoints() -> None:
    schedule = closed_schedule(
        executor="ramping-vus",
        stages=[
            {"to": 7, "over": "10s"},
            {"to": 7, "over": "20s"},
            {"to": 0, "over": "10s"},
        ],
    )
    assert schedule.duration == 40.0
    at = {t: schedule.vus_at(t) for t in (0, 1, 1.5, 5, 9.99, 10, 20, 30, 35, 39.9, 40)}
    assert at == {0: 0, 1: 0, 1.5: 1, 5: 3, 9.99: 6, 10: 7, 20: 7, 30: 7, 35: 3, 39.9: 0, 40: 0}
    assert schedule.max_vus() == 7
    assert describe(schedule) == [(0.0, 0.0), (10.0, 7.0), (30.0, 7.0), (40.0, 0.0)]


def test_ramping_vus_start_vus() -> None:
    schedule = closed_schedule(
        executor="ramping-vus", start_vus=4, stages=[{"to": 8, "over": "4s"}]
    )
    assert [schedule.vus_at(t) for t in (0, 1, 2, 3, 4)] == [4, 5, 6, 7, 8]
    assert [schedule.worker_max_vus(w, 3) for w in range(3)] == [3, 3, 2]


@settings(max_examples=150, deadline=None)
@given(
    start=st.integers(0, 200),
    stages=st.lists(st.tuples(st.integers(0, 200), st.floats(0.1, 100)), min_size=1, max_size=5),
    fraction=st.floats(0, 1),
    workers=st.integers(1, 16),
)
def test_ramping_vus_properties(
    start: int, stages: list[tuple[int, float]], fraction: float, workers: int
) -> None:
    stage_list = [{"to": to, "over": f"{over:.3f}s"} for to, over in stages]
    schedule = closed_schedule(executor="ramping-vus", start_vus=start, stages=stage_list)
    t = schedule.duration * fraction
    vus = schedule.vus_at(t)
    assert 0 <= vus <= schedule.max_vus() == max(start, *(to for to, _ in stages))
    assert sum(schedule.worker_vus_at(t, w, workers) for w in range(workers)) == vus
    assert all(
        schedule.worker_vus_at(t, w, workers) <= schedule.worker_max_vus(w, workers)
        for w in range(workers)
    )
    for (t0, v0), (t1, v1) in pairwise(describe(schedule)):
        assert schedule.vus_at(t0) == v0 and schedule.vus_at(t1) == v1
        mid = schedule.vus_at((t0 + t1) / 2)
        assert mid == math.floor((v0 + v1) / 2)


@given(total=st.integers(0, 10_000), workers=st.integers(1, 32))
def test_split_grows_one_worker_at_a_time(total: int, workers: int) -> None:
    before = [share(total, w, workers) for w in range(workers)]
    after = [share(total + 1, w, workers) for w in range(workers)]
    assert sum(after) == sum(before) + 1 == total + 1
    assert sorted(b - a for a, b in zip(before, after, strict=True)) == [0] * (workers - 1) + [1]


# printing helpers


def test_describe_with_samples_and_sample() -> None:
    schedule = ramping_rate(0.0, [(100.0, 10.0)])
    assert describe(schedule, points=4) == [
        (0.0, 0.0),
        (2.0, 20.0),
        (4.0, 40.0),
        (6.0, 60.0),
        (8.0, 80.0),
        (10.0, 100.0),
    ]
    assert sample(schedule, 5) == [10.0, 30.0, 50.0, 70.0, 90.0]
