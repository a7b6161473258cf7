"""Cross-reference checks for chaos: faults ↔ chaos targets, scenarios ↔ faults, fault windows ↔
the load's duration, and thresholds that judge a fault's phases.

A fault must have load before it (a steady state to compare with) and after it (to see
recovery), so every window must sit strictly inside the load. Every problem is collected.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from contval.spec.errors import SuiteError, did_you_mean, one_of
from contval.spec.models import ChaosEntry, Suite
from contval.spec.source import DocPath, SourceDocument
from contval.spec.thresholdpos import threshold_position
from contval.spec.units import format_duration
from contval.spec.workloads import load_duration

MAX_FAULT_SECONDS = 3600.0
"""The cap on one fault's `for`: a fault is a lease on someone's system, never open-ended."""


class ParsedThreshold(NamedTuple):
    """A threshold that parsed: where it is, its text, and the parser's AST."""

    path: DocPath
    text: str
    ast: object


def check_chaos(suite: Suite, doc: SourceDocument) -> list[SuiteError]:
    """Every problem with chaos targets, faults and scenarios' `chaos` lists."""
    errors = _check_targets(suite, doc)
    errors += _check_faults(suite, doc)
    for name in suite.scenarios:
        errors += _check_entries(suite, doc, name)
    return errors


def _check_targets(suite: Suite, doc: SourceDocument) -> list[SuiteError]:
    """Two links cannot listen on one address: the second proxy link could never start."""
    errors: list[SuiteError] = []
    listening: dict[tuple[str, int], str] = {}
    for name, target in suite.chaos_targets.items():
        proxy = getattr(target, "proxy", None)
        if proxy is None:
            continue
        key = (proxy.listen.host, proxy.listen.port)
        if key in listening:
            message = f"`{proxy.listen}` is already the `listen` address of `{listening[key]}`"
            errors.append(doc.error(("chaos_targets", name, "proxy", "listen"), message))
        listening.setdefault(key, name)
    return errors


def _check_faults(suite: Suite, doc: SourceDocument) -> list[SuiteError]:
    errors: list[SuiteError] = []
    for name, fault in suite.faults.items():
        path = ("faults", name, "target")
        target = suite.chaos_targets.get(fault.target)
        if target is None:
            hint = did_you_mean(fault.target, suite.chaos_targets) or (
                "; faults only touch targets declared under `chaos_targets`"
            )
            message = f"chaos target `{fault.target}` is not declared under `chaos_targets`{hint}"
            errors.append(doc.error(path, message))
        elif target.kind not in fault.target_kinds:
            fitting = [n for n, t in suite.chaos_targets.items() if t.kind in fault.target_kinds]
            hint = f"; use {one_of(fitting)}" if fitting else "; declare one under `chaos_targets`"
            message = (
                f"a `{fault.type}` fault needs a {one_of(fault.target_kinds)} target, "
                f"but `{fault.target}` is a `{target.kind}` target{hint}"
            )
            errors.append(doc.error(path, message))
    return errors


def _check_entries(suite: Suite, doc: SourceDocument, scenario_name: str) -> list[SuiteError]:
    scenario = suite.scenarios[scenario_name]
    workload = suite.workloads.get(scenario.workload)
    length = None if workload is None else load_duration(workload)
    errors: list[SuiteError] = []
    first: dict[str, int] = {}
    for index, entry in enumerate(scenario.chaos):
        path = ("scenarios", scenario_name, "chaos", index)
        if entry.fault not in suite.faults:
            hint = did_you_mean(entry.fault, suite.faults)
            message = f"fault `{entry.fault}` is not declared under `faults`{hint}"
            errors.append(doc.error((*path, "fault"), message))
        elif entry.fault in first:
            line = doc.key_or_value((*path[:-1], first[entry.fault], "fault")).line
            message = (
                f"fault `{entry.fault}` is already injected in this scenario (line {line}); "
                "thresholds name a fault's phases, so each fault runs once per scenario"
            )
            errors.append(doc.error((*path, "fault"), message))
        first.setdefault(entry.fault, index)
        errors += _check_window(doc, path, entry, scenario.workload, length)
    return errors


def _check_window(
    doc: SourceDocument, path: DocPath, entry: ChaosEntry, workload: str, length: float | None
) -> list[SuiteError]:
    """`at` and `for` against the cap and the load's duration (None: workload undeclared)."""
    errors: list[SuiteError] = []
    if entry.at <= 0:
        message = (
            "`at` must be after the load starts (above 0s): a fault needs a steady state before it"
        )
        errors.append(doc.error((*path, "at"), message))
    if entry.duration <= 0:
        errors.append(doc.error((*path, "for"), "`for` must be above 0s"))
    elif entry.duration > MAX_FAULT_SECONDS:
        message = f"`for` is {format_duration(entry.duration)}; a fault lasts at most 1h"
        errors.append(doc.error((*path, "for"), message))
    if length is not None and entry.end >= length:
        message = (
            f"fault `{entry.fault}` ends at {format_duration(entry.end)}, but workload "
            f"`{workload}` runs for {format_duration(length)}; end every fault before the "
            "load does, so recovery can be measured"
        )
        errors.append(doc.error((*path, "for"), message))
    return errors


def check_threshold_phases(
    suite: Suite, doc: SourceDocument, scenario_name: str, parsed: list[ParsedThreshold]
) -> list[SuiteError]:
    """`during|before|after F` must name a fault this scenario injects; `recovery_time` needs
    a fault to recover from. Reads the parser's AST by attribute (`.phase.kind/.fault`,
    `.aggregate.kind`), so the spec package does not import the threshold package."""
    injected = [entry.fault for entry in suite.scenarios[scenario_name].chaos]
    errors: list[SuiteError] = []
    for threshold in parsed:
        phase = getattr(threshold.ast, "phase", None)
        kind = getattr(getattr(threshold.ast, "aggregate", None), "kind", None)
        if phase is not None and phase.fault not in injected:
            offset = _phase_offset(threshold.text, str(phase.kind), phase.fault)
            message = _phase_message(suite, scenario_name, injected, str(phase.kind), phase.fault)
            position = threshold_position(doc, threshold.path, offset)
            errors.append(SuiteError(str(doc.path), position, message))
        if kind == "recovery_time" and not injected:
            offset = threshold.text.find("recovery_time")
            message = (
                f"`recovery_time` is measured from the end of a fault, but scenario "
                f"`{scenario_name}` injects none; add one under its `chaos`"
            )
            position = threshold_position(doc, threshold.path, max(offset, 0))
            errors.append(SuiteError(str(doc.path), position, message))
    return errors


def _phase_offset(text: str, kind: str, fault: str) -> int | None:
    """Where the fault's name after `during|before|after` starts in the threshold text."""
    matches = list(re.finditer(rf"\b{kind}\s+({re.escape(fault)})", text))
    return matches[-1].start(1) if matches else None


def _phase_message(suite: Suite, scenario: str, injected: list[str], kind: str, fault: str) -> str:
    head = f"threshold judges `{kind} {fault}`, but scenario `{scenario}`"
    if not injected:
        return f"{head} injects no faults; add `{fault}` under its `chaos`"
    if fault in suite.faults:
        hint = f"; add `{fault}` under its `chaos` to judge it here"
    else:
        hint = did_you_mean(fault, injected)
    return f"{head} does not inject it (it injects {', '.join(injected)}){hint}"
