"""`contval run`: load the suite, check the targets, run each scenario on local workers, judge
its thresholds, write results as the run goes, and return the exit code."""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from contval.baseline.sqlite import StoreError
from contval.baseline.store import HistoryStore
from contval.exitcodes import ExitCode, worst
from contval.pipeline.cooldown import cool_down, probe_url
from contval.pipeline.gate import git_label
from contval.pipeline.options import Interrupt, RunOptions
from contval.pipeline.preflight import reachability_problems
from contval.pipeline.scenario import run_scenario
from contval.pipeline.verdict import suite_code
from contval.report.console import print_suite_summary
from contval.report.markdown import append_step_summary
from contval.report.render import FILE_NAMES, write_reports
from contval.report.result import ResultFile
from contval.spec import Suite
from contval.thresholds.result import State, worst_state

__all__ = ["RunOptions", "default_workers", "run_suite"]

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


@contextmanager
def _signals(state: Interrupt, handlers: dict[int, Any]) -> Iterator[None]:
    """SIGINT and SIGTERM stop the load cleanly; the results of what ran are kept."""

    def handler(signum: int, frame: object) -> None:
        state.reason = "interrupted by " + signal.Signals(signum).name
        if state.controller is not None:
            state.controller.stop(state.reason)
        if state.chaos is not None:
            state.chaos.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        handlers[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for signum, old in handlers.items():
            signal.signal(signum, old)


def run_suite(options: RunOptions, console: Console) -> ExitCode:
    suite = options.suite
    if not _prepare_chaos(options, console):  # first: targets may sit behind the fault proxy
        return ExitCode.RUN_INCOMPLETE
    problems = reachability_problems(suite, options.scenarios)
    if problems:
        for problem in problems:
            console.print(f"[red]error:[/red] {problem}", highlight=False)
        console.print("nothing was run; start the system under test or fix `targets`.")
        return ExitCode.RUN_INCOMPLETE
    started = time.time()
    result = ResultFile(
        options.out_dir / "result.json", suite.name, str(options.suite_path), started
    )
    result.redactor = suite.environment.redactor()  # no secret in result.json, history, reports
    result.extra.update(
        run_id=suite_run_id(started),
        env=options.gate.env,
        label=options.gate.label or git_label(),
        require_baseline=options.gate.require_baseline,
        health=None,
        pipeline={
            "order": list(options.scenarios),
            "stop_on_failure": suite.pipeline.stop_on_failure,
            "skipped": [],
            "stopped_after": None,
        },
    )
    result.write()
    state = Interrupt()
    handlers: dict[int, Any] = {}
    code = ExitCode.OK
    with _signals(state, handlers):
        for index, name in enumerate(options.scenarios):
            if state.reason:
                break
            if code != ExitCode.OK and suite.pipeline.stop_on_failure:
                _skip_rest(result, options.scenarios[index:], options.scenarios[index - 1])
                console.print(
                    f"stop_on_failure: skipping {', '.join(options.scenarios[index:])}",
                    highlight=False,
                )
                break
            cooldown = None
            if index > 0:
                cooldown = _cool_down(suite, state, console)
                if state.reason:
                    break
            scenario_code = run_scenario(options, name, result, state, console)
            result.scenarios[-1]["cooldown"] = cooldown
            code = worst(code, scenario_code)
    result.complete = state.reason is None and code != ExitCode.RUN_INCOMPLETE
    if state.reason and code != ExitCode.FAULT_NOT_REVERTED:
        code = ExitCode.RUN_INCOMPLETE
    code = suite_code(code, result.scenarios, options.gate.allow_ungated)
    if code == ExitCode.NOT_GATED:
        console.print(
            "[yellow]not gated:[/yellow] no scenario has thresholds or a baseline to compare "
            "with, so nothing was judged (exit 6). Add thresholds, let the baseline build up, "
            "or pass --allow-ungated.",
            highlight=False,
        )
    result.exit_code = int(code)
    verdicts = {
        ExitCode.OK: "pass",
        ExitCode.THRESHOLD_FAILED: "fail",
        ExitCode.REGRESSION: "fail",
        ExitCode.NOT_GATED: "not_gated",
    }
    result.verdict = verdicts.get(code, "error")
    result.extra["health"] = suite_health(result.scenarios)
    result.write()
    _publish(options, result.document(), console)
    return code


def suite_run_id(started: float) -> str:
    """`s-YYYYMMDD-HHMMSS-xxxx` (UTC): the id `contval report` finds this suite run by."""
    stamp = datetime.fromtimestamp(started, UTC).strftime("%Y%m%d-%H%M%S")
    return f"s-{stamp}-{secrets.token_hex(2)}"


def suite_health(scenarios: list[dict[str, Any]]) -> str | None:
    """The worst health state over the scenarios that were judged; None when none was."""
    states = [State(s["health"]["worst"]) for s in scenarios if s.get("health")]
    return str(worst_state(states)) if states else None


def _skip_rest(result: ResultFile, rest: tuple[str, ...], failed: str) -> None:
    pipeline = result.extra["pipeline"]
    pipeline["skipped"] = list(rest)
    pipeline["stopped_after"] = failed


def _cool_down(suite: Suite, state: Interrupt, console: Console) -> dict[str, Any]:
    probe = suite.pipeline.health
    what = f", asking {probe_url(suite, probe)}" if probe else ""
    console.print(f"cool-down: {suite.pipeline.cooldown:g}s{what}", highlight=False)
    entry = cool_down(suite, lambda: state.reason is not None)
    if entry["settled"] is False:
        console.print(f"[yellow]cool-down: the system did not settle:[/yellow] {entry['detail']}")
    return entry


def _publish(options: RunOptions, doc: dict[str, Any], console: Console) -> None:
    """The reports beside result.json, the document in the history, the CI job summary."""
    written = write_reports(doc, options.out_dir)
    for path in written:
        console.print(f"report: {path}", highlight=False)
    console.print(f"results: {options.out_dir / 'result.json'}", highlight=False)
    run_ids = [
        s["baseline"]["run_id"]
        for s in doc["scenarios"]
        if isinstance(s.get("baseline"), dict) and s["baseline"].get("run_id")
    ]
    if options.gate.enabled and run_ids:
        try:
            with HistoryStore(options.gate.store) as history:
                history.save_document(doc["run_id"], doc, run_ids)
            console.print(
                f"stored as {doc['run_id']} (re-make the reports: contval report {doc['run_id']})",
                highlight=False,
            )
        except StoreError as exc:
            console.print(f"[yellow]warning:[/yellow] history store: {exc}", highlight=False)
    if os.environ.get(STEP_SUMMARY):
        markdown = next(p for p in written if p.name == FILE_NAMES["markdown"])
        summary = append_step_summary(markdown.read_text(encoding="utf-8"))
        if summary is None:
            console.print(
                f"[yellow]warning:[/yellow] could not append to ${STEP_SUMMARY} "
                f"({os.environ[STEP_SUMMARY]})",
                highlight=False,
            )
        else:
            console.print(f"job summary: appended to {summary}", highlight=False)
    print_suite_summary(console, doc)


def _prepare_chaos(options: RunOptions, console: Console) -> bool:
    """Revert what a crashed run left behind; start the fault proxy if faults or targets need it."""
    from contval.chaos.ledger import recover
    from contval.pipeline import proxyctl

    chaos = any(options.suite.scenarios[name].chaos for name in options.scenarios)
    if not chaos and not proxyctl.needs_proxy(options.suite, options.scenarios):
        return True

    for result in recover():
        state = "reverted" if result.ok else "COULD NOT revert"
        console.print(
            f"recover: {state} a fault left by an earlier run: {result.detail}", highlight=False
        )
    control = proxyctl.proxy_control()
    if proxyctl.needs_proxy(options.suite, options.scenarios) and not proxyctl.proxy_answers(
        control
    ):
        code, output = proxyctl.start_proxy(options.suite, control)
        if code != 0:
            console.print(
                f"[red]error:[/red] the fault proxy is not running at {control} and "
                f"could not be started: {output}",
                highlight=False,
            )
            return False
        console.print(f"started the fault proxy (it was not running):\n{output}", highlight=False)
    return True


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))
