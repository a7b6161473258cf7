"""What `contval init` writes, decided before anything is written, and the writing itself.

Plain `init` writes a starter suite. `init --ci SYSTEM` writes a CI file for the suite, and the
starter suite too when there is none yet; a suite that exists is read, never overwritten, so
regenerating a workflow with `--force` cannot lose hand-written flows. Any file in the way stops
the whole command before the first write, unless `--force`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from contval.scaffold import ci
from contval.scaffold.suite import (
    DEFAULT_PATH,
    DEFAULT_TARGET,
    TARGET_NAME,
    ScaffoldError,
    SuiteOptions,
    name_from_dir,
    render_suite,
)
from contval.spec import Suite, SuiteInvalid, load_suite, load_suite_text

DEFAULT_SUITE = "contval.yaml"


class FileInTheWay(ScaffoldError):
    """A file init would write exists, and `--force` was not given."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists; pass --force to overwrite it")
        self.path = path


@dataclass(frozen=True)
class InitRequest:
    """The command line, as given: None means "not given" (so misplaced options are caught)."""

    directory: Path = Path()
    suite: str = DEFAULT_SUITE
    name: str | None = None
    target: str | None = None
    path: str | None = None
    ci: str | None = None
    ci_file: str | None = None
    after: str | None = None
    env: str | None = None
    target_urls: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = ()
    force: bool = False


@dataclass(frozen=True)
class NewFile:
    path: Path
    text: str
    what: str


@dataclass
class InitPlan:
    files: list[NewFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)


def plan_init(request: InitRequest) -> InitPlan:
    """The files to write and what to tell the user; raises `ScaffoldError` on bad options."""
    if request.ci is not None and request.ci not in ci.SYSTEMS:
        raise ScaffoldError(f"--ci {request.ci!r}: expected one of {', '.join(ci.SYSTEMS)}")
    _check_ci_only_options(request)
    directory = request.directory
    if directory.exists() and not directory.is_dir():
        raise ScaffoldError(f"{directory} is not a directory")
    suite_rel = _suite_relative(request.suite, directory)
    suite_path = directory / suite_rel
    plan = InitPlan()
    if request.ci is not None and suite_path.exists():
        _refuse_suite_options(request, suite_path)
        suite = _load_existing(suite_path)
        plan.notes.append(f"{suite_path} exists: the {ci.NAMES[request.ci]} runs it as it is")
    else:
        suite = _new_suite(request, directory, suite_rel, plan)
    if request.ci is not None:
        _plan_ci(request, suite, suite_rel, plan)
    if not request.force:
        for new in plan.files:
            if new.path.exists() or new.path.is_symlink():
                raise FileInTheWay(new.path)
    return plan


def write_files(plan: InitPlan) -> None:
    """Write each file whole (a temporary file renamed over the target)."""
    for new in plan.files:
        new.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = new.path.with_name(new.path.name + ".contval-init.tmp")
        tmp.write_text(new.text, encoding="utf-8")
        tmp.replace(new.path)


def _check_ci_only_options(request: InitRequest) -> None:
    if request.ci is not None:
        return
    given = {
        "--ci-file": request.ci_file is not None,
        "--after": request.after is not None,
        "--env": request.env is not None,
        "--target-url": bool(request.target_urls),
        "--scenario": bool(request.scenarios),
    }
    for option, present in given.items():
        if present:
            raise ScaffoldError(f"{option} is an option of the CI file: add --ci github|azure")


def _refuse_suite_options(request: InitRequest, suite_path: Path) -> None:
    given = {"--name": request.name, "--target": request.target, "--path": request.path}
    for option, value in given.items():
        if value is not None:
            raise ScaffoldError(
                f"{option} shapes a new suite, but {suite_path} exists and --ci keeps it as is; "
                "to write a new suite over it, run `contval init --force` without --ci"
            )


def _suite_relative(suite: str, directory: Path) -> PurePosixPath:
    """The suite's path from the directory (the repository root, for CI), with `/`."""
    path = Path(suite)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(directory.resolve())
        except ValueError:
            raise ScaffoldError(f"--suite {suite} is not inside {directory}") from None
    if ".." in path.parts or not path.name:
        raise ScaffoldError(f"--suite {suite}: expected a file inside {directory}")
    return PurePosixPath(path.as_posix())


def _load_existing(path: Path) -> Suite:
    try:
        return load_suite(path)
    except SuiteInvalid as exc:
        errors = "\n".join(str(error) for error in exc.errors)
        raise ScaffoldError(
            f"{path} is not a valid suite, so no CI file was written for it:\n{errors}"
        ) from None


def _new_suite(
    request: InitRequest, directory: Path, suite_rel: PurePosixPath, plan: InitPlan
) -> Suite:
    options = SuiteOptions(
        name=request.name if request.name is not None else name_from_dir(directory),
        target=request.target if request.target is not None else DEFAULT_TARGET,
        path=request.path if request.path is not None else DEFAULT_PATH,
        suite_file=str(suite_rel),
    )
    text = render_suite(options)
    path = directory / suite_rel
    try:
        suite = load_suite_text(text, path)
    except SuiteInvalid as exc:
        errors = "\n".join(str(error) for error in exc.errors)
        raise ScaffoldError(f"these options make an invalid suite:\n{errors}") from None
    what = f"suite `{suite.name}`: target {TARGET_NAME} {suite.targets[TARGET_NAME]}"
    plan.files.append(NewFile(path, text, what))
    plan.next_steps += [
        f"contval validate {path}",
        f"contval plan {path}",
        f"contval run {path}    # with the system answering at {suite.targets[TARGET_NAME]}",
    ]
    return suite


def _plan_ci(request: InitRequest, suite: Suite, suite_rel: PurePosixPath, plan: InitPlan) -> None:
    system = request.ci or ""
    options = ci.ci_options(
        suite,
        system=system,
        suite_path=str(suite_rel),
        target_urls=request.target_urls,
        after=request.after if request.after is not None else ci.DEFAULT_AFTER,
        env=request.env if request.env is not None else ci.DEFAULT_ENV,
        scenarios=request.scenarios,
        ci_file=request.ci_file,
    )
    path = request.directory / (request.ci_file or ci.DEFAULT_FILES[system])
    trigger = "workflow" if system == "github" else "pipeline"
    what = f"{ci.NAMES[system]}: after the {trigger} `{options.after}` succeeds, env {options.env}"
    plan.files.append(NewFile(path, ci.render_ci(options), what))
    if not request.target_urls:
        variables = ", ".join(var for _, var, _ in options.env_vars)
        plan.next_steps.append(f"set the deployed system's URL in {path}: {variables}")
    plan.next_steps.append(
        f"commit {path}; it runs after each successful `{options.after}`, or by hand"
    )
    chaos = [s for s in options.scenarios or suite.run_order() if suite.scenarios[s].chaos]
    if chaos:
        plan.notes.append(
            f"scenarios {', '.join(chaos)} inject faults, which reach only the machine contval "
            "runs on; against a deployed system, choose load-only scenarios with -s"
        )
