"""Thresholds that name a flow or step which does not exist.

A threshold scoped to a misspelt flow (`slwo: error_rate < 1%`), or to a flow its scenario's
workload never runs, would judge nothing and the run would fail with `no data`; health rules
and baseline comparisons are thresholds too, so this one check covers all three. Steps of
included flows count as the including flow's steps, because that is how their metrics are
recorded.
"""

from __future__ import annotations

from contval.spec.chaoschecks import ParsedThreshold
from contval.spec.errors import SuiteError, did_you_mean
from contval.spec.models import Suite
from contval.spec.source import SourceDocument
from contval.spec.steps import IncludeStep, PollStep, PythonStep, RequestStep
from contval.spec.thresholdpos import threshold_position


def check_threshold_scopes(
    suite: Suite, doc: SourceDocument, parsed: list[ParsedThreshold]
) -> list[SuiteError]:
    """A located error, with the closest name, for every scope that names nothing."""
    errors: list[SuiteError] = []
    for threshold in parsed:
        scope = getattr(threshold.ast, "scope", None)
        flow = getattr(scope, "flow", None)
        step = getattr(scope, "step", None)
        if not isinstance(flow, str):
            continue
        if flow not in suite.flows:
            hint = did_you_mean(flow, suite.flows) or (
                f"; the flows are {', '.join(f'`{f}`' for f in suite.flows)}"
            )
            message = f"threshold names flow `{flow}`, which is not declared under `flows`{hint}"
            offset = max(threshold.text.find(flow), 0)
        elif isinstance(step, str) and step not in (steps := step_names(suite, flow)):
            hint = did_you_mean(step, steps) or (
                f"; its steps are {', '.join(f'`{s}`' for s in steps)}" if steps else ""
            )
            message = f"threshold names step `{step}`, which flow `{flow}` does not have{hint}"
            offset = max(threshold.text.find(step, threshold.text.find(flow) + len(flow)), 0)
        elif (unrun := _not_in_mix(suite, threshold.path, flow)) is not None:
            message = unrun
            offset = max(threshold.text.find(flow), 0)
        else:
            continue
        position = threshold_position(doc, threshold.path, offset)
        errors.append(SuiteError(str(doc.path), position, message))
    return errors


def _not_in_mix(suite: Suite, path: tuple[object, ...], flow: str) -> str | None:
    """A scenario's threshold on a declared flow its workload never runs judges nothing: every
    run would end `no data`. Included flows record under the flow that includes them, so only
    the mix counts."""
    if len(path) < 3 or path[0] != "scenarios" or path[2] != "thresholds":
        return None
    scenario = suite.scenarios.get(str(path[1]))
    workload = suite.workloads.get(scenario.workload) if scenario else None
    if scenario is None or workload is None or flow in workload.mix:
        return None
    runs = ", ".join(f"`{f}`" for f in workload.mix)
    return (
        f"threshold names flow `{flow}`, which scenario `{path[1]}` never runs (workload "
        f"`{scenario.workload}` runs {runs}): add `{flow}` to that workload's `mix`, or move the "
        "threshold to a scenario that runs it"
    )


def step_names(suite: Suite, flow: str, seen: frozenset[str] = frozenset()) -> list[str]:
    """The names of the steps a flow's iterations record, its includes' steps in place."""
    body = suite.flows.get(flow)
    if body is None or flow in seen:
        return []
    names: list[str] = []
    for step in (*body.setup, *body.steps):
        if isinstance(step, RequestStep | PollStep | PythonStep):
            names.append(step.name)
        elif isinstance(step, IncludeStep):
            names += step_names(suite, step.include, seen | {flow})
    return names
