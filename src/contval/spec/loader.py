"""Loading a suite: read → compose with positions → validate models → cross-check → `Suite`.

Each stage reports every problem it can see; a later stage runs only when the earlier ones leave
something meaningful to check (cross-references are meaningless on a suite that did not parse).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from contval.spec.checks import ThresholdParser, check_suite_references, find_threshold_parser
from contval.spec.errors import SuiteError, SuiteInvalid
from contval.spec.models import Suite
from contval.spec.secrets import referenced_env, resolve_environment
from contval.spec.source import SourceDocument, SourceError, parse_source, read_source
from contval.spec.steps import PythonStep
from contval.spec.translate import translate

ParserChoice = ThresholdParser | Literal["auto"] | None
"""A threshold parser, "auto" (use `contval.thresholds` if present), or None (skip)."""


def load_suite(
    path: str | Path,
    *,
    threshold_parser: ParserChoice = "auto",
    data_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    import_python: bool = True,
) -> Suite:
    """The validated suite at `path`; raises `SuiteInvalid` carrying every error found.

    This is the one validation path: `contval validate`, `plan`, `run` and every worker use it,
    so whatever a run would refuse is refused here first. `threshold_parser` defaults to
    `contval.thresholds.parse_threshold` when that exists; pass None to skip threshold syntax
    checks, or a callable to use another parser. `data_dir` is where feeder files live (and
    where their relative paths start); by default the suite file's directory. `environ` is what
    `{{ env.NAME }}` and `secrets:` read (default: the process environment). `import_python`
    False checks python steps without importing their modules (`--no-python`: no code of the
    suite runs; `python_steps` lists what was not imported); such a suite is for reading only.
    """
    try:
        doc = read_source(Path(path))
    except SourceError as exc:
        raise SuiteInvalid(exc.errors) from None
    return validate_document(
        doc,
        threshold_parser=threshold_parser,
        data_dir=data_dir,
        environ=environ,
        import_python=import_python,
    )


def load_suite_text(
    text: str,
    path: str | Path = "<suite>",
    *,
    threshold_parser: ParserChoice = "auto",
    data_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    import_python: bool = True,
) -> Suite:
    """Like `load_suite` for text in memory; `path` labels errors and anchors relative files."""
    try:
        doc = parse_source(text, Path(path))
    except SourceError as exc:
        raise SuiteInvalid(exc.errors) from None
    return validate_document(
        doc,
        threshold_parser=threshold_parser,
        data_dir=data_dir,
        environ=environ,
        import_python=import_python,
    )


def validate_document(
    doc: SourceDocument,
    *,
    threshold_parser: ParserChoice = "auto",
    data_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    import_python: bool = True,
) -> Suite:
    """Models first, then cross-references; raises `SuiteInvalid` with everything found.

    The valid suite carries the `env` and `secrets` values it uses (`Suite.environment`)."""
    if not isinstance(doc.data, dict):
        raise SuiteInvalid([_not_a_mapping(doc)])
    base_dir = doc.path.parent.absolute()
    data = Path(data_dir).absolute() if data_dir is not None else base_dir
    context = {"base_dir": base_dir, "data_dir": data, "import_python": import_python}
    try:
        suite = Suite.model_validate(doc.data, context=context)
    except ValidationError as exc:
        raise SuiteInvalid(translate(exc, doc, Suite)) from None
    parser = find_threshold_parser() if threshold_parser == "auto" else threshold_parser
    environ = os.environ if environ is None else environ
    errors = check_suite_references(suite, doc, parser, data, environ)
    if errors:
        raise SuiteInvalid(errors)
    suite._environment = resolve_environment(referenced_env(doc.data), suite.secrets, environ)
    return suite


def _not_a_mapping(doc: SourceDocument) -> SuiteError:
    kind = "a list" if isinstance(doc.data, list) else f"a single value ({doc.data!r})"
    message = (
        f"a suite must be a mapping with `version`, `name`, `targets`, `flows`, "
        f"`workloads` and `scenarios`, not {kind}"
    )
    return SuiteError(str(doc.path), doc.span(()).value, message)


def python_steps(suite: Suite) -> list[str]:
    """Every `python:` step of the suite, as `flow/step` (a flow's `setup` steps too), in the
    suite's order: what `--no-python` leaves unimported, and a run refuses to run."""
    return [
        f"{name}/{step.name}"
        for name, flow in suite.flows.items()
        for step in (*flow.setup, *flow.steps)
        if isinstance(step, PythonStep)
    ]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def summarize(suite: Suite) -> list[str]:
    """A few lines saying what a valid suite contains, for `contval validate`."""
    flows = ", ".join(
        f"{name} ({flow.kind}, {_count(len(flow.steps), 'step')})"
        for name, flow in suite.flows.items()
    )
    workloads = ", ".join(f"{name} ({w.executor})" for name, w in suite.workloads.items())
    scenarios = ", ".join(
        f"{name} ({s.workload}, {_count(len(s.thresholds), 'threshold')}"
        + (f", {len(s.chaos)} fault{'s' if len(s.chaos) > 1 else ''})" if s.chaos else ")")
        for name, s in suite.scenarios.items()
    )
    lines = [
        f"suite `{suite.name}` is valid",
        f"  targets:   {', '.join(f'{n} {u}' for n, u in suite.targets.items())}",
        f"  flows:     {flows}",
        f"  workloads: {workloads}",
        f"  scenarios: {scenarios}",
    ]
    if suite.chaos_targets or suite.faults:
        chaos = ", ".join(f"{n} ({t.kind})" for n, t in suite.chaos_targets.items())
        faults = ", ".join(f"{n} ({f.type} on {f.target})" for n, f in suite.faults.items())
        lines += [f"  chaos:     {chaos}", f"  faults:    {faults or '(none)'}"]
    if suite.signals:
        signals = ", ".join(f"{n} ({s.kind} from {s.source})" for n, s in suite.signals.items())
        lines.append(f"  signals:   {signals}")
    return lines
