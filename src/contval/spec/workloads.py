"""Workloads: how much load, of which shape, and which flows it is made of.

Tagged on `executor`, so a typo in one executor's fields is reported against that executor only.
Open-model executors (arrival rates) say how often iterations start; closed-model ones (VUs) say
how many users loop. `mix` weights are relative; they need not add up to 100.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field

from contval.spec.types import Count, Frozen, Name, Number, PerSecond, Seconds

Weight = Annotated[Number, Field(gt=0)]
PositiveCount = Annotated[Count, Field(gt=0)]
Mix = Annotated[
    Mapping[Name, Weight],
    Field(min_length=1, description="flow name → relative weight (e.g. 70, 25, 5)"),
]
Duration = Annotated[Seconds, Field(gt=0)]
DEFAULT_MAX_VUS = 1000


class ConstantArrivalRate(Frozen):
    """Start iterations at a fixed rate whatever the system's latency (an open model)."""

    executor: Literal["constant-arrival-rate"]
    rate: Annotated[PerSecond, Field(gt=0)] = Field(description="iterations started per second")
    duration: Duration
    max_vus: PositiveCount = Field(
        DEFAULT_MAX_VUS, description="cap on concurrent iterations; beyond it, iterations drop"
    )
    mix: Mix


class ConstantVus(Frozen):
    """A fixed number of virtual users, each looping over its flow (a closed model)."""

    executor: Literal["constant-vus"]
    vus: PositiveCount
    duration: Duration
    mix: Mix


class VuStage(Frozen):
    """Move linearly to `to` virtual users over `over`."""

    to: Annotated[Count, Field(ge=0)]
    over: Duration


class RampingVus(Frozen):
    """Virtual users ramping through stages (a closed model)."""

    executor: Literal["ramping-vus"]
    start_vus: Annotated[Count, Field(ge=0)] = 0
    stages: tuple[VuStage, ...] = Field(min_length=1)
    mix: Mix


class RateStage(Frozen):
    """Move linearly to the arrival rate `to` over `over`."""

    to: Annotated[PerSecond, Field(ge=0)]
    over: Duration


class RampingArrivalRate(Frozen):
    """An arrival rate ramping through stages (an open model)."""

    executor: Literal["ramping-arrival-rate"]
    start_rate: Annotated[PerSecond, Field(ge=0)] = 0.0
    stages: tuple[RateStage, ...] = Field(min_length=1)
    max_vus: PositiveCount = Field(
        DEFAULT_MAX_VUS, description="cap on concurrent iterations; beyond it, iterations drop"
    )
    mix: Mix


Workload = Annotated[
    ConstantArrivalRate | ConstantVus | RampingVus | RampingArrivalRate,
    Field(discriminator="executor"),
]
EXECUTORS = ("constant-arrival-rate", "constant-vus", "ramping-vus", "ramping-arrival-rate")


def load_duration(
    workload: ConstantArrivalRate | ConstantVus | RampingVus | RampingArrivalRate,
) -> float:
    """How long the load runs, in seconds: `duration`, or the sum of a ramp's stages.

    Chaos windows are checked against it (load must run before and after every fault), so it
    lives with the models rather than with the engine's schedules.
    """
    if isinstance(workload, ConstantArrivalRate | ConstantVus):
        return workload.duration
    return sum(stage.over for stage in workload.stages)
