"""The models of `metrics_sources` and `signals` (src/contval/spec/signals.py)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from contval.spec.signals import MetricsSource, Signal


def test_a_scrape_source_reads_every_in_seconds_with_defaults() -> None:
    source = MetricsSource.model_validate({"scrape": {"target": "shop", "every": "500ms"}})
    assert source.scrape is not None
    assert source.scrape.every == 0.5 and source.scrape.path == "/metrics"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"scrape": {"target": "shop", "every": "5ms"}}, "between 100ms and 60s"),
        ({"scrape": {"target": "shop", "path": "metrics"}}, "should match pattern"),
        ({"scrape": {"target": "shop", "evry": "1s"}}, "Extra inputs are not permitted"),
        ({"prometheus": {"url": "http://127.0.0.1:9090", "step": "1500ms"}}, "whole seconds"),
        ({"prometheus": {"url": "ftp://127.0.0.1:9090"}}, "http"),
        ({}, "exactly one of scrape, prometheus"),
        (
            {"scrape": {"target": "shop"}, "prometheus": {"url": "http://127.0.0.1:9090"}},
            "exactly one of scrape, prometheus",
        ),
    ],
)
def test_bad_sources_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        MetricsSource.model_validate(raw)


def test_a_prometheus_source_has_a_step_in_whole_seconds() -> None:
    source = MetricsSource.model_validate({"prometheus": {"url": "http://127.0.0.1:9090"}})
    assert source.prometheus is not None and source.prometheus.step == 1.0
    cpu = Signal.model_validate({"source": "prom", "query": "rate(x[$__step])"})
    assert cpu.kind == "query" and cpu.expression == "rate(x[$__step])"


def test_signals_record_their_expression() -> None:
    rate = Signal.model_validate({"source": "shop", "rate": 'shop_orders_total{result="failed"}'})
    assert rate.expression == 'shop_orders_total{result="failed"}'
    p95 = Signal.model_validate(
        {"source": "shop", "histogram_quantile": [0.95, "shop_http_duration_seconds_bucket"]}
    )
    assert p95.expression == "histogram_quantile(0.95, shop_http_duration_seconds_bucket)"
    lag = Signal.model_validate({"source": "shop", "gauge": "shop_worker_lag_seconds", "unit": "s"})
    assert lag.unit == "s"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"source": "shop"}, "exactly one of gauge, rate, histogram_quantile"),
        ({"source": "shop", "gauge": "a", "rate": "b"}, "exactly one of"),
        ({"source": "shop", "rate": 'x{result=~"f.*"}'}, "only exact matches"),
        ({"source": "shop", "histogram_quantile": [1.5, "x_bucket"]}, "between 0 and 1"),
        ({"source": "shop", "histogram_quantile": [0.5, "x_sum"]}, "NAME_bucket"),
    ],
)
def test_bad_signals_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Signal.model_validate(raw)
