"""Command-line entry point: argument parsing and wiring only."""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from contval import __version__
from contval.exitcodes import ExitCode

if TYPE_CHECKING:
    from contval.spec import Suite

app = typer.Typer(
    name="contval",
    help="Continuous validation: flows under load and chaos, baselines, a verdict to gate on.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def version() -> None:
    """Print contval's version."""
    typer.echo(__version__)


@app.command()
def validate(
    suite: Annotated[Path, typer.Argument(help="The suite file to check.", show_default=False)],
) -> None:
    """Check a suite file and report every error at once as file:line:col: message."""
    from contval.spec import SuiteInvalid, load_suite, summarize

    try:
        loaded = load_suite(suite)
    except SuiteInvalid as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        count = len(exc.errors)
        typer.echo(f"{count} error{'s' if count != 1 else ''} in {suite}", err=True)
        raise typer.Exit(ExitCode.INVALID_INPUT) from None
    for line in summarize(loaded):
        typer.echo(line)


@app.command()
def schema() -> None:
    """Print the JSON Schema of suite files (for editor completion and checks)."""
    from contval.spec import suite_json_schema_text

    typer.echo(suite_json_schema_text())


def _load_or_exit(suite: Path) -> Suite:
    from contval.spec import SuiteInvalid, load_suite

    try:
        return load_suite(suite)
    except SuiteInvalid as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        raise typer.Exit(ExitCode.INVALID_INPUT) from None


def _pairs(values: list[str], what: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key.strip():
            _usage_error(f"invalid {what} {value!r}: expected NAME=VALUE")
        pairs.append((key.strip(), val))
    return pairs


def _usage_error(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(ExitCode.INVALID_INPUT)


def _pick(name: str, known: list[str], what: str) -> str:
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean `{close[0]}`?" if close else f"; known: {', '.join(known)}"
        _usage_error(f"unknown {what} `{name}`{hint}")
    return name


@app.command()
def plan(
    suite: Annotated[Path, typer.Argument(help="The suite file.", show_default=False)],
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", "-s", help="Only these scenarios.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Show the split across N workers.", min=1)] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Print what a run would do (schedules, expected iterations, thresholds), without running."""
    from contval.engine.plan import plan_data, render_plan

    loaded = _load_or_exit(suite)
    names = [_pick(n, list(loaded.scenarios), "scenario") for n in scenario or []] or None
    if as_json:
        typer.echo(json.dumps(plan_data(loaded, names, workers), indent=2))
    else:
        typer.echo(render_plan(loaded, names, workers))


@app.command()
def run(
    suite: Annotated[Path, typer.Argument(help="The suite file.", show_default=False)],
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", "-s", help="Run only these scenarios (default: all, in order)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Directory for result.json.")] = Path("contval-results"),
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: one per core).", min=1)
    ] = None,
    var: Annotated[
        list[str] | None, typer.Option("--var", help="Override a suite variable: NAME=VALUE.")
    ] = None,
    target: Annotated[
        list[str] | None, typer.Option("--target", help="Override a target's URL: NAME=URL.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for random choices.")] = None,
    store: Annotated[
        str | None,
        typer.Option(help="History database (default: $CONTVAL_STORE or .contval/history.db)."),
    ] = None,
    env: Annotated[str, typer.Option(help="Environment label; baselines are per env.")] = "local",
    label: Annotated[
        str | None, typer.Option(help="Version label for this run (default: the git commit).")
    ] = None,
    require_baseline: Annotated[
        bool, typer.Option(help="Fail (exit 5) when a scenario has no baseline yet.")
    ] = False,
    history: Annotated[
        bool, typer.Option(help="Compare with the baseline and record the run in the history.")
    ] = True,
) -> None:
    """Run scenarios under load, judge their thresholds, and exit with a code to gate on."""
    from rich.console import Console

    from contval.pipeline.gate import GateOptions
    from contval.pipeline.run import RunOptions, default_workers, run_suite

    loaded = _load_or_exit(suite)
    names = [_pick(n, list(loaded.scenarios), "scenario") for n in scenario or []]
    overrides = _pairs(var or [], "--var")
    for key, _ in overrides:
        _pick(key, list(loaded.variables), "variable")
    targets = _pairs(target or [], "--target")
    for key, url in targets:
        _pick(key, list(loaded.targets), "target")
        if not url.startswith(("http://", "https://")):
            _usage_error(f"--target {key}: {url!r} is not an http(s) URL")
    options = RunOptions(
        suite_path=suite.resolve(),
        suite=_with_targets(loaded, targets),
        scenarios=tuple(names or loaded.scenarios),
        out_dir=out,
        workers=workers or default_workers(),
        overrides=tuple(overrides),
        target_overrides=tuple(targets),
        seed=seed,
        gate=GateOptions(store, env, label, require_baseline, history),
    )
    width = None if sys.stdout.isatty() else 120  # logs: wide enough for the tables
    code = run_suite(options, Console(width=width))
    raise typer.Exit(int(code))


@app.command()
def proxy(
    suite: Annotated[Path, typer.Argument(help="The suite whose proxy links to serve.")],
    control: Annotated[
        str | None, typer.Option(help="Control API address (default 127.0.0.1:8474).")
    ] = None,
    detach: Annotated[bool, typer.Option(help="Run in the background and return.")] = False,
    stop: Annotated[bool, typer.Option(help="Stop a detached proxy for this control.")] = False,
) -> None:
    """Run the fault proxy for the links (proxy chaos targets) a suite declares."""
    from contval.pipeline import proxyctl

    if stop:
        typer.echo(proxyctl.stop_proxy(control))
        return
    loaded = _load_or_exit(suite)
    if not proxyctl.link_args(loaded):
        _usage_error(f"{suite} declares no proxy chaos targets")
    if not detach:
        from contval.chaos.proxy.cli import main as proxy_main

        control = control or proxyctl.proxy_control()
        argv = ["--control", control, "--state", str(proxyctl.state_file(control))]
        raise typer.Exit(proxy_main(argv + proxyctl.link_args(loaded)))
    code, output = proxyctl.start_proxy(loaded, control, detach=True)
    typer.echo(output, err=code != 0)
    raise typer.Exit(code)


@app.command()
def recover(
    all_runs: Annotated[
        bool, typer.Option("--all", help="Also revert faults of runs that are still alive.")
    ] = False,
) -> None:
    """Revert every fault a crashed run left applied (exit 4 if one cannot be confirmed)."""
    from contval.chaos.recover import main as recover_main

    raise typer.Exit(recover_main(["--all"] if all_runs else []))


def _with_targets(suite: Suite, targets: list[tuple[str, str]]) -> Suite:
    if not targets:
        return suite
    return suite.model_copy(update={"targets": {**suite.targets, **dict(targets)}})


def main() -> None:
    app()
