"""Whole-suite checks that a single model cannot do: references between sections, feeder files,
and threshold expressions (through the parser `contval.thresholds` provides, when it does).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from contval.spec.chaoschecks import ParsedThreshold, check_chaos, check_threshold_phases
from contval.spec.errors import SuiteError, did_you_mean
from contval.spec.feeders import FeederFileError, read_header
from contval.spec.flowchecks import check_flows
from contval.spec.models import Suite
from contval.spec.scopechecks import check_threshold_scopes
from contval.spec.sidechecks import check_alongside
from contval.spec.signalchecks import check_signals, check_threshold_signals
from contval.spec.source import DocPath, SourceDocument
from contval.spec.thresholdpos import threshold_position

ThresholdParser = Callable[[str], object]
"""`parse_threshold(text) -> object`, raising a `ValueError` (ideally with a 1-based `column`)."""


def find_threshold_parser() -> ThresholdParser | None:
    """`contval.thresholds.parse_threshold` if that package provides it yet, else None.

    This is the single place where validation meets the threshold grammar; the spec package does
    not depend on it, so either can be built, tested and shipped first.
    """
    try:
        module = importlib.import_module("contval.thresholds")
    except ModuleNotFoundError as exc:
        if exc.name in ("contval.thresholds", "contval"):
            return None
        raise  # a broken thresholds package must fail loudly, not silently skip checks
    parser = getattr(module, "parse_threshold", None)
    return parser if callable(parser) else None


def check_suite_references(
    suite: Suite,
    doc: SourceDocument,
    parse_threshold: ThresholdParser | None,
    data_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[SuiteError]:
    """Every cross-reference problem in a suite whose sections each validated on their own.

    Feeder files must live under `data_dir` (default: the suite file's directory); `env` and
    `secrets` values come from `environ` (default: the process environment).
    """
    environ = os.environ if environ is None else environ
    columns, errors = _check_feeders(suite, doc, data_dir or doc.path.parent.absolute())
    errors += _check_secrets(suite, doc, environ)
    errors += check_flows(suite, doc, columns, environ)
    errors += _check_workloads(suite, doc)
    errors += check_chaos(suite, doc)
    errors += check_signals(suite, doc)
    errors += _check_scenarios(suite, doc, parse_threshold)
    parse = None if parse_threshold is None else _bind(parse_threshold)
    errors += check_alongside(suite, doc, parse)
    errors += _check_pipeline(suite, doc)
    return errors


def _check_secrets(
    suite: Suite, doc: SourceDocument, environ: Mapping[str, str]
) -> list[SuiteError]:
    """A `secrets` entry whose variable is unset: located at its `env:`, naming both."""
    errors: list[SuiteError] = []
    for name, spec in suite.secrets.items():
        if spec.env not in environ:
            message = (
                f"environment variable `{spec.env}` (secret `{name}`) is not set; set it, or "
                f"pass `--env-file FILE` with a `{spec.env}=...` line"
            )
            errors.append(doc.error(("secrets", name, "env"), message))
    return errors


def _check_pipeline(suite: Suite, doc: SourceDocument) -> list[SuiteError]:
    errors: list[SuiteError] = []
    seen: set[str] = set()
    for index, name in enumerate(suite.pipeline.order or ()):
        path = ("pipeline", "order", index)
        if name not in suite.scenarios:
            hint = did_you_mean(name, suite.scenarios)
            errors.append(doc.error(path, f"scenario `{name}` is not declared{hint}"))
        elif name in seen:
            errors.append(doc.error(path, f"scenario `{name}` is listed twice; list it once"))
        seen.add(name)
    probe = suite.pipeline.health
    if probe is not None and probe.target not in suite.targets:
        hint = did_you_mean(probe.target, suite.targets)
        message = f"target `{probe.target}` is not declared under `targets`{hint}"
        errors.append(doc.error(("pipeline", "health", "target"), message))
    return errors


def _check_feeders(
    suite: Suite, doc: SourceDocument, root: Path
) -> tuple[dict[str, tuple[str, ...] | None], list[SuiteError]]:
    columns: dict[str, tuple[str, ...] | None] = {}
    errors: list[SuiteError] = []
    for name, feeder in suite.data.items():
        label = _raw(doc, ("data", name, "csv"))
        try:
            columns[name] = read_header(feeder.csv, label, root)
        except FeederFileError as exc:
            columns[name] = None
            errors.append(doc.error(("data", name, "csv"), str(exc)))
    return columns, errors


def _raw(doc: SourceDocument, path: tuple[str, ...]) -> str | None:
    """The text the user wrote at `path`, for messages (the model may hold a resolved form)."""
    value: Any = doc.data
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return str(value)


def _check_workloads(suite: Suite, doc: SourceDocument) -> list[SuiteError]:
    errors: list[SuiteError] = []
    for name, workload in suite.workloads.items():
        for flow in workload.mix:
            if flow not in suite.flows:
                hint = did_you_mean(flow, suite.flows)
                message = f"mix names unknown flow `{flow}`{hint}"
                errors.append(doc.error(("workloads", name, "mix", flow), message, at_key=True))
    return errors


def _check_scenarios(
    suite: Suite, doc: SourceDocument, parse_threshold: ThresholdParser | None
) -> list[SuiteError]:
    errors: list[SuiteError] = []
    for name, scenario in suite.scenarios.items():
        if scenario.workload not in suite.workloads:
            hint = did_you_mean(scenario.workload, suite.workloads)
            message = f"workload `{scenario.workload}` is not declared under `workloads`{hint}"
            errors.append(doc.error(("scenarios", name, "workload"), message))
        if parse_threshold is None:
            continue
        parsed: list[ParsedThreshold] = []
        for index, text in enumerate(scenario.thresholds):
            path = ("scenarios", name, "thresholds", index)
            threshold, error = parse_one(doc, path, text, parse_threshold)
            if error is not None:
                errors.append(error)
            else:
                parsed.append(ParsedThreshold(path, text, threshold))
        errors += check_threshold_phases(suite, doc, name, parsed)
        errors += check_threshold_scopes(suite, doc, parsed)
        errors += check_threshold_signals(suite, doc, parsed)
    return errors


def _bind(
    parse: ThresholdParser,
) -> Callable[[SourceDocument, DocPath, str], tuple[object, SuiteError | None]]:
    return lambda doc, path, text: parse_one(doc, path, text, parse)


def check_threshold(
    doc: SourceDocument, path: DocPath, text: str, parse: ThresholdParser
) -> SuiteError | None:
    """Run the threshold parser on one expression; the located error, if it fails."""
    return parse_one(doc, path, text, parse)[1]


def parse_one(
    doc: SourceDocument, path: DocPath, text: str, parse: ThresholdParser
) -> tuple[object, SuiteError | None]:
    """Run the threshold parser on one expression; map its error column into the file.

    Contract with `contval.thresholds`: a syntax error is a `ValueError` whose `column` attribute,
    if present, is the 1-based column of the bad token within the expression text. Any other
    exception is a bug in the parser and propagates.
    """
    try:
        return parse(text), None
    except ValueError as exc:
        column = getattr(exc, "column", None)
        offset = column - 1 if isinstance(column, int) and column >= 1 else None
        message = f"invalid threshold {text!r}: {_first_line(exc)}"
        return None, SuiteError(str(doc.path), threshold_position(doc, path, offset), message)


def _first_line(exc: ValueError) -> str:
    """One line per error: prefer the parser's bare `message` over a drawn caret."""
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) else str(exc).splitlines()[0]
