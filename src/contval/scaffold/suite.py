"""The starter suite `contval init` writes: one target, one user flow, a steady load, gates.

What it holds is the smallest suite that is worth gating on (errors, p95 with a warning level,
checks, dropped iterations, an abort brake), plus commented-out examples of the parts a team
adds next, each valid once uncommented (the tests uncomment them and validate).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from contval.scaffold.render import fill, scalar, template

DEFAULT_TARGET: Final = "http://127.0.0.1:8080"
DEFAULT_PATH: Final = "/"
TARGET_NAME: Final = "app"
"""The starter suite's one target; CI templates override it as `--target app=URL`."""
EXAMPLE_GROUPS: Final = ("system", "chaos", "pipeline")
"""The commented-out examples in the starter suite, by the marker they carry in the template."""

_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SPACE: Final = re.compile(r"\s")


class ScaffoldError(ValueError):
    """An option `contval init` cannot honour; the message says which and why."""


@dataclass(frozen=True)
class SuiteOptions:
    name: str
    target: str = DEFAULT_TARGET
    path: str = DEFAULT_PATH
    suite_file: str = "contval.yaml"
    """How the header's commands name the suite (the path the user will type)."""


def name_from_dir(directory: Path) -> str:
    """A valid suite name from a directory's name: `My Shop (v2)` → `my-shop-v2`."""
    words = re.sub(r"[^a-z0-9_.]+", "-", directory.resolve().name.lower())
    name = re.sub(r"^[^a-z0-9]+|[-_.]+$", "", words)
    return name or "suite"


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ScaffoldError(
            f"--name {name!r} is not a valid suite name: use letters, digits, `_`, `-` and `.`, "
            "starting with a letter or digit"
        )
    return name


def check_target(url: str, option: str = "--target") -> str:
    """An http(s) base URL with a host and no query, as `targets` requires."""
    parts = urlsplit(url)
    try:
        _ = parts.port
        bad_port = False
    except ValueError:
        bad_port = True
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or bad_port
        or _SPACE.search(url)
    ):
        raise ScaffoldError(f"{option} {url!r} is not an http(s) URL such as {DEFAULT_TARGET}")
    if parts.query or parts.fragment:
        raise ScaffoldError(f"{option} {url!r}: a base URL has no query or fragment")
    return url.rstrip("/")


def check_path(path: str) -> str:
    """A path from `/`; the rest (spaces, templates) is the suite loader's to judge."""
    if not path.startswith("/") or "\n" in path:
        raise ScaffoldError(f"--path {path!r} must be a path from `/`, such as /health")
    return path


def render_suite(options: SuiteOptions, live: Collection[str] = ()) -> str:
    """The starter suite's text; `live` un-comments example groups (for tests)."""
    values = {
        "name": scalar(check_name(options.name)),
        "target": scalar(check_target(options.target)),
        "request": scalar(f"GET {check_path(options.path)}"),
        "suite": options.suite_file,
    }
    return fill(template("suite.yaml"), values, live)
