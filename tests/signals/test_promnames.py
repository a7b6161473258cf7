"""The metric names read out of PromQL (conservatively: functions, keywords, label names,
durations and strings are never names) and the "did you mean" for a name the server lacks.
The same check against a real Prometheus server is in test_prometheus.py."""

from __future__ import annotations

import pytest

from contval.signals.promnames import check_query_names, declared_names, metric_names
from contval.signals.scrape import SourceError


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ('rate(process_cpu_seconds_total{job="shop"}[5s])', ["process_cpu_seconds_total"]),
        (
            'histogram_quantile(0.95, sum by (le) (rate(http_seconds_bucket{a="b"}[1m])))',
            ["http_seconds_bucket"],
        ),
        (
            "sum without(instance)(foo) / on(job) group_left(x, y) bar offset 1h30m",
            ["foo", "bar"],
        ),
        ("max_over_time(shop_queue_depth[14s] @ 1040.250)", ["shop_queue_depth"]),
        ("foo > bool 0 AND bar or baz unless qux", ["foo", "bar", "baz", "qux"]),
        ('label_replace(up, "dst", "$1", "src", "(.*)") * 1e-3 + .5 + 0x1F + Inf', ["up"]),
        ("count_values(`v`, x:y:rate5m) # a comment naming not_a_metric", ["x:y:rate5m"]),
        ("sum(rate(a[5m:1m])) by (job) + topk(3, b) + vector(1) + time() + $x + a", ["a", "b"]),
        ('{__name__="hidden"} + a @ start()', ["a"]),
        ("avg (c) - quantile(0.5, d) + SUM by (le) (e)", ["c", "d", "e"]),
    ],
)
def test_metric_names_of_a_query(query: str, names: list[str]) -> None:
    assert metric_names(query) == names


def test_declared_families_name_their_series() -> None:
    metadata = {
        "shop_orders_total": [{"type": "counter", "help": "", "unit": ""}],
        "shop_http_request_duration_seconds": [{"type": "histogram", "help": "", "unit": ""}],
        "rpc": [{"type": "summary", "help": "", "unit": ""}],
        "jobs": [{"type": "counter", "help": "", "unit": ""}],
        "depth": [{"type": "gauge", "help": "", "unit": ""}],
    }
    assert declared_names(metadata) == {
        "shop_orders_total",
        "shop_http_request_duration_seconds",
        "shop_http_request_duration_seconds_bucket",
        "shop_http_request_duration_seconds_count",
        "shop_http_request_duration_seconds_sum",
        "rpc",
        "rpc_count",
        "rpc_sum",
        "jobs",
        "jobs_total",
        "depth",
    }
    assert declared_names(None) == set() and declared_names([]) == set()


def test_an_unknown_name_is_named_with_the_closest_offered() -> None:
    offered = {"shop_queue_depth", "shop_orders_total", "up"}
    check_query_names("prom", "ok", "sum(shop_queue_depth) + up", offered)
    with pytest.raises(SourceError) as caught:
        check_query_names("prom", "depth", "sum(shop_queue_dept)", offered)
    assert str(caught.value) == (
        "signal 'depth': Prometheus ('prom') has no metric 'shop_queue_dept' "
        "(in the query 'sum(shop_queue_dept)'); did you mean shop_queue_depth?"
    )
    with pytest.raises(SourceError) as caught:
        check_query_names("prom", "x", "zzz", {f"m{i:02}" for i in range(25)})
    assert str(caught.value).endswith(
        "it offers m00, m01, m02, m03, m04, m05, m06, m07, "
        "m08, m09, m10, m11, m12, m13, m14, m15, m16, m17, "
        "m18, m19 (and 5 more)"
    )
    with pytest.raises(SourceError, match="it offers no metric at all"):
        check_query_names("prom", "x", "zzz", set())
