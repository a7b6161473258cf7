"""Signals read from the reference shop's real /metrics while a real fault holds."""

from __future__ import annotations

import os
import signal
from typing import Any

from contval.signals.derive import Kind, per_second
from contval.signals.scrape import Scraper, check_names, probe
from contval.signals.selector import parse_selector
from tests.contoso_shoes.conftest import System, make_system, wait_for  # noqa: F401


def test_queue_depth_rises_while_the_worker_is_paused_and_orders_are_counted(
    make_system: Any,  # noqa: F811
) -> None:
    system: System = make_system("--fulfil-time", "50ms")
    url = system.url + "/metrics"
    depth = parse_selector("shop_queue_depth")
    accepted = parse_selector("shop_orders_total")
    check_names("shop", [("depth", depth), ("orders", accepted)], _with_orders(system, url))
    now = [0.0]
    scraper = Scraper(url, every=1.0, clock=lambda: now[0])
    scraper.scrape_once()  # second 0: before the fault
    worker = system.pid("worker")
    os.kill(worker, signal.SIGSTOP)  # the worker stops taking orders off the queue
    try:
        for second in (1, 2):
            for _ in range(3):
                status, _ = system.checkout()
                assert status == 202
            now[0] = float(second)
            scraper.scrape_once()
    finally:
        os.kill(worker, signal.SIGCONT)
    series = per_second(Kind("gauge"), depth, scraper.scrapes, 3)
    rates = per_second(Kind("rate"), accepted, scraper.scrapes, 3)
    assert series[0] is not None and series[1] is not None and series[2] is not None
    assert series[1] >= series[0] + 3 and series[2] >= series[1] + 3
    assert max(v for v in series if v is not None) >= 6  # `signal(queue_depth) max < 5` fails
    assert rates == [None, 3.0, 3.0]
    assert scraper.failed == scraper.malformed == 0


def _with_orders(system: System, url: str) -> Any:
    """One checkout first, so the labelled order counter has a series to offer."""
    assert system.checkout()[0] == 202
    return probe("shop", url)


def test_a_counter_reset_when_the_shop_is_killed_and_restarted(make_system: Any) -> None:  # noqa: F811
    system: System = make_system("--restart-delay", "200ms")
    url = system.url + "/metrics"
    orders = parse_selector("shop_orders_total")
    now = [0.0]
    scraper = Scraper(url, every=1.0, clock=lambda: now[0])
    for _ in range(4):
        assert system.checkout()[0] == 202
    scraper.scrape_once()
    for _ in range(2):
        assert system.checkout()[0] == 202
    now[0] = 1.0
    scraper.scrape_once()
    shop = system.pid("shop")
    os.kill(shop, signal.SIGKILL)  # a real crash: the restarted shop's counters start at 0
    wait_for(lambda: system.state["shop"]["pid"] not in (None, shop), 15, "the shop restart")
    wait_for(lambda: system.get("/health")[0] in (200, 503), 15, "the shop to answer")
    assert system.checkout()[0] == 202
    now[0] = 2.0
    scraper.scrape_once()
    assert per_second(Kind("rate"), orders, scraper.scrapes, 3) == [None, 2.0, 1.0]
