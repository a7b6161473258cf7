"""The suite: targets, variables, data feeders, flows, workloads and scenarios.

This is the typed form of the suite file the rest of contval consumes. Shape and units are checked
here by pydantic; references between sections are checked in `contval.spec.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, ValidationInfo, field_validator

from contval.spec.chaostargets import ChaosTarget
from contval.spec.faults import Fault
from contval.spec.secrets import Environment, SecretSpec
from contval.spec.signals import MetricsSource, Signal
from contval.spec.steps import Auth, Hops, Step
from contval.spec.tls import TlsSpec
from contval.spec.types import (
    BaseUrl,
    Bytes,
    Frozen,
    Name,
    Percent,
    Scalar,
    Seconds,
    VarName,
)
from contval.spec.workloads import Workload


class CsvFeeder(Frozen):
    """Rows of a CSV file handed out to iterations as `{{ data.NAME.column }}`."""

    csv: Path = Field(description="a CSV file with a header row, relative to the suite file")
    order: Literal["sequential", "random", "unique"] = Field(
        "sequential",
        description="sequential: in file order, wrapping; random: any row; "
        "unique: each row at most once (the run stops feeding when rows run out)",
    )

    @field_validator("csv")
    @classmethod
    def _relative_to_suite(cls, value: Path, info: ValidationInfo) -> Path:
        """Resolve against the data directory (by default the suite's), so runs work from any
        working directory; whether the file may be read is checked with the other feeders."""
        context = info.context or {}
        base = context.get("data_dir") or context.get("base_dir")
        return value if base is None or value.is_absolute() else Path(base) / value


class TargetOptions(Frozen):
    """How requests to one target behave unless a step says otherwise."""

    follow_redirects: Hops | None = Field(
        None, description="false, true or the most hops to follow (default 10)"
    )
    auth: Auth | None = Field(
        None, description="credentials for every step sent to this target without its own `auth`"
    )
    max_decoded_body: Bytes | None = Field(
        None,
        description="the most a gzip/deflate/br body may decode to (default 10MiB); more is an "
        "error of class body_too_large",
    )
    tls: TlsSpec | None = Field(
        None,
        description="https targets: `{verify, ca_file, client_cert, client_key, server_name}`",
    )


class Flow(Frozen):
    """A sequence of steps a user (or the system) goes through; one run of it is an iteration."""

    kind: Literal["user", "system"] = Field(
        "user", description="user: what a person does; system: a background outcome to wait for"
    )
    description: str | None = None
    target: Name = Field(description="the name of a target under `targets`")
    steps: tuple[Step, ...] = Field(min_length=1)
    session: Literal["iteration", "vu", "none"] = Field(
        "iteration",
        description="cookies: iteration: a fresh jar each iteration (as k6); vu: kept for the "
        "virtual user's life; none: cookies are never stored or sent",
    )
    setup: tuple[Step, ...] = Field(
        (),
        description="steps run once per virtual user before its first iteration (log in once); "
        "their extracted variables and cookies are kept for that user's iterations",
    )


def _threshold_text(value: Any) -> Any:
    """`- browse: p95(latency) < 4s` is YAML for a one-entry mapping; it means the text itself."""
    if isinstance(value, dict) and len(value) == 1:
        ((scope, expression),) = value.items()
        if not isinstance(expression, dict | list):
            return f"{scope}: {'' if expression is None else expression}"
    return value


Threshold = Annotated[
    str,
    BeforeValidator(_threshold_text, json_schema_input_type=str | dict[str, str]),
    Field(
        description="`[flow[/step]:] aggregate op value [over DURATION] [, abort]`",
        examples=["error_rate < 1%", "browse/list products: p95(latency) < 200ms"],
    ),
]


class ChaosEntry(Frozen):
    """One fault injected while the scenario's load runs: from `at` for `duration` seconds.

    `for` is the name in the file (a Python keyword, hence the alias). Windows are half-open,
    [at, at + for), as the threshold phases are.
    """

    fault: Name = Field(description="the name of a fault under `faults`")
    at: Seconds = Field(description="when to inject, from the scenario's start (after 0s)")
    duration: Seconds = Field(alias="for", description="how long the fault lasts (at most 1h)")

    @property
    def end(self) -> float:
        """When the fault is reverted, in seconds from the scenario's start."""
        return self.at + self.duration


class BaselinePolicy(Frozen):
    """How a scenario is compared with its baseline: tolerances per metric, and how many runs."""

    p50: Percent | None = Field(default=None, description="latency tolerance, default 10%")
    p95: Percent | None = Field(default=None, description="latency tolerance, default 10%")
    p99: Percent | None = Field(default=None, description="latency tolerance, default 10%")
    error_rate: Percent | None = Field(
        default=None, description="error-rate tolerance in percentage points, default 0.5%"
    )
    rps: Percent | None = Field(default=None, description="throughput drop tolerated, default 10%")
    min_runs: int = Field(default=3, ge=2, le=100, description="baseline runs needed to gate")
    latency_floor: Seconds = Field(
        default=0.002,
        ge=0,
        le=60,
        description="a latency change smaller than this never counts, whatever its percentage "
        "(default 2ms; 0s to judge by percentage alone)",
    )

    scenario_latency: tuple[Literal["p50", "p95", "p99"], ...] = Field(
        default=(),
        description="whole-scenario latency percentiles to compare even when the scenario mixes "
        "several flows (a single-flow scenario always has them compared); e.g. [p95, p99]",
    )

    def tolerances(self) -> dict[str, float]:
        """The tolerances set here (others keep their defaults)."""
        values = {
            "p50": self.p50,
            "p95": self.p95,
            "p99": self.p99,
            "error_rate": self.error_rate,
            "rps": self.rps,
        }
        return {metric: value for metric, value in values.items() if value is not None}


class SideWorkload(Frozen):
    """A workload run side by side with its scenario's own (k6's parallel scenarios), from
    `start_time`, and judged on its own `thresholds` as well as the scenario's."""

    workload: Name = Field(description="the name of a workload under `workloads`")
    start_time: Seconds = Field(
        default=0.0, description="when it starts, from the scenario's start (k6's startTime)"
    )
    thresholds: tuple[Threshold, ...] = Field(
        default=(), description="expressions judged on this workload's load alone"
    )


class Scenario(Frozen):
    """A workload run with the gates that decide its verdict, and the faults injected under it."""

    description: str | None = None
    workload: Name = Field(description="the name of a workload under `workloads`")
    start_time: Seconds = Field(
        default=0.0,
        description="when `workload` starts, from the scenario's start (k6's startTime)",
    )
    alongside: Mapping[Name, SideWorkload] = Field(
        default_factory=dict,
        description="more workloads run side by side with `workload`, by name: each from its "
        "`start_time`, each judged on its own `thresholds` (docs/suite.md)",
    )
    setup: Name | None = Field(
        default=None,
        description="a flow run once before the load; the values it extracts for names under "
        "`variables` are those variables for the whole run (every worker, every VU)",
    )
    teardown: Name | None = Field(
        default=None, description="a flow run once after the load, with the same variables"
    )
    chaos: tuple[ChaosEntry, ...] = Field(
        default=(), description="faults to inject while the load runs (overlaps allowed)"
    )
    thresholds: tuple[Threshold, ...] = Field(
        default=(), description="expressions that must all hold for the scenario to pass"
    )
    baseline: BaselinePolicy = Field(
        default_factory=BaselinePolicy,
        description="tolerances for the comparison with this scenario's baseline",
    )
    on_worker_loss: Literal["stop", "continue"] = Field(
        default="stop",
        description="a load worker lost mid-run (a Ray actor or node): stop (incomplete, "
        "exit 3), or continue with the survivors and record the lost share (docs/scale-out.md)",
    )

    def parts(self) -> tuple[tuple[str, str, float], ...]:
        """Every workload the scenario runs, as (name, workload, start_time): its own first,
        named after its workload, then those `alongside`, by their names."""
        own = (self.workload, self.workload, self.start_time)
        side = ((name, p.workload, p.start_time) for name, p in self.alongside.items())
        return (own, *side)


class HealthProbe(Frozen):
    """An HTTP endpoint that says whether the system is healthy, asked between scenarios."""

    target: Name = Field(description="the name of a target under `targets`")
    path: str = Field(default="/health", description="the path to GET on that target, from `/`")
    status: int = Field(default=200, ge=100, le=599, description="the status that means healthy")

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"must start with `/`, as in /{value}")
        return value


class Pipeline(Frozen):
    """How `contval run SUITE` (no `--scenario`) runs the whole suite, as a release gate."""

    order: tuple[Name, ...] | None = Field(
        default=None,
        min_length=1,
        description="the scenarios to run, in order (default: all, as declared); normal first",
    )
    stop_on_failure: bool = Field(
        default=False, description="skip the remaining scenarios once one fails its gate"
    )
    cooldown: Seconds = Field(
        default=5.0, ge=0, le=3600, description="pause between scenarios to let the system settle"
    )
    health: HealthProbe | None = Field(
        default=None,
        description="asked during each cool-down; the report says whether the system settled",
    )


class Suite(Frozen):
    """A contval suite file: the system's flows, the load to put them under, and the gates."""

    version: Literal[1] = Field(description="the suite format version; always 1 for now")
    name: Name
    description: str | None = None
    targets: Mapping[Name, BaseUrl] = Field(
        min_length=1, description="the only hosts contval may send load to: name → base URL"
    )
    target_options: Mapping[Name, TargetOptions] = Field(
        default_factory=dict,
        description="per target name: follow_redirects, auth, max_decoded_body and tls",
    )
    variables: Mapping[VarName, Scalar] = Field(
        default_factory=dict, description="values used in templates as `{{ vars.NAME }}`"
    )
    data: Mapping[Name, CsvFeeder] = Field(
        default_factory=dict, description="data feeders used in templates as `{{ data.NAME.col }}`"
    )
    secrets: Mapping[VarName, SecretSpec] = Field(
        default_factory=dict,
        description="values from the environment used as `{{ secrets.NAME }}`, never shown in "
        "any output (`public: true` to show one)",
    )
    chaos_targets: Mapping[Name, ChaosTarget] = Field(
        default_factory=dict,
        description="the only things faults may touch: proxy links, local processes, this host",
    )
    faults: Mapping[Name, Fault] = Field(
        default_factory=dict, description="faults that scenarios inject under `chaos`"
    )
    metrics_sources: Mapping[Name, MetricsSource] = Field(
        default_factory=dict,
        description="where server-side signals are read: `{scrape: {target, path, every}}`",
    )
    signals: Mapping[Name, Signal] = Field(
        default_factory=dict,
        description="server-side series thresholds judge as `signal(NAME)` (docs/signals.md)",
    )
    flows: Mapping[Name, Flow] = Field(min_length=1)
    workloads: Mapping[Name, Workload] = Field(min_length=1)
    scenarios: Mapping[Name, Scenario] = Field(min_length=1)
    pipeline: Pipeline = Field(
        default_factory=Pipeline,
        description="the order of a whole-suite run, stop_on_failure, and the cool-down",
    )

    _environment: Environment = PrivateAttr(default_factory=Environment)

    @property
    def environment(self) -> Environment:
        """The `{{ env.NAME }}` and `{{ secrets.NAME }}` values read when the suite was loaded
        (`contval.spec.loader`), and which are secret; empty for a suite built otherwise."""
        return self._environment

    def run_order(self) -> tuple[str, ...]:
        """The scenarios a whole-suite run runs, in order."""
        return self.pipeline.order or tuple(self.scenarios)
