"""Command-line entry point: argument parsing and wiring only."""

from __future__ import annotations

import contextlib
import difflib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

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


DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Where feeder CSV files live (default: the suite file's directory); "
        "no feeder is read from outside it.",
        metavar="DIR",
    ),
]


EnvFileOption = Annotated[
    Path | None,
    typer.Option(
        "--env-file",
        help="NAME=VALUE lines (.env style) for {{ env.NAME }} and `secrets:`; a variable set "
        "in the environment wins.",
        metavar="FILE",
    ),
]


NoPythonOption = Annotated[
    bool,
    typer.Option(
        "--no-python",
        help="Check `python:` steps without importing their modules (no code of the suite "
        "runs): for a suite from an untrusted source. `run` refuses a suite that has them.",
    ),
]


def _python_note(suite: Suite, no_python: bool) -> str | None:
    """The line saying which python steps `--no-python` did not import (None: nothing left)."""
    from contval.spec import python_steps

    steps = python_steps(suite) if no_python else []
    if not steps:
        return None
    plural = "s" if len(steps) != 1 else ""
    return f"note: {len(steps)} python step{plural} not imported (--no-python): {', '.join(steps)}"


def _environ(env_file: Path | None) -> dict[str, str]:
    """The process environment over `--env-file`'s lines; a bad line is a usage error."""
    import os

    from contval.spec.secrets import EnvFileError, environment_with

    try:
        return environment_with(env_file, os.environ)
    except EnvFileError as exc:
        _usage_error(str(exc))


@app.command()
def validate(
    suite: Annotated[Path, typer.Argument(help="The suite file to check.", show_default=False)],
    data_dir: DataDirOption = None,
    env_file: EnvFileOption = None,
    no_python: NoPythonOption = False,
) -> None:
    """Check a suite file and report every error at once as file:line:col: message."""
    from contval.spec import SuiteInvalid, load_suite, summarize

    try:
        loaded = load_suite(
            suite, data_dir=data_dir, environ=_environ(env_file), import_python=not no_python
        )
    except SuiteInvalid as exc:
        for error in exc.errors:
            typer.echo(str(error), err=True)
        count = len(exc.errors)
        typer.echo(f"{count} error{'s' if count != 1 else ''} in {suite}", err=True)
        raise typer.Exit(ExitCode.INVALID_INPUT) from None
    for line in summarize(loaded):
        typer.echo(line)
    note = _python_note(loaded, no_python)
    if note:
        typer.echo(note)
    from contval.pipeline.gate import gate_warnings

    for line in gate_warnings(loaded):
        typer.echo(f"warning: {line}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of suite files (for editor completion and checks)."""
    from contval.spec import suite_json_schema_text

    typer.echo(suite_json_schema_text())


def _load_or_exit(
    suite: Path,
    data_dir: Path | None = None,
    env_file: Path | None = None,
    no_python: bool = False,
) -> Suite:
    from contval.spec import SuiteInvalid, load_suite

    try:
        return load_suite(
            suite, data_dir=data_dir, environ=_environ(env_file), import_python=not no_python
        )
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


ClusterOption = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Run the workers as Ray actors on this cluster: auto (RAY_ADDRESS or the local "
        "head), HOST:PORT (a head's GCS address) or ray://HOST:PORT. Needs contval[ray].",
        metavar="ADDRESS",
    ),
]
PerNodeOption = Annotated[
    int | None,
    typer.Option(
        "--workers-per-node", help="With --cluster: this many workers on each node.", min=1
    ),
]


def _cluster_or_exit(
    cluster: str | None,
    workers: int | None,
    per_node: int | None,
    suite: Suite,
    scenarios: list[str],
) -> Any:
    """The cluster's layout for `--cluster` (None without it): a one-line error and exit 2
    (Ray missing, a bad address, too few workers for the `scenarios`' workloads side by side)
    or 3 (unreachable) otherwise, never a traceback."""
    if cluster is None:
        if per_node is not None:
            _usage_error("--workers-per-node needs --cluster")
        return None
    from contval.engine.ray_controller import ClusterUnavailable
    from contval.engine.ray_plan import check_fits, layout

    try:
        found = layout(cluster, workers, per_node)
        check_fits(found, suite, scenarios)
        return found
    except ClusterUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.code) from None


@app.command()
def plan(
    suite: Annotated[Path, typer.Argument(help="The suite file.", show_default=False)],
    scenario: Annotated[
        list[str] | None, typer.Option("--scenario", "-s", help="Only these scenarios.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Show the split across N workers (default: as `run`).", min=1),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    data_dir: DataDirOption = None,
    env_file: EnvFileOption = None,
    cluster: ClusterOption = None,
    workers_per_node: PerNodeOption = None,
    no_python: NoPythonOption = False,
) -> None:
    """Print what a run would do (schedules, expected iterations, thresholds), without running."""
    from contval.engine.plan import plan_data, render_plan
    from contval.pipeline.run import default_workers

    loaded = _load_or_exit(suite, data_dir, env_file, no_python)
    names = [_pick(n, list(loaded.scenarios), "scenario") for n in scenario or []] or None
    found = _cluster_or_exit(
        cluster, workers, workers_per_node, loaded, names or list(loaded.scenarios)
    )
    # the same default, and cap, as `contval run`; on a cluster, side by side shares them
    workers = found.workers if found else workers or default_workers()
    shared = found is not None
    data = plan_data(loaded, names, workers, shared)
    if found:
        from contval.engine.ray_plan import cluster_plan, render_cluster

        data["cluster"] = cluster_plan(found, data)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        typer.echo(render_plan(loaded, names, workers, shared))
        if found:
            typer.echo("\n" + render_cluster(data["cluster"]))
    note = _python_note(loaded, no_python)
    if note:
        typer.echo(note, err=True)  # stdout is the plan (JSON with --json)


@app.command()
def run(
    suite: Annotated[Path, typer.Argument(help="The suite file.", show_default=False)],
    scenario: Annotated[
        list[str] | None,
        typer.Option("--scenario", "-s", help="Run only these scenarios (default: all, in order)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Directory for result.json.")] = Path("contval-results"),
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes (default: one per core; with --cluster, one per CPU of "
            "the cluster).",
            min=1,
        ),
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
    allow_ungated: Annotated[
        bool,
        typer.Option(help="Exit 0 even when no scenario was judged (no thresholds, no baseline)."),
    ] = False,
    data_dir: DataDirOption = None,
    env_file: EnvFileOption = None,
    cluster: ClusterOption = None,
    workers_per_node: PerNodeOption = None,
    debug_http: Annotated[
        int,
        typer.Option(
            "--debug-http",
            min=0,
            metavar="N",
            help="Print the first N request/response pairs (headers, bodies cut) to stderr, "
            "secrets shown as ***.",
        ),
    ] = 0,
    no_python: NoPythonOption = False,
) -> None:
    """Run scenarios under load, judge their thresholds, and exit with a code to gate on."""
    from rich.console import Console

    from contval.pipeline.gate import GateOptions
    from contval.pipeline.run import RunOptions, default_workers, run_suite
    from contval.spec import python_steps

    loaded = _load_or_exit(suite, data_dir, env_file, no_python)
    steps = python_steps(loaded) if no_python else []
    if steps:
        _usage_error(
            f"{suite} has {len(steps)} python step(s) ({', '.join(steps)}), which cannot run "
            "without importing their modules; --no-python runs no code of the suite"
        )
    names = [_pick(n, list(loaded.scenarios), "scenario") for n in scenario or []]
    overrides = _pairs(var or [], "--var")
    for key, _ in overrides:
        _pick(key, list(loaded.variables), "variable")
    targets = _checked_targets(loaded, target or [])
    order = names or list(loaded.run_order())
    found = _cluster_or_exit(cluster, workers, workers_per_node, loaded, order)
    options = RunOptions(
        suite_path=suite.resolve(),
        suite=_with_targets(loaded, targets),
        scenarios=tuple(order),
        out_dir=out,
        workers=found.workers if found else workers or default_workers(),
        overrides=tuple(overrides),
        target_overrides=tuple(targets),
        seed=seed,
        gate=GateOptions(store, env, label, require_baseline, history, allow_ungated),
        debug_http=debug_http,
        data_dir=data_dir.absolute() if data_dir is not None else None,
        cluster=cluster,
        workers_per_node=workers_per_node,
    )
    created = not out.exists()
    _writable_dir(out, "--out")
    if history:
        _store(store).close()  # a store that cannot open stops the run before its load
    width = None if sys.stdout.isatty() else 120  # logs: wide enough for the tables
    code = run_suite(options, Console(width=width))
    if created:
        with contextlib.suppress(OSError):  # only if nothing was written (nothing was run)
            out.rmdir()
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


baseline_app = typer.Typer(
    help="Baselines per scenario (SCENARIO/WORKLOAD: a workload run alongside) and environment.",
    no_args_is_help=True,
)
app.add_typer(baseline_app, name="baseline")
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store", help="History database (default: $CONTVAL_STORE or .contval/history.db)."
    ),
]
EnvOption = Annotated[str, typer.Option(help="Environment label.")]


def _store(path: str | None) -> Any:
    """The history store at `path`; one that cannot be opened is a one-line error, exit 2."""
    from contval.baseline.sqlite import StoreError
    from contval.baseline.store import HistoryStore

    try:
        return HistoryStore(path)
    except StoreError as exc:
        _usage_error(f"history store: {exc}")


def _writable_dir(path: Path, option: str) -> None:
    """Create `path` (an output directory) now, so a bad one stops a run before its load."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = _why_not(path, exc)
        _usage_error(f"{option} {path}: cannot create the directory ({reason}); give a directory")


def _why_not(directory: Path, exc: OSError) -> str:
    """Why writing in `directory` failed: a file where a directory must be, or the OS's words."""
    from contval.paths import file_in_the_way

    blocking = file_in_the_way(directory)
    return f"{blocking} is a file" if blocking is not None else exc.strerror or str(exc)


def _console() -> Any:
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 120)


@baseline_app.command("list")
def baseline_list(
    store: StoreOption = None, env: Annotated[str | None, typer.Option()] = None
) -> None:
    """Every scenario with runs in the history, and its current baseline."""
    from contval.pipeline.history import baselines
    from contval.report.history import baselines_table

    _console().print(baselines_table(baselines(_store(store), env=env)))


@baseline_app.command("show")
def baseline_show(
    scenario: str,
    store: StoreOption = None,
    env: EnvOption = "local",
    suite: Annotated[str | None, typer.Option()] = None,
) -> None:
    """The runs a scenario (or SCENARIO/WORKLOAD) is compared with (pinned, or the rolling
    last N passing runs)."""
    from contval.pipeline.history import find_scenario
    from contval.report.history import runs_table

    history = _store(store)
    newest = find_scenario(history, scenario, suite, env)
    if newest is None:
        _usage_error(f"no runs of scenario `{scenario}` in env `{env}` in {history.path}")
    chosen = history.baseline(
        newest.suite, newest.scenario, env, newest.fingerprint, workload=newest.workload
    )
    title = (
        f"baseline of {newest.suite}/{scenario} in {env} ({chosen.mode}, {len(chosen.runs)} runs)"
    )
    _console().print(runs_table(title, chosen.runs))


@baseline_app.command("promote")
def baseline_promote(runs: list[str], store: StoreOption = None) -> None:
    """Pin these runs as their scenario's baseline (instead of the rolling one)."""
    from contval.pipeline.history import promote

    try:
        first = promote(_store(store), runs)
    except (ValueError, KeyError) as exc:
        _usage_error(str(exc))
    typer.echo(
        f"pinned {len(runs)} run(s) as the baseline of {first.suite}/{first.key} in {first.env}"
    )


@baseline_app.command("export")
def baseline_export(
    scenario: str,
    store: StoreOption = None,
    env: EnvOption = "local",
    suite: Annotated[str | None, typer.Option()] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Write a scenario's (or SCENARIO/WORKLOAD's) baseline (runs and windows) as JSON, to keep
    it in git."""
    from contval.pipeline.history import find_scenario

    history = _store(store)
    newest = find_scenario(history, scenario, suite, env)
    if newest is None:
        _usage_error(f"no runs of scenario `{scenario}` in env `{env}` in {history.path}")
    doc = history.export_baseline(
        newest.suite, newest.scenario, env, newest.fingerprint, newest.workload
    )
    text = json.dumps(doc, indent=1)
    if output is None:
        typer.echo(text)
    else:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text + "\n")
        except OSError as exc:
            _usage_error(f"--output {output}: cannot write it ({_why_not(output.parent, exc)})")
        typer.echo(f"wrote {len(doc['runs'])} baseline run(s) to {output}")


@baseline_app.command("import")
def baseline_import(file: Path, store: StoreOption = None) -> None:
    """Load an exported baseline and pin it."""
    from contval.baseline.sqlite import StoreError

    try:
        ids = _store(store).import_baseline(json.loads(file.read_text()))
    except (OSError, ValueError, KeyError, StoreError) as exc:
        _usage_error(f"cannot import {file}: {exc}")
    typer.echo(f"imported and pinned {len(ids)} run(s)")


@app.command("compare")
def compare_command(run_a: str, run_b: str, store: StoreOption = None) -> None:
    """Differences between two runs (B against A), with intervals and verdicts; a suite run id
    compares each of its scenarios."""
    from contval.pipeline.history import compare_runs, run_pairs
    from contval.report.history import comparisons_table

    history = _store(store)
    try:  # a suite run id (what `contval run` prints) stands for each of its scenarios' runs
        tables = [(a, b, compare_runs(history, a, b)) for a, b in run_pairs(history, run_a, run_b)]
    except (ValueError, KeyError) as exc:
        _usage_error(str(exc))
    for a, b, rows in tables:
        _console().print(comparisons_table(f"{b} against {a}", rows))


@app.command("history")
def history_command(
    scenario: str,
    store: StoreOption = None,
    env: EnvOption = "local",
    suite: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1)] = 20,
) -> None:
    """The trend of a scenario's (or SCENARIO/WORKLOAD's) key metrics across its runs."""
    from contval.pipeline.history import trend
    from contval.report.history import trend_table

    rows = trend(_store(store), scenario, suite, env, limit)
    if not rows:
        _usage_error(f"no runs of scenario `{scenario}` in env `{env}`")
    _console().print(trend_table(f"{scenario} in {env}, oldest first", rows))


@app.command()
def calibrate(
    suite: Annotated[Path, typer.Argument(help="The suite file.")],
    scenario: Annotated[str, typer.Option("--scenario", "-s")],
    runs: Annotated[int, typer.Option(min=2, help="How many runs of the unchanged build.")] = 5,
    workers: Annotated[int | None, typer.Option(min=1)] = None,
    target: Annotated[list[str] | None, typer.Option("--target")] = None,
) -> None:
    """Run an unchanged build N times, measure its noise floor, and suggest tolerances."""
    import subprocess
    import tempfile

    from contval.pipeline.history import noise
    from contval.report.history import noise_table

    loaded = _load_or_exit(suite)
    _pick(scenario, list(loaded.scenarios), "scenario")
    _checked_targets(loaded, target or [])  # refuse a bad URL once, not in every run
    with tempfile.TemporaryDirectory(prefix="contval-calibrate-") as tmp:
        db = str(Path(tmp) / "history.db")
        extra = [a for t in target or [] for a in ("--target", t)]
        extra += ["--workers", str(workers)] if workers else []
        for i in range(runs):
            typer.echo(f"calibration run {i + 1} of {runs}")
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "contval",
                    "run",
                    str(suite),
                    "-s",
                    scenario,
                    "--store",
                    db,
                    "--env",
                    "calibrate",
                    "--out",
                    str(Path(tmp) / f"out{i}"),
                    "--allow-ungated",  # calibration measures noise; it judges nothing
                    *extra,
                ],
                check=False,
            )
            if proc.returncode not in (0, 1, 5):
                raise typer.Exit(proc.returncode)
        history = _store(db)
        ids = [r.id for r in history.runs(scenario=scenario, env="calibrate") if r.id]
        _console().print(noise_table(noise(history, ids)))


@app.command()
def report(
    run: Annotated[
        str,
        typer.Argument(
            help="A run id from the history (the suite run, or one of its scenarios), "
            "or a result.json / results directory."
        ),
    ],
    out: Annotated[Path, typer.Option(help="Directory to write the reports to.")] = Path(
        "contval-results"
    ),
    html: Annotated[bool, typer.Option("--html", help="Write report.html.")] = False,
    junit: Annotated[bool, typer.Option("--junit", help="Write junit.xml.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Write summary.md.")] = False,
    store: StoreOption = None,
) -> None:
    """Re-make a run's reports (HTML, JUnit, Markdown; default: all three) from the history."""
    from contval.report.render import ALL_FORMATS, ReportSourceError, load_document, write_reports

    chosen = [f for f, on in (("html", html), ("junit", junit), ("markdown", markdown)) if on]
    try:
        doc = load_document(run, store)
    except ReportSourceError as exc:
        _usage_error(str(exc))
    _writable_dir(out, "--out")
    for path in write_reports(doc, out, tuple(chosen) or ALL_FORMATS):
        typer.echo(f"wrote {path}")


# --- `contval init` (scaffolding and CI templates) lives below this line. ---


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to write (for --ci: the repository's root).")
    ] = Path("."),
    name: Annotated[
        str | None,
        typer.Option(help="The suite's name (default: the directory's name).", metavar="NAME"),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(help="The system's base URL (default: http://127.0.0.1:8080).", metavar="URL"),
    ] = None,
    path: Annotated[
        str | None,
        typer.Option(help="The path the starter flow requests (default: /).", metavar="PATH"),
    ] = None,
    suite: Annotated[
        str, typer.Option(help="The suite file, relative to DIRECTORY.", metavar="PATH")
    ] = "contval.yaml",
    ci: Annotated[
        str | None,
        typer.Option(
            help="Also write a CI file: github (.github/workflows/contval.yml) or azure "
            "(azure-pipelines.yml). An existing suite is kept and used as it is.",
            metavar="github|azure",
        ),
    ] = None,
    ci_file: Annotated[
        str | None,
        typer.Option(
            help="Write the CI file here instead (relative to DIRECTORY).", metavar="PATH"
        ),
    ] = None,
    after: Annotated[
        str | None,
        typer.Option(
            help="The deploy workflow/pipeline to run after (default: Deploy).", metavar="NAME"
        ),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option(help="The CI run's environment label (default: ci).", metavar="LABEL"),
    ] = None,
    target_url: Annotated[
        list[str] | None,
        typer.Option(
            help="The deployed system's URL for the CI file: URL, or NAME=URL per target.",
            metavar="[NAME=]URL",
        ),
    ] = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            "--scenario", "-s", help="The CI run runs only these scenarios.", metavar="NAME"
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite files that exist.")] = False,
) -> None:
    """Scaffold a suite for a new system, and CI files that gate each deploy on it. Never asks."""
    from contval.scaffold import InitRequest, ScaffoldError, plan_init, write_files

    if ci is not None:
        _pick(ci, ["github", "azure"], "CI system")
    request = InitRequest(
        directory=directory,
        suite=suite,
        name=name,
        target=target,
        path=path,
        ci=ci,
        ci_file=ci_file,
        after=after,
        env=env,
        target_urls=tuple(target_url or ()),
        scenarios=tuple(scenario or ()),
        force=force,
    )
    try:
        plan = plan_init(request)
        write_files(plan)
    except (ScaffoldError, OSError) as exc:
        _usage_error(str(exc))
    for note in plan.notes:
        typer.echo(f"note: {note}")
    for new in plan.files:
        typer.echo(f"wrote {new.path} ({new.what})")
    typer.echo("next:")
    for step in plan.next_steps:
        typer.echo(f"  {step}")


def _checked_targets(suite: Suite, values: list[str]) -> list[tuple[str, str]]:
    """`--target NAME=URL` values, checked as the suite's own targets are (exit 2 otherwise)."""
    from contval.spec.retarget import TargetOverrideError, parse_target_overrides

    pairs = [(key, url) for key, url in _pairs(values, "--target")]
    for key, _ in pairs:
        _pick(key, list(suite.targets), "target")
    try:
        return list(parse_target_overrides(suite, pairs).items())
    except TargetOverrideError as exc:
        _usage_error(str(exc))


def _with_targets(suite: Suite, targets: list[tuple[str, str]]) -> Suite:
    """Targets replaced; absolute step URLs on a moved target move with it."""
    from contval.spec.retarget import with_targets

    return with_targets(suite, dict(targets))


def main() -> None:
    from contval.baseline.sqlite import StoreError

    try:
        app()
    except StoreError as exc:  # met after the store opened (a full disk, a damaged page)
        typer.echo(f"error: history store: {exc}", err=True)
        sys.exit(ExitCode.INVALID_INPUT)
