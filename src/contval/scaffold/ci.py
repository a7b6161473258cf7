"""CI templates: a GitHub Actions workflow and an Azure pipeline that gate each deploy on a suite.

Both do the same things in their platform's words: start after the deploy succeeds (or by hand),
install contval, restore the history the baselines come from, run the suite, keep the history and
the reports whatever the verdict, and fail on a non-zero exit code. docs/ci.md explains each part.
"""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from contval.scaffold.render import fill, scalar, template
from contval.scaffold.suite import ScaffoldError, check_target
from contval.spec import Suite, load_duration

SYSTEMS: Final = ("github", "azure")
DEFAULT_FILES: Final = {"github": ".github/workflows/contval.yml", "azure": "azure-pipelines.yml"}
TEMPLATES: Final = {"github": "github.yml", "azure": "azure-pipelines.yml"}
NAMES: Final = {"github": "GitHub Actions workflow", "azure": "Azure pipeline"}
DEFAULT_AFTER: Final = "Deploy"
DEFAULT_ENV: Final = "ci"
DEFAULT_INSTALL: Final = "contval"
OUT_DIR: Final = "contval-results"

_ENV_LABEL: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class CiOptions:
    """Everything a CI template needs, already checked against the suite."""

    system: str
    suite_path: str
    """The suite as the job sees it: relative to the repository root, with `/`."""
    targets: tuple[tuple[str, str], ...]
    """(target name, URL the job sends load to), one per target of the suite."""
    after: str = DEFAULT_AFTER
    env: str = DEFAULT_ENV
    scenarios: tuple[str, ...] = ()
    load_seconds: float = 0.0
    """How long the scenarios' load runs, cool-downs included: the job's timeout grows with it."""
    ci_file: str | None = None
    """Where the file goes when not the default place (it is part of the command shown in it)."""

    @property
    def env_vars(self) -> tuple[tuple[str, str, str], ...]:
        """(target name, environment variable, URL) for each target."""
        return tuple(
            (name, var, url)
            for (name, url), var in zip(self.targets, target_variables(self.targets), strict=True)
        )

    @property
    def timeout_minutes(self) -> int:
        """The load's duration and half again, plus 10 minutes for setup and reports."""
        return math.ceil(self.load_seconds * 1.5 / 60) + 10


def target_variables(targets: Sequence[tuple[str, str]]) -> list[str]:
    """`CONTVAL_TARGET_<NAME>` per target (`order-api` → `CONTVAL_TARGET_ORDER_API`), unique."""
    names: list[str] = []
    for name, _ in targets:
        var = "CONTVAL_TARGET_" + re.sub(r"[^A-Z0-9]", "_", name.upper())
        base, n = var, 2
        while var in names:
            var, n = f"{base}_{n}", n + 1
        names.append(var)
    return names


def ci_options(
    suite: Suite,
    *,
    system: str,
    suite_path: str,
    target_urls: Sequence[str] = (),
    after: str = DEFAULT_AFTER,
    env: str = DEFAULT_ENV,
    scenarios: Sequence[str] = (),
    ci_file: str | None = None,
) -> CiOptions:
    """Check the options against the suite; `target_urls` are `URL` (the only target) or
    `NAME=URL`. Raises `ScaffoldError` with a message for the user."""
    if system not in SYSTEMS:
        raise ScaffoldError(f"--ci {system!r}: expected one of {', '.join(SYSTEMS)}")
    if not _ENV_LABEL.fullmatch(env):
        raise ScaffoldError(
            f"--env {env!r}: use letters, digits, `_`, `-` and `.` (it is part of cache keys)"
        )
    if not after.strip() or "\n" in after:
        raise ScaffoldError(f"--after {after!r}: expected the deploy workflow's name")
    for name in scenarios:
        if name not in suite.scenarios:
            known = ", ".join(suite.scenarios)
            raise ScaffoldError(f"-s {name!r}: the suite has no such scenario (it has {known})")
    urls = dict(suite.targets)
    for name, url in _parse_target_urls(target_urls, list(urls)):
        urls[name] = url
    order = tuple(scenarios) or suite.run_order()
    load = sum(load_duration(suite.workloads[suite.scenarios[s].workload]) for s in order)
    load += suite.pipeline.cooldown * (len(order) - 1)
    return CiOptions(
        system=system,
        suite_path=suite_path,
        targets=tuple(urls.items()),
        after=after,
        env=env,
        scenarios=tuple(scenarios),
        load_seconds=load,
        ci_file=ci_file,
    )


def _parse_target_urls(values: Sequence[str], names: list[str]) -> list[tuple[str, str]]:
    parsed = []
    for value in values:
        name, sep, url = value.partition("=")
        if not sep or "://" in name:
            if len(names) != 1:
                raise ScaffoldError(
                    f"--target-url {value!r}: the suite has several targets "
                    f"({', '.join(names)}); write NAME=URL"
                )
            name, url = names[0], value
        if name not in names:
            raise ScaffoldError(
                f"--target-url {value!r}: the suite has no target `{name}` "
                f"(it has {', '.join(names)})"
            )
        parsed.append((name, check_target(url, "--target-url")))
    return parsed


def render_ci(options: CiOptions) -> str:
    """The workflow (GitHub) or pipeline (Azure) file's text."""
    github = options.system == "github"
    run_indent = " " * 10
    values = {
        "command": _wrapped_command(options),
        "after": _quoted(options.after) if github else scalar(options.after),
        "env": options.env,
        "install": scalar(DEFAULT_INSTALL),
        "targets": "\n".join(f"  {var}: {scalar(url)}" for _, var, url in options.env_vars),
        "timeout": str(options.timeout_minutes),
        "timeout_note": _timeout_note(options.load_seconds),
        "run": _run_command(options, run_indent, continuation="" if github else " \\"),
    }
    return fill(template(TEMPLATES[options.system]), values)


def _quoted(value: str) -> str:
    """A double-quoted YAML scalar (JSON's escapes are YAML's), safe inside `[...]`."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _run_command(options: CiOptions, indent: str, continuation: str) -> str:
    """`contval run` over a few lines: the suite and outputs, the scenarios, one per target."""
    lines = [f'contval run {shlex.quote(options.suite_path)} --out {OUT_DIR} --env "$CONTVAL_ENV"']
    if options.scenarios:
        lines.append(" ".join(f"-s {shlex.quote(s)}" for s in options.scenarios))
    lines += [f'--target "{name}=${var}"' for name, var, _ in options.env_vars]
    first, *rest = lines
    rest = [f"  {line}" for line in rest] if continuation else rest
    return (continuation + "\n").join(indent + line for line in [first, *rest])


def _timeout_note(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    length = f"{minutes} min" + (f" {secs} s" if secs else "") if minutes else f"{secs} s"
    return f"the scenarios' load runs {length}; the rest is setup and margin"


def _wrapped_command(options: CiOptions, width: int = 96) -> str:
    """The `contval init` command that makes this file again (with --force once it exists), for
    the file's header comment: shell continuation lines, each option whole."""
    lines = [""]
    for part in _command_parts(options):
        if lines[-1] and len(lines[-1]) + len(part) + 15 > width:
            lines.append("")
        lines[-1] += (" " if lines[-1] else "") + part
    return " \\\n#       ".join(lines)


def _command_parts(options: CiOptions) -> list[str]:
    """The command's words, an option and its value kept together, quoted for a shell."""
    pairs = [("contval init --ci", options.system)]
    if options.suite_path != "contval.yaml":
        pairs.append(("--suite", options.suite_path))
    if options.ci_file is not None:
        pairs.append(("--ci-file", options.ci_file))
    if options.after != DEFAULT_AFTER:
        pairs.append(("--after", options.after))
    if options.env != DEFAULT_ENV:
        pairs.append(("--env", options.env))
    pairs += [("--target-url", f"{name}={url}") for name, url in options.targets]
    pairs += [("-s", scenario) for scenario in options.scenarios]
    return [f"{flag} {shlex.quote(value)}" for flag, value in pairs]
