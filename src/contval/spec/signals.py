"""Suite models for server-side signals: `metrics_sources` and `signals` (see docs/signals.md).

Each model checks its own shape here; references (a source's target, a signal's source, the
signals thresholds name) are checked in `contval.spec.signalchecks`.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from contval.signals.selector import SelectorError, parse_selector
from contval.spec.types import BaseUrl, Frozen, Name, Seconds
from contval.spec.units import UnitError, parse_duration, parse_percent


def _selector(value: str) -> str:
    try:
        parse_selector(value)
    except SelectorError as exc:
        raise ValueError(str(exc)) from None
    return value


class Scrape(Frozen):
    """contval reads the target's Prometheus text exposition itself, every `every`."""

    target: Name = Field(description="a declared target whose base URL serves the exposition")
    path: str = Field("/metrics", pattern=r"^/", description="the exposition's path")
    every: Seconds = Field(1.0, description="how often to read it (e.g. 1s)")

    @field_validator("every")
    @classmethod
    def _sane_every(cls, value: float) -> float:
        if not 0.1 <= value <= 60:
            raise ValueError("every must be between 100ms and 60s")
        return value


class Prometheus(Frozen):
    """A Prometheus server asked, through its HTTP API, for range queries over the load."""

    url: BaseUrl = Field(description="the server's base URL, e.g. http://127.0.0.1:9090")
    step: Seconds = Field(1.0, description="the range queries' step, whole seconds (e.g. 5s)")
    timeout: Seconds = Field(10.0, description="how long one query may take")

    @field_validator("step")
    @classmethod
    def _whole_step(cls, value: float) -> float:
        if not (1 <= value <= 3600 and value.is_integer()):
            raise ValueError("step must be whole seconds between 1s and 1h")
        return value

    @field_validator("timeout")
    @classmethod
    def _sane_timeout(cls, value: float) -> float:
        if not 0.1 <= value <= 300:
            raise ValueError("timeout must be between 100ms and 5m")
        return value


class MetricsSource(Frozen):
    """Where signals come from: exactly one of `scrape` (contval reads the exposition itself)
    or `prometheus` (range queries to a Prometheus server)."""

    scrape: Scrape | None = None
    prometheus: Prometheus | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> MetricsSource:
        if (self.scrape is None) == (self.prometheus is None):
            raise ValueError("a metrics source has exactly one of scrape, prometheus")
        return self


class Signal(Frozen):
    """One server-side series: exactly one of gauge, rate, histogram_quantile (a scrape
    source), or query (PromQL, a prometheus source)."""

    source: Name
    gauge: Annotated[str, Field(description="a gauge, e.g. shop_queue_depth")] | None = None
    rate: Annotated[str, Field(description="a counter, e.g. shop_orders_total")] | None = None
    histogram_quantile: tuple[float, str] | None = Field(
        None,
        description="[quantile, NAME_bucket], e.g. [0.95, http_duration_seconds_bucket]",
    )
    query: str | None = Field(
        None,
        min_length=1,
        max_length=10_000,
        description="PromQL for a prometheus source; $__step, $__range, $__start, $__end are "
        "substituted, e.g. rate(process_cpu_seconds_total[$__step])",
    )
    unit: str | None = Field(None, description="the unit of the values (s for seconds)")
    tolerance: str | float | None = Field(
        None,
        description="compare this signal with the baseline in every scenario: how much higher "
        "its per-window mean may be, 20% of the baseline's or a value in its unit (5, 200ms)",
    )

    @field_validator("tolerance")
    @classmethod
    def _tolerance(cls, value: str | float | None) -> str | float | None:
        if value is not None:
            tolerance_of(value)
        return value

    @property
    def baseline_tolerance(self) -> tuple[float, bool] | None:
        """(tolerance, relative) for the baseline gate, or None when not declared."""
        return None if self.tolerance is None else tolerance_of(self.tolerance)

    @model_validator(mode="after")
    def _exactly_one(self) -> Signal:
        kinds = [k for k in KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a signal has exactly one of gauge, rate, histogram_quantile, query")
        for text in (self.gauge, self.rate):
            if text is not None:
                _selector(text)
        if self.histogram_quantile is not None:
            q, metric = self.histogram_quantile
            if not 0 < q < 1:
                raise ValueError("the quantile is between 0 and 1 (e.g. 0.95)")
            if not parse_selector(_selector(metric)).name.endswith("_bucket"):
                raise ValueError("histogram_quantile reads NAME_bucket (the histogram's buckets)")
        return self

    @property
    def expression(self) -> str:
        """The metric expression as written (result.json records it beside the series)."""
        if self.histogram_quantile is not None:
            return (
                f"histogram_quantile({self.histogram_quantile[0]:g}, {self.histogram_quantile[1]})"
            )
        return self.gauge or self.rate or self.query or ""

    @property
    def kind(self) -> str:
        """gauge, rate, histogram_quantile or query."""
        return next(k for k in KINDS if getattr(self, k) is not None)


KINDS = ("gauge", "rate", "histogram_quantile", "query")


def tolerance_of(value: str | float) -> tuple[float, bool]:
    """A signal's baseline tolerance: `20%` is relative to the baseline (0.2, True); a number
    or a duration is absolute in the signal's unit (durations in seconds)."""
    if isinstance(value, bool):
        raise ValueError("a tolerance is a percentage (20%), a number (5) or a duration (200ms)")
    if isinstance(value, int | float):
        number = float(value)
        relative = False
    else:
        text = value.strip()
        try:
            if text.endswith("%"):
                number, relative = parse_percent(text), True
            else:
                number, relative = _number_or_duration(text), False
        except (UnitError, ValueError):
            raise ValueError(
                f"a tolerance is a percentage (20%), a number (5) or a duration (200ms), "
                f"not {value!r}"
            ) from None
    if not math.isfinite(number) or number < 0:
        raise ValueError("a tolerance is zero or more")
    return number, relative


def _number_or_duration(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return parse_duration(text)
