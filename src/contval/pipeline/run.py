"""`contval run`: load the suite, check the targets, run each scenario on local workers, judge
its thresholds, write results as the run goes, and return the exit code."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console

from contval.exitcodes import ExitCode, worst
from contval.pipeline.options import Interrupt, RunOptions
from contval.pipeline.preflight import targets_used, unreachable
from contval.pipeline.scenario import run_scenario
from contval.report.result import ResultFile

__all__ = ["RunOptions", "default_workers", "run_suite"]


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
    problems = unreachable(targets_used(suite, options.scenarios))
    if problems:
        for problem in problems:
            console.print(f"[red]error:[/red] {problem}", highlight=False)
        console.print("nothing was run; start the system under test or fix `targets`.")
        return ExitCode.RUN_INCOMPLETE
    if not _prepare_chaos(options, console):
        return ExitCode.RUN_INCOMPLETE
    result = ResultFile(
        options.out_dir / "result.json", suite.name, str(options.suite_path), time.time()
    )
    result.write()
    state = Interrupt()
    handlers: dict[int, Any] = {}
    code = ExitCode.OK
    with _signals(state, handlers):
        for name in options.scenarios:
            if state.reason:
                break
            scenario_code = run_scenario(options, name, result, state, console)
            code = worst(code, scenario_code)
    result.complete = state.reason is None and code != ExitCode.RUN_INCOMPLETE
    if state.reason and code != ExitCode.FAULT_NOT_REVERTED:
        code = ExitCode.RUN_INCOMPLETE
    result.exit_code = int(code)
    verdicts = {ExitCode.OK: "pass", ExitCode.THRESHOLD_FAILED: "fail", ExitCode.REGRESSION: "fail"}
    result.verdict = verdicts.get(code, "error")
    result.write()
    console.print(f"results: {result.path}", highlight=False)
    return code


def _prepare_chaos(options: RunOptions, console: Console) -> bool:
    """Revert what a crashed run left behind; start the fault proxy if faults need it."""
    if not any(options.suite.scenarios[name].chaos for name in options.scenarios):
        return True
    from contval.chaos.ledger import recover
    from contval.pipeline import proxyctl

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
