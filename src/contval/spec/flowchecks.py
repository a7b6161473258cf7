"""Cross-reference checks inside flows: targets, includes, templates and absolute URLs.

These need the whole suite (which flows, targets, variables and CSV columns exist), so they run
after the models validate. Every problem is collected; nothing stops at the first.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from pydantic import JsonValue

from contval.spec.errors import SuiteError, closest, did_you_mean
from contval.spec.feeders import shown, shown_columns
from contval.spec.headers import header_name_problem, header_value_problem
from contval.spec.models import Flow, Suite
from contval.spec.source import DocPath, SourceDocument
from contval.spec.steps import HttpCall, IncludeStep, PollStep, PythonStep, RequestStep
from contval.spec.templates import Reference, scan
from contval.spec.tls import check_tls
from contval.spec.types import url_origin

Columns = Mapping[str, tuple[str, ...] | None]
"""Feeder name → CSV header, or None when the file could not be read (already reported)."""


def check_flows(
    suite: Suite, doc: SourceDocument, columns: Columns, environ: Mapping[str, str] | None = None
) -> list[SuiteError]:
    """Every cross-reference problem in the suite's flows, in no particular order.

    `environ` is what `{{ env.NAME }}` reads (default: the process environment)."""
    checker = _FlowChecker(suite, doc, columns)
    checker.environ = os.environ if environ is None else environ
    for name, flow in suite.flows.items():
        checker.check(name, flow)
    checker.check_target_options()
    checker.check_scenario_flows()
    tls = {name: options.tls for name, options in suite.target_options.items()}
    return checker.errors + check_tls(suite.targets, tls, doc, checker.environ)


class _FlowChecker:
    """Walks flows once, tracking which variables each step may use."""

    def __init__(self, suite: Suite, doc: SourceDocument, columns: Columns) -> None:
        self.suite = suite
        self.doc = doc
        self.columns = columns
        self.errors: list[SuiteError] = []
        self.origins = {url_origin(url) for url in suite.targets.values()}
        self.environ: Mapping[str, str] = {}

    def check(self, name: str, flow: Flow) -> None:
        base: DocPath = ("flows", name)
        if flow.target not in self.suite.targets:
            hint = did_you_mean(flow.target, self.suite.targets)
            self._error(
                (*base, "target"), f"target `{flow.target}` is not declared under `targets`{hint}"
            )
        self._check_cycle(name)
        available: set[str] = set()
        seen_steps: dict[str, DocPath] = {}
        steps = [(("setup", i), step) for i, step in enumerate(flow.setup)]
        steps += [(("steps", i), step) for i, step in enumerate(flow.steps)]
        for (section, index), step in steps:
            path = (*base, section, index)
            if section == "setup" and isinstance(step, IncludeStep):
                self._error((*path, "include"), "setup steps cannot include flows; list them")
                continue
            if isinstance(step, IncludeStep):
                self._check_include(path, step)
                available |= self._extracted_by(step.include, set())
            elif isinstance(step, RequestStep | PollStep):
                self._check_step_name(path, step.name, seen_steps)
                call, call_path = (
                    (step, path) if isinstance(step, RequestStep) else (step.poll, (*path, "poll"))
                )
                self._check_call(call_path, call, available)
                available |= set(call.extract)
            elif isinstance(step, PythonStep):
                self._check_step_name(path, step.name, seen_steps)
                available |= set(step.sets)

    def check_scenario_flows(self) -> None:
        """A scenario's `setup` and `teardown` name flows of the suite."""
        for name, scenario in self.suite.scenarios.items():
            for key in ("setup", "teardown"):
                flow = getattr(scenario, key)
                if flow is not None and flow not in self.suite.flows:
                    hint = did_you_mean(flow, self.suite.flows)
                    message = f"{key} flow `{flow}` is not declared under `flows`{hint}"
                    self._error(("scenarios", name, key), message)

    def check_target_options(self) -> None:
        """Options for declared targets only; their auth may use vars, env and secrets."""
        for name, options in self.suite.target_options.items():
            path: DocPath = ("target_options", name)
            if name not in self.suite.targets:
                hint = did_you_mean(name, self.suite.targets)
                message = f"target `{name}` is not declared under `targets`{hint}"
                self.errors.append(self.doc.error(path, message, at_key=True))
            auth = options.auth
            if auth is not None:
                if auth.bearer is not None:
                    self._check_text((*path, "auth", "bearer"), auth.bearer, set())
                for index, text in enumerate(auth.basic or ()):
                    self._check_text((*path, "auth", "basic", index), text, set())

    def _check_step_name(self, path: DocPath, name: str, seen: dict[str, DocPath]) -> None:
        if name in seen:
            line = self.doc.key_or_value((*seen[name], "name")).line
            self._error((*path, "name"), f"duplicate step name `{name}` (first at line {line})")
        else:
            seen[name] = path

    def _check_include(self, path: DocPath, step: IncludeStep) -> None:
        if step.include not in self.suite.flows:
            hint = did_you_mean(step.include, self.suite.flows)
            self._error((*path, "include"), f"include of unknown flow `{step.include}`{hint}")
        elif self.suite.flows[step.include].setup:
            self._error(
                (*path, "include"),
                f"flow `{step.include}` has `setup:` steps, which run once per virtual user of"
                " the flow that declares them; move them to this flow's `setup:`",
            )

    def _includes(self, flow_name: str) -> Iterator[tuple[int, str]]:
        flow = self.suite.flows.get(flow_name)
        for index, step in enumerate(flow.steps if flow else ()):
            if isinstance(step, IncludeStep):
                yield index, step.include

    def _check_cycle(self, start: str) -> None:
        """Report the first include of `start` that leads back to `start`, with the loop."""
        for index, first in self._includes(start):
            loop = self._path_to(first, start, [start, first], set())
            if loop is not None:
                message = "include cycle: " + " → ".join(loop)
                self._error(("flows", start, "steps", index, "include"), message)
                return

    def _path_to(
        self, current: str, goal: str, trail: list[str], seen: set[str]
    ) -> list[str] | None:
        if current == goal:
            return trail
        if current in seen:
            return None
        seen.add(current)
        for _, nxt in self._includes(current):
            found = self._path_to(nxt, goal, [*trail, nxt], seen)
            if found is not None:
                return found
        return None

    def _extracted_by(self, flow_name: str, visiting: set[str]) -> set[str]:
        """Variables a flow defines (its own extracts and its includes'), cycle-safe."""
        flow = self.suite.flows.get(flow_name)
        if flow is None or flow_name in visiting:
            return set()
        visiting.add(flow_name)
        names: set[str] = set()
        for step in flow.steps:
            if isinstance(step, IncludeStep):
                names |= self._extracted_by(step.include, visiting)
            elif isinstance(step, RequestStep):
                names |= set(step.extract)
            elif isinstance(step, PollStep):
                names |= set(step.poll.extract)
            elif isinstance(step, PythonStep):
                names |= set(step.sets)
        return names

    def _check_call(self, path: DocPath, call: HttpCall, available: set[str]) -> None:
        self._check_text((*path, "request"), call.request.text, available)
        if call.request.is_absolute:
            self._check_absolute((*path, "request"), call.request.target)
        for header, value in call.headers.items():
            self._check_header((*path, "headers", header), header, value)
            self._check_text((*path, "headers", header), value, available)
        if call.body is not None:
            self._check_text((*path, "body"), call.body, available)
        self._check_json((*path, "json"), call.json_body, available)
        for key in ("form", "multipart"):
            for field, value in (getattr(call, key) or {}).items():
                if isinstance(value, str):
                    self._check_text((*path, key, field), value, available)
        if call.auth is not None:
            if call.auth.bearer is not None:
                self._check_text((*path, "auth", "bearer"), call.auth.bearer, available)
            for index, text in enumerate(call.auth.basic or ()):
                self._check_text((*path, "auth", "basic", index), text, available)

    def _check_header(self, path: DocPath, name: str, value: str) -> None:
        """Forbidden or malformed names, and values that would split the request."""
        problem = header_name_problem(name)
        if problem is not None:
            self.errors.append(self.doc.error(path, problem, at_key=True))
        problem = header_value_problem(value)
        if problem is not None:
            self._error(path, problem)

    def _check_json(self, path: DocPath, value: JsonValue, available: set[str]) -> None:
        if isinstance(value, str):
            self._check_text(path, value, available)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._check_json((*path, index), item, available)
        elif isinstance(value, dict):
            for key, item in value.items():
                self._check_json((*path, key), item, available)

    def _check_absolute(self, path: DocPath, url: str) -> None:
        authority = url.split("//", 1)[1].split("/", 1)[0]
        if "{{" in authority:
            self._error(path, "refused: the host of an absolute URL cannot come from a template")
            return
        if url_origin(url) not in self.origins:
            targets = ", ".join(f"`{u}`" for u in self.suite.targets.values())
            self._error(
                path,
                f"refused: `{authority}` is not a declared target; "
                f"load only goes to hosts under `targets` ({targets})",
            )

    def _check_text(self, path: DocPath, text: str, available: set[str]) -> None:
        references, problems = scan(text)
        span = self.doc.span(path)
        for problem in problems:
            self.errors.append(
                SuiteError(str(self.doc.path), span.text_position(problem.offset), problem.message)
            )
        for reference in references:
            message = self._undefined(reference, available)
            if message:
                position = span.text_position(reference.offset)
                self.errors.append(SuiteError(str(self.doc.path), position, message))

    def _undefined(self, ref: Reference, available: set[str]) -> str | None:
        """Why `ref` cannot be resolved at this point of the flow, or None if it can."""
        if ref.kind in ("env", "secrets"):
            return self._undefined_external(ref.kind, ref.parts[0])
        if ref.kind == "vars":
            name = ref.parts[0]
            if name in self.suite.variables:
                return None
            hint = did_you_mean(name, self.suite.variables, prefix="vars.")
            return f"template uses `vars.{name}`, which is not defined under `variables`{hint}"
        if ref.kind == "data":
            return self._undefined_column(ref.parts[0], ref.parts[1])
        name = ref.parts[0]
        if name in available:
            return None
        hint = did_you_mean(name, available) or (
            f"; did you mean `vars.{name}`?" if name in self.suite.variables else ""
        )
        return (
            f"template uses `{name}`, which no earlier step extracts "
            f"(use `extract:` in an earlier step or an included flow){hint}"
        )

    def _undefined_external(self, kind: str, name: str) -> str | None:
        """An unset environment variable, or a secret `secrets:` does not declare."""
        if kind == "env":
            if name in self.environ:
                return None
            return (
                f"environment variable `{name}` is not set; set it, or pass "
                f"`--env-file FILE` with a `{name}=...` line"
            )
        if name in self.suite.secrets:
            return None
        hint = did_you_mean(name, self.suite.secrets, prefix="secrets.")
        return f"template uses `secrets.{name}`, which is not declared under `secrets`{hint}"

    def _undefined_column(self, feeder: str, column: str) -> str | None:
        if feeder not in self.suite.data:
            hint = did_you_mean(feeder, self.suite.data)
            return f"template uses `data.{feeder}`, which is not declared under `data`{hint}"
        header = self.columns.get(feeder)
        if header is None or column in header:
            return None
        close = closest(column, header)
        hint = f"; did you mean {shown(close)}?" if close is not None else ""
        return (
            f"template uses `data.{feeder}.{column}`, but the CSV file has no column `{column}` "
            f"(columns: {shown_columns(header)}){hint}"
        )

    def _error(self, path: DocPath, message: str) -> None:
        self.errors.append(self.doc.error(path, message))
