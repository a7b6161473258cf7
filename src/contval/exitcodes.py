"""The process exit codes: one enum, a public contract that pipelines gate on (see README)."""

from enum import IntEnum


class ExitCode(IntEnum):
    """Why contval exited. Values never change meaning; new reasons get new numbers."""

    OK = 0
    """Every gate passed."""
    THRESHOLD_FAILED = 1
    """At least one threshold failed (or an `abort` threshold stopped the run)."""
    INVALID_INPUT = 2
    """The suite or the command-line arguments are invalid; nothing was run."""
    RUN_INCOMPLETE = 3
    """The run could not be completed: a target unreachable at start, or interrupted."""
    FAULT_NOT_REVERTED = 4
    """A fault could not be confirmed reverted: the output names it and how to clean it by hand."""
    REGRESSION = 5
    """Worse than the baseline beyond its noise (or no baseline, with --require-baseline)."""
    NOT_GATED = 6
    """Nothing was judged: every scenario ran without thresholds and without a baseline to
    compare with (`--allow-ungated` accepts that)."""


SEVERITY = (
    ExitCode.FAULT_NOT_REVERTED,  # something may be left broken on the system: first
    ExitCode.INVALID_INPUT,
    ExitCode.RUN_INCOMPLETE,
    ExitCode.THRESHOLD_FAILED,
    ExitCode.REGRESSION,
    ExitCode.NOT_GATED,
    ExitCode.OK,
)


def worst(*codes: ExitCode) -> ExitCode:
    """The code a run with several outcomes exits with: the most urgent one."""
    return min(codes, key=SEVERITY.index, default=ExitCode.OK)
