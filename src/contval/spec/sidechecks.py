"""Checks of a scenario's `alongside` workloads (side by side with its own): each names a
declared workload, none takes the name of the scenario's own workload (results are keyed by
these names), and each one's thresholds parse and name flows that workload runs. They may
name the baseline (`p95(latency) < baseline + 10%`, `regression(p95) < 10%`): each workload is
compared with a baseline of its own (`contval.pipeline.part_gate`). An `abort` in them is
allowed: it stops the whole scenario, as one in the scenario's thresholds does.
"""

from __future__ import annotations

from collections.abc import Callable

from contval.spec.chaoschecks import ParsedThreshold, check_threshold_phases
from contval.spec.errors import SuiteError, did_you_mean
from contval.spec.models import Suite
from contval.spec.scopechecks import check_threshold_scopes
from contval.spec.signalchecks import check_threshold_signals
from contval.spec.source import DocPath, SourceDocument
from contval.spec.thresholdpos import threshold_position

Parse = Callable[[SourceDocument, DocPath, str], tuple[object, SuiteError | None]]


def check_alongside(suite: Suite, doc: SourceDocument, parse: Parse | None) -> list[SuiteError]:
    errors: list[SuiteError] = []
    for name, scenario in suite.scenarios.items():
        for part_name, part in scenario.alongside.items():
            path: DocPath = ("scenarios", name, "alongside", part_name)
            if part_name == scenario.workload:
                message = (
                    f"`{part_name}` is this scenario's own `workload`; results name each workload "
                    "that runs side by side, so give this one another name"
                )
                errors.append(doc.error(path, message, at_key=True))
            if part.workload not in suite.workloads:
                hint = did_you_mean(part.workload, suite.workloads)
                message = f"workload `{part.workload}` is not declared under `workloads`{hint}"
                errors.append(doc.error((*path, "workload"), message))
            if parse is not None:
                errors += _thresholds(suite, doc, name, part_name, parse)
    return errors


def _thresholds(
    suite: Suite, doc: SourceDocument, scenario: str, part_name: str, parse: Parse
) -> list[SuiteError]:
    part = suite.scenarios[scenario].alongside[part_name]
    errors: list[SuiteError] = []
    parsed: list[ParsedThreshold] = []
    for index, text in enumerate(part.thresholds):
        path = ("scenarios", scenario, "alongside", part_name, "thresholds", index)
        ast, error = parse(doc, path, text)
        if error is not None:
            errors.append(error)
            continue
        parsed.append(ParsedThreshold(path, text, ast))
        flow = getattr(getattr(ast, "scope", None), "flow", None)
        workload = suite.workloads.get(part.workload)
        if isinstance(flow, str) and flow in suite.flows and workload and flow not in workload.mix:
            runs = ", ".join(f"`{f}`" for f in workload.mix)
            message = (
                f"threshold names flow `{flow}`, which `{part_name}` never runs (workload "
                f"`{part.workload}` runs {runs}); judge it in the scenario's `thresholds`"
            )
            position = threshold_position(doc, path, max(text.find(flow), 0))
            errors.append(SuiteError(str(doc.path), position, message))
    errors += check_threshold_phases(suite, doc, scenario, parsed)
    errors += check_threshold_scopes(suite, doc, parsed)
    errors += check_threshold_signals(suite, doc, parsed)
    return errors
