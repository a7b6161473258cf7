"""The scraper against a real HTTP server serving Prometheus text: resets, garbage, outages."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from contval.signals.derive import Kind, per_second
from contval.signals.scrape import Scraper, SourceError, check_names, probe
from contval.signals.selector import parse_selector
from contval.signals.series import entry
from contval.spec.signals import Signal
from tests.signals.conftest import Exposition


class Clock:
    """A fake clock: the test says which second of the run each scrape belongs to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def shop_registry() -> tuple[CollectorRegistry, Counter, Gauge]:
    registry = CollectorRegistry()
    orders = Counter("shop_orders", "orders", ["result"], registry=registry)
    depth = Gauge("shop_queue_depth", "queue", registry=registry)
    return registry, orders, depth


def scrape_at(scraper: Scraper, clock: Clock, t: float) -> None:
    clock.now = t
    scraper.scrape_once()


def test_counter_reset_on_a_restarted_process_is_counted_from_zero(exposition: Exposition) -> None:
    clock = Clock()
    scraper = Scraper(exposition.url, every=1.0, clock=clock)
    registry, orders, _ = shop_registry()
    orders.labels("failed").inc(40)
    exposition.body = generate_latest(registry).decode()
    scrape_at(scraper, clock, 0.0)
    orders.labels("failed").inc(5)
    exposition.body = generate_latest(registry).decode()
    scrape_at(scraper, clock, 1.0)
    registry, orders, _ = shop_registry()  # the process restarted: its counters start at 0
    orders.labels("failed").inc(3)
    exposition.body = generate_latest(registry).decode()
    scrape_at(scraper, clock, 2.0)
    sel = parse_selector('shop_orders_total{result="failed"}')
    assert per_second(Kind("rate"), sel, scraper.scrapes, 3) == [None, 5.0, 3.0]
    assert scraper.failed == scraper.malformed == 0


def test_a_malformed_exposition_is_counted_never_raised(exposition: Exposition) -> None:
    clock = Clock()
    scraper = Scraper(exposition.url, every=1.0, clock=clock)
    exposition.body = "shop_queue_depth 3\n"
    scrape_at(scraper, clock, 0.2)
    exposition.body = 'shop_queue_depth{unterminated="x 3\nnot a sample at all {{{\n'
    scrape_at(scraper, clock, 1.2)
    exposition.body = "shop_queue_depth 7\n"
    scrape_at(scraper, clock, 2.2)
    assert scraper.malformed == 1 and scraper.failed == 0
    series = per_second(Kind("gauge"), parse_selector("shop_queue_depth"), scraper.scrapes, 3)
    assert series == [3.0, None, 7.0]


def test_a_source_that_stops_answering_marks_its_seconds_no_data(exposition: Exposition) -> None:
    clock = Clock()
    scraper = Scraper(exposition.url, every=1.0, clock=clock)
    exposition.body = "shop_queue_depth 1\n"
    scrape_at(scraper, clock, 0.1)
    scrape_at(scraper, clock, 1.1)
    exposition.body = None  # answers 500
    scrape_at(scraper, clock, 2.1)
    exposition.stop()  # connection refused
    scrape_at(scraper, clock, 3.1)
    assert scraper.failed == 2
    series = per_second(Kind("gauge"), parse_selector("shop_queue_depth"), scraper.scrapes, 4)
    assert series == [1.0, 1.0, None, None]


def test_unreachable_at_start_names_the_source(exposition: Exposition) -> None:
    url = exposition.url
    exposition.stop()
    with pytest.raises(SourceError, match=r"metrics source 'shop' \(http://127\.0\.0\.1:\d+/"):
        probe("shop", url, timeout=2)


def test_an_unknown_metric_is_reported_with_what_the_source_offers(
    exposition: Exposition,
) -> None:
    registry, orders, _ = shop_registry()
    orders.labels("ok").inc()
    exposition.body = generate_latest(registry).decode()
    offered = probe("shop", exposition.url)
    with pytest.raises(SourceError, match="did you mean shop_queue_depth"):
        check_names("shop", [("queue", parse_selector("shop_queue_dept"))], offered)
    with pytest.raises(SourceError, match=r"it offers .*shop_orders_total"):
        check_names("shop", [("x", parse_selector("zzz"))], offered)
    check_names("shop", [("f", parse_selector('shop_orders_total{result="failed"}'))], offered)


def test_the_thread_scrapes_every_interval_until_stopped(exposition: Exposition) -> None:
    exposition.body = "up 1\n"
    scraper = Scraper(exposition.url, every=0.05)
    scraper.start(origin=scraper.clock())
    while len(scraper.scrapes) < 3:
        scraper._stop.wait(0.01)
    scraper.stop()
    times = [s.t for s in scraper.scrapes]
    assert times == sorted(times) and all(s.samples for s in scraper.scrapes)
    assert scraper.failed == scraper.malformed == 0


def test_the_result_entry_names_source_expression_and_no_data_seconds(
    exposition: Exposition,
) -> None:
    clock = Clock()
    scraper = Scraper(exposition.url, every=1.0, clock=clock)
    for t, body in ((0.5, "shop_worker_lag_seconds 0.2\n"), (1.5, None), (2.5, "x{{{\n")):
        exposition.body = body
        scrape_at(scraper, clock, t)
    lag = Signal.model_validate({"source": "shop", "gauge": "shop_worker_lag_seconds", "unit": "s"})
    assert entry(lag, scraper, 3) == {
        "source": "shop",
        "expression": "shop_worker_lag_seconds",
        "kind": "gauge",
        "unit": "s",
        "series": [0.2, None, None],
        "no_data": [1, 2],
        "scrapes": 3,
        "failed": 1,
        "malformed": 1,
    }


def test_only_the_samples_signals_read_are_kept(exposition: Exposition) -> None:
    registry, orders, depth = shop_registry()
    orders.labels("ok").inc(2)
    depth.set(4)
    exposition.body = generate_latest(registry).decode()
    scraper = Scraper(exposition.url, every=1.0, keep=frozenset({"shop_queue_depth"}))
    scraper.scrape_once()
    (read,) = scraper.scrapes
    assert read.samples == {("shop_queue_depth", ()): 4.0}
