"""The shop's server-side metrics, exposed at GET /metrics in Prometheus text format."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from contoso_shoes import store
from contoso_shoes.breaker import CircuitBreaker

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ShopMetrics:
    """One registry per app, so tests can build several apps in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "shop_http_requests",
            "HTTP requests by route",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "shop_http_request_duration_seconds",
            "Time to answer, by route",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.orders = Counter("shop_orders", "Checkouts by result", ["result"], registry=r)
        self.queue_depth = Gauge("shop_queue_depth", "Orders waiting for the worker", registry=r)
        self.worker_lag = Gauge(
            "shop_worker_lag_seconds", "Age of the oldest order waiting for the worker", registry=r
        )
        self.heartbeat_age = Gauge(
            "shop_worker_heartbeat_age_seconds",
            "Seconds since the worker's last heartbeat",
            registry=r,
        )
        self.breaker_state = Gauge(
            "shop_payments_breaker_state",
            "Payments circuit breaker: 0 closed, 1 half-open, 2 open",
            registry=r,
        )
        self.breaker_opened = Gauge(
            "shop_payments_breaker_opened", "Times the Payments breaker has opened", registry=r
        )

    def bind(self, conn: Callable[[], sqlite3.Connection], breaker: CircuitBreaker) -> None:
        """Gauges read live state at scrape time instead of being pushed on every change."""
        self.queue_depth.set_function(lambda: store.queue_stats(conn())[0])
        self.worker_lag.set_function(lambda: store.queue_stats(conn())[1])

        def heartbeat_age() -> float:
            beat = store.heartbeat(conn(), "worker")
            return beat[1] if beat else float("inf")

        self.heartbeat_age.set_function(heartbeat_age)
        self.breaker_state.set_function(lambda: breaker.state.gauge)
        self.breaker_opened.set_function(lambda: breaker.opened_count)
