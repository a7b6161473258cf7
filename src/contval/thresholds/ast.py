"""The threshold AST: what a parsed expression means, with values in base units.

Values are normalised once at parse time (seconds, fractions, per second, plain counts) so
evaluation never looks at unit text again. `Threshold.to_text()` prints the canonical form,
which parses back to an equal threshold.

Two forms judge a run against its baseline (issue 5) rather than a fixed number: a right-hand
side `baseline [+|- VALUE]` (`Threshold.baseline`), and the aggregate `regression(METRIC)`
(`Kind.REGRESSION`), the estimated shift of a metric against the baseline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from contval.spec.units import format_duration


class Kind(StrEnum):
    """The aggregate function."""

    PERCENTILE = "percentile"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    ERROR_RATE = "error_rate"
    CHECKS = "checks"
    RPS = "rps"
    COUNT = "count"
    DROPPED_ITERATIONS = "dropped_iterations"
    RECOVERY_TIME = "recovery_time"
    REGRESSION = "regression"
    SIGNAL = "signal"
    """`signal(NAME) [max|min|avg|last]`: a server-side series (issue 14, docs/signals.md)."""


class Metric(StrEnum):
    """What a time aggregate measures: one request, or a whole step / iteration."""

    LATENCY = "latency"
    DURATION = "duration"


class Countable(StrEnum):
    REQUESTS = "requests"
    ERRORS = "errors"
    ITERATIONS = "iterations"


class Dimension(StrEnum):
    """The kind of quantity an aggregate yields, which decides the accepted units."""

    TIME = "time"
    RATIO = "ratio"
    RATE = "rate"
    COUNT = "count"
    SHIFT = "shift"
    """A change against the baseline: relative for latency and rps, points for error_rate."""
    SIGNAL = "signal"
    """A server-side signal's own values, in its own unit (a duration is read in seconds)."""


class Op(StrEnum):
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    EQ = "=="
    NE = "!="

    def holds(self, observed: float, limit: float) -> bool:
        return _OPS[self](observed, limit)

    @property
    def upper_bound(self) -> bool:
        """True when larger observations are worse (`<`, `<=`)."""
        return self in (Op.LT, Op.LE)


_OPS = {
    Op.LT: float.__lt__,
    Op.LE: float.__le__,
    Op.GT: float.__gt__,
    Op.GE: float.__ge__,
    Op.EQ: float.__eq__,
    Op.NE: float.__ne__,
}


class PhaseKind(StrEnum):
    """Which part of a run around a fault a threshold judges (evaluated with chaos, issue 4)."""

    BEFORE = "before"
    DURING = "during"
    AFTER = "after"


@dataclass(frozen=True, slots=True)
class Scope:
    """Which slots a threshold reads: everything, one flow, or one step of a flow."""

    flow: str | None = None
    step: str | None = None

    def to_text(self) -> str:
        if self.flow is None:
            return ""
        return f"{self.flow}/{self.step}: " if self.step else f"{self.flow}: "


@dataclass(frozen=True, slots=True)
class Aggregate:
    """`kind` plus its argument: a metric for time aggregates, a countable for `count`."""

    kind: Kind
    metric: Metric | None = None
    percentile: float | None = None
    countable: Countable | None = None
    subject: str | None = None
    """For `regression(...)`: the compared metric, p50|p95|p99|error_rate|rps; for
    `signal(...)` and `recovery_time(signal(...))`: the signal's name."""
    reduce: str | None = None
    """For `signal(...)`: max|min|avg|last over its seconds; None: every second must hold."""

    @property
    def dimension(self) -> Dimension:
        if self.kind is Kind.SIGNAL:
            return Dimension.SIGNAL
        if self.kind is Kind.REGRESSION:
            return Dimension.SHIFT
        if self.metric is not None or self.kind is Kind.RECOVERY_TIME:
            return Dimension.TIME
        if self.kind in (Kind.ERROR_RATE, Kind.CHECKS):
            return Dimension.RATIO
        if self.kind is Kind.RPS:
            return Dimension.RATE
        return Dimension.COUNT

    def to_text(self) -> str:
        if self.kind is Kind.PERCENTILE:
            return f"p{_number(self.percentile or 0.0)}({self.metric})"
        if self.metric is not None:
            return f"{self.kind}({self.metric})"
        if self.countable is not None:
            return f"count({self.countable})"
        if self.kind is Kind.SIGNAL:
            return f"signal({self.subject})" + (f" {self.reduce}" if self.reduce else "")
        if self.kind is Kind.RECOVERY_TIME and self.subject is not None:
            return f"recovery_time(signal({self.subject}))"
        if self.subject is not None:
            return f"{self.kind}({self.subject})"
        return str(self.kind)

    @property
    def baseline_metric(self) -> str | None:
        """The name the baseline comparison uses for this aggregate, or None when it has none:
        only what `contval.baseline.compare` measures per 10-second window can be compared."""
        if self.kind is Kind.REGRESSION:
            return self.subject
        if self.kind is Kind.SIGNAL:
            return f"signal({self.subject})"
        if self.kind in (Kind.ERROR_RATE, Kind.RPS):
            return str(self.kind)
        if self.kind is Kind.PERCENTILE and self.metric is Metric.LATENCY:
            name = f"p{_number(self.percentile or 0.0)}"
            return name if name in ("p50", "p95", "p99") else None
        return None


@dataclass(frozen=True, slots=True)
class Phase:
    kind: PhaseKind
    fault: str


@dataclass(frozen=True, slots=True)
class BaselineRef:
    """The right-hand side `baseline [+|- VALUE]`. `offset` is signed; `relative` offsets are
    fractions of the baseline (`+ 10%` = 0.10), others are in the aggregate's base units
    (seconds, per second, or for error_rate a fraction: `+ 0.5%` = 0.005 absolute)."""

    offset: float = 0.0
    relative: bool = False

    def limit(self, baseline: float) -> float:
        """The threshold's limit for a baseline figure in base units."""
        if self.relative:
            return baseline * (1.0 + self.offset)
        return baseline + self.offset

    def to_text(self, dimension: Dimension) -> str:
        if self.offset == 0 and not self.relative:
            return "baseline"
        sign = "-" if self.offset < 0 else "+"
        size = abs(self.offset)
        text = format_value(Dimension.SHIFT if self.relative else dimension, size)
        return f"baseline {sign} {text}"


@dataclass(frozen=True, slots=True)
class Threshold:
    """One parsed threshold. `value` is in base units of `aggregate.dimension`:
    seconds, a fraction (0.01 for 1%), per second, or a count. `window` is whole seconds.
    With `baseline` set the limit comes from the baseline instead and `value` is 0.0."""

    scope: Scope
    aggregate: Aggregate
    op: Op
    value: float
    window: int | None = None
    phase: Phase | None = None
    abort: bool = False
    expression: str = field(default="", compare=False)
    baseline: BaselineRef | None = None
    warn: float | None = None
    """A stricter level in the same base units as `value`: passing it is `healthy`, passing
    only the limit is `degraded` (issue 6's health model)."""

    @property
    def needs_baseline(self) -> bool:
        """True when the verdict depends on baseline figures, not only on the run."""
        return self.baseline is not None or self.aggregate.kind is Kind.REGRESSION

    def to_text(self) -> str:
        text = f"{self.scope.to_text()}{self.aggregate.to_text()} {self.op} "
        dimension = self.aggregate.dimension
        if self.baseline is not None:
            text += self.baseline.to_text(dimension)
        else:
            text += format_value(dimension, self.value)
        if self.warn is not None:
            text += f" warn {format_value(dimension, self.warn)}"
        if self.window is not None:
            text += f" over {format_duration(self.window)}"
        if self.phase is not None:
            text += f" {self.phase.kind} {self.phase.fault}"
        return text + (", abort" if self.abort else "")


def _number(x: float) -> str:
    """Shortest text that reads back as the same float, never in exponent notation."""
    return _plain(repr(float(x)))


def _plain(text: str) -> str:
    fixed = format(Decimal(text), "f")
    return fixed.rstrip("0").rstrip(".") if "." in fixed else fixed


def _scaled(value: float, factor: float, back: Callable[[float], float]) -> str | None:
    """`value * factor` as the shortest text `t` with back(float(t)) == value, if any."""
    for digits in range(1, 18):
        text = f"{value * factor:.{digits}g}"
        if back(float(text)) == value:
            return _plain(text)
    return None


def format_value(dimension: Dimension, value: float) -> str:
    """Canonical, readable text of a normalised value that parses back to the same float.

    The inverse functions mirror `contval.spec.units` (ms are read as n * 1e-3, percents as
    n / 100), so the printed text is chosen to survive that arithmetic exactly.
    """
    if dimension is Dimension.TIME:
        ms = _scaled(value, 1000.0, lambda n: n * 1e-3) if value < 1 else None
        return f"{ms}ms" if ms is not None else f"{_number(value)}s"
    if dimension in (Dimension.RATIO, Dimension.SHIFT):
        pct = _scaled(value, 100.0, lambda n: n / 100.0)
        return f"{pct if pct is not None else _number(value * 100)}%"
    if dimension is Dimension.RATE:
        return f"{_number(value)}/s"
    return _number(value)  # counts and signals: plain numbers
