"""Thresholds: the expression grammar, parsed once, evaluated against metrics (pure).

Owns what a threshold means and whether results meet it; never reads files or clocks.
"""

from contval.thresholds.ast import (
    Aggregate,
    BaselineRef,
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
from contval.thresholds.baseline import (
    BaselineFigure,
    BaselineFigures,
    BaselineKey,
    baseline_key,
    needs_baseline,
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
from contval.thresholds.phases import NO_FAULTS, Faults
from contval.thresholds.resilience import evaluate_recovery
from contval.thresholds.signals import Signals, SignalSeries
from contval.thresholds.steady import steady_state

__all__ = [
    "NO_FAULTS",
    "Aggregate",
    "BaselineFigure",
    "BaselineFigures",
    "BaselineKey",
    "BaselineRef",
    "Countable",
    "Dimension",
    "Faults",
    "Kind",
    "Metric",
    "Op",
    "Phase",
    "PhaseKind",
    "Scope",
    "SignalSeries",
    "Signals",
    "Threshold",
    "ThresholdResult",
    "ThresholdSyntaxError",
    "Verdict",
    "baseline_key",
    "check_abort",
    "evaluate",
    "evaluate_all",
    "evaluate_recovery",
    "needs_baseline",
    "parse_threshold",
    "steady_state",
]
