"""Suite file models, YAML loading with line numbers, units and JSON Schema export.

The public surface: `load_suite(path) -> Suite` raising `SuiteInvalid` (whose `errors` are
`SuiteError`s, each `file:line:col: message`), `summarize`, and `suite_json_schema`. Chaos:
`Suite.chaos_targets` (`ProxyTarget` | `ProcessTarget` | `HostTarget`), `Suite.faults` (`Fault`,
tagged on `type`, values in base units) and `Scenario.chaos` (`ChaosEntry`: fault, at, duration).
"""

from contval.spec.chaostargets import (
    Address,
    ChaosTarget,
    HostTarget,
    ProcessSelector,
    ProcessTarget,
    ProxyLink,
    ProxyTarget,
)
from contval.spec.checks import ThresholdParser, find_threshold_parser
from contval.spec.errors import Position, SuiteError, SuiteInvalid
from contval.spec.faults import FAULT_TYPES, Fault, FaultBase, ProxyFault
from contval.spec.loader import load_suite, load_suite_text, python_steps, summarize
from contval.spec.models import ChaosEntry, CsvFeeder, Flow, Scenario, Suite
from contval.spec.schema import suite_json_schema, suite_json_schema_text
from contval.spec.steps import (
    Check,
    Condition,
    Extract,
    IncludeStep,
    Poll,
    PollStep,
    PythonStep,
    RequestStep,
    Step,
    ThinkStep,
)
from contval.spec.types import RequestLine, ThinkTime
from contval.spec.workloads import (
    ConstantArrivalRate,
    ConstantVus,
    RampingArrivalRate,
    RampingVus,
    RateStage,
    VuStage,
    Workload,
    load_duration,
)

__all__ = [
    "FAULT_TYPES",
    "Address",
    "ChaosEntry",
    "ChaosTarget",
    "Check",
    "Condition",
    "ConstantArrivalRate",
    "ConstantVus",
    "CsvFeeder",
    "Extract",
    "Fault",
    "FaultBase",
    "Flow",
    "HostTarget",
    "IncludeStep",
    "Poll",
    "PollStep",
    "Position",
    "ProcessSelector",
    "ProcessTarget",
    "ProxyFault",
    "ProxyLink",
    "ProxyTarget",
    "PythonStep",
    "RampingArrivalRate",
    "RampingVus",
    "RateStage",
    "RequestLine",
    "RequestStep",
    "Scenario",
    "Step",
    "Suite",
    "SuiteError",
    "SuiteInvalid",
    "ThinkStep",
    "ThinkTime",
    "ThresholdParser",
    "VuStage",
    "Workload",
    "find_threshold_parser",
    "load_duration",
    "load_suite",
    "load_suite_text",
    "python_steps",
    "suite_json_schema",
    "suite_json_schema_text",
    "summarize",
]
