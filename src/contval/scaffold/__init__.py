"""`contval init`: a starter suite for a new system, and CI files that gate each deploy on it.

`plan_init` decides every file and message from the command line (nothing is written if any
option is wrong or any file is in the way); `write_files` writes them. Templates live in
`templates/` as the YAML they produce.
"""

from contval.scaffold.ci import CiOptions, ci_options, render_ci
from contval.scaffold.init import (
    FileInTheWay,
    InitPlan,
    InitRequest,
    NewFile,
    plan_init,
    write_files,
)
from contval.scaffold.suite import ScaffoldError, SuiteOptions, name_from_dir, render_suite

__all__ = [
    "CiOptions",
    "FileInTheWay",
    "InitPlan",
    "InitRequest",
    "NewFile",
    "ScaffoldError",
    "SuiteOptions",
    "ci_options",
    "name_from_dir",
    "plan_init",
    "render_ci",
    "render_suite",
    "write_files",
]
