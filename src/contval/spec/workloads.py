"""Workloads: how much load, of which shape, and which flows it is made of.

Tagged on `executor`, so a typo in one executor's fields is reported against that executor only.
Open-model executors (arrival rates) say how often iterations start; closed-model ones (VUs) say
how many users loop; the iteration executors (as in k6) say how many iterations to run in all,
bounded by `max_duration`. `mix` weights are relative; they need not add up to 100.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field, model_validator

from contval.spec.types import Count, Frozen, Name, Number, PerSecond, Seconds

Weight = Annotated[Number, Field(gt=0)]
PositiveCount = Annotated[Count, Field(gt=0)]
Mix = Annotated[
    Mapping[Name, Weight],
    Field(min_length=1, description="flow name → relative weight (e.g. 70, 25, 5)"),
]
Duration = Annotated[Seconds, Field(gt=0)]
DEFAULT_MAX_VUS = 1000
DEFAULT_MAX_DURATION = 600.0
"""k6's default `maxDuration` (10m) for the iteration executors."""


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


class SharedIterations(Frozen):
    """`iterations` in all, shared by `vus` users: each takes the next one as soon as it is free,
    so a fast user runs more of them (k6's shared-iterations). The run ends when all are done, or
    at `max_duration`; those not started by then are counted as dropped."""

    executor: Literal["shared-iterations"]
    vus: PositiveCount = Field(1, description="virtual users sharing the iterations")
    iterations: PositiveCount = Field(1, description="iterations in all, over every user")
    max_duration: Duration = Field(
        DEFAULT_MAX_DURATION, description="stop starting iterations after this (default 10m)"
    )
    mix: Mix

    @model_validator(mode="after")
    def _enough_iterations(self) -> SharedIterations:
        if self.iterations < self.vus:
            raise ValueError(
                f"iterations ({self.iterations}) must be at least vus ({self.vus}): a user "
                f"without an iteration is never started; lower vus to {self.iterations}"
            )
        return self


class PerVuIterations(Frozen):
    """Each of `vus` users runs exactly `iterations` iterations (k6's per-vu-iterations). The run
    ends when all are done, or at `max_duration`; those not started by then are counted as
    dropped."""

    executor: Literal["per-vu-iterations"]
    vus: PositiveCount = Field(1, description="virtual users, each running `iterations`")
    iterations: PositiveCount = Field(1, description="iterations each user runs")
    max_duration: Duration = Field(
        DEFAULT_MAX_DURATION, description="stop starting iterations after this (default 10m)"
    )
    mix: Mix


AnyWorkload = (
    ConstantArrivalRate
    | ConstantVus
    | RampingVus
    | RampingArrivalRate
    | SharedIterations
    | PerVuIterations
)
Workload = Annotated[AnyWorkload, Field(discriminator="executor")]
EXECUTORS = (
    "constant-arrival-rate",
    "constant-vus",
    "ramping-vus",
    "ramping-arrival-rate",
    "shared-iterations",
    "per-vu-iterations",
)


def load_duration(workload: AnyWorkload) -> float:
    """How long the load runs, in seconds: `duration`, the sum of a ramp's stages, or an
    iteration executor's `max_duration` (it may end sooner, when its iterations are done).

    Chaos windows are checked against it (load must run before and after every fault), so it
    lives with the models rather than with the engine's schedules.
    """
    if isinstance(workload, ConstantArrivalRate | ConstantVus):
        return workload.duration
    if isinstance(workload, SharedIterations | PerVuIterations):
        return workload.max_duration
    return sum(stage.over for stage in workload.stages)
