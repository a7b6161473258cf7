"""Thresholds: the expression grammar, parsed once, evaluated against metrics (pure).

Owns what a threshold means and whether results meet it; never reads files or clocks.
"""

from contval.thresholds.ast import (
    Aggregate,
    Countable,
    Dimension,
    Kind,
    Metric,
    Op,
    Phase,
    PhaseKind,
    Scope,
    Threshold,
)
from contval.thresholds.errors import ThresholdSyntaxError
from contval.thresholds.evaluate import (
    ThresholdResult,
    Verdict,
    check_abort,
    evaluate,
    evaluate_all,
)
from contval.thresholds.parser import parse_threshold

__all__ = [
    "Aggregate",
    "Countable",
    "Dimension",
    "Kind",
    "Metric",
    "Op",
    "Phase",
    "PhaseKind",
    "Scope",
    "Threshold",
    "ThresholdResult",
    "ThresholdSyntaxError",
    "Verdict",
    "check_abort",
    "evaluate",
    "evaluate_all",
    "parse_threshold",
]
