"""Suite file models, YAML loading with line numbers, units and JSON Schema export.

The public surface: `load_suite(path) -> Suite` raising `SuiteInvalid` (whose `errors` are
`SuiteError`s, each `file:line:col: message`), `summarize`, and `suite_json_schema`.
"""

from contval.spec.checks import ThresholdParser, find_threshold_parser
from contval.spec.errors import Position, SuiteError, SuiteInvalid
from contval.spec.loader import load_suite, load_suite_text, summarize
from contval.spec.models import CsvFeeder, Flow, Scenario, Suite
from contval.spec.schema import suite_json_schema, suite_json_schema_text
from contval.spec.steps import (
    Check,
    Condition,
    Extract,
    IncludeStep,
    Poll,
    PollStep,
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
)

__all__ = [
    "Check",
    "Condition",
    "ConstantArrivalRate",
    "ConstantVus",
    "CsvFeeder",
    "Extract",
    "Flow",
    "IncludeStep",
    "Poll",
    "PollStep",
    "Position",
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
    "load_suite",
    "load_suite_text",
    "suite_json_schema",
    "suite_json_schema_text",
    "summarize",
]
