"""Per-second series from scrapes: gauges, counter rates with resets, histogram quantiles."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from contval.signals.derive import Kind, Samples, Scrape, per_second, quantile
from contval.signals.selector import Selector, SelectorError, parse_selector

FAILED = Selector("orders_total", {"result": "failed"})


def counter(ok: float, failed: float) -> Samples:
    return {
        ("orders_total", (("result", "ok"),)): ok,
        ("orders_total", (("result", "failed"),)): failed,
    }


def test_rate_per_second_of_the_selected_series_only() -> None:
    scrapes = [Scrape(0.0, counter(0, 0)), Scrape(1.0, counter(50, 3)), Scrape(2.0, counter(90, 7))]
    assert per_second(Kind("rate"), FAILED, scrapes, 3) == [None, 3.0, 4.0]
    assert per_second(Kind("rate"), Selector("orders_total"), scrapes, 3) == [None, 53.0, 44.0]


def test_a_counter_that_went_down_was_reset_and_counts_from_zero() -> None:
    scrapes = [Scrape(0.0, counter(0, 10)), Scrape(1.0, counter(0, 12)), Scrape(2.0, counter(0, 2))]
    assert per_second(Kind("rate"), FAILED, scrapes, 3) == [None, 2.0, 2.0]


def test_a_failed_scrape_is_no_data_for_the_seconds_it_would_have_covered() -> None:
    scrapes = [
        Scrape(0.0, counter(0, 0)),
        Scrape(1.0, counter(0, 1)),
        Scrape(2.0, None),
        Scrape(3.0, counter(0, 5)),
        Scrape(4.0, counter(0, 6)),
    ]
    assert per_second(Kind("rate"), FAILED, scrapes, 5) == [None, 1.0, None, None, 1.0]
    depth = Selector("depth")
    gauges = [Scrape(0.2, {("depth", ()): 4.0}), Scrape(1.2, None), Scrape(2.2, {("depth", ()): 9})]
    assert per_second(Kind("gauge"), depth, gauges, 4) == [4.0, None, 9.0, None]


def buckets(counts: list[float]) -> Samples:
    bounds = ["0.1", "0.5", "1.0", "+Inf"]
    pairs = zip(bounds, counts, strict=True)
    return {("lat_bucket", (("le", b), ("route", "/x"))): c for b, c in pairs}


def test_histogram_quantile_from_the_bucket_deltas_of_the_interval() -> None:
    sel = Selector("lat_bucket")
    # second 1: 100 fast requests; second 2: 100 requests between 0.5 and 1.0 s
    scrapes = [
        Scrape(0.0, buckets([0, 0, 0, 0])),
        Scrape(1.0, buckets([100, 100, 100, 100])),
        Scrape(2.0, buckets([100, 100, 200, 200])),
    ]
    p95 = per_second(Kind("histogram_quantile", 0.95), sel, scrapes, 3)
    assert p95[0] is None
    assert p95[1] == 0.095  # linear within [0, 0.1]
    assert p95[2] is not None and math.isclose(p95[2], 0.5 + 0.5 * 0.95)


@given(st.lists(st.floats(0, 1e6), min_size=1, max_size=10), st.floats(0.01, 0.99))
def test_quantile_stays_within_the_bucket_bounds(increments: list[float], q: float) -> None:
    bounds = [0.001 * 2**i for i in range(len(increments))]
    cumulative: dict[float, float] = {}
    total = 0.0
    for bound, inc in zip(bounds, increments, strict=True):
        total += inc
        cumulative[bound] = total
    cumulative[math.inf] = total
    value = quantile(q, cumulative)
    if total == 0:
        assert value is None
    else:
        assert value is not None and 0 <= value <= bounds[-1]


def test_selector_parses_exact_label_matchers_and_refuses_others() -> None:
    sel = parse_selector('shop_orders_total{result="failed", method="POST"}')
    assert sel == Selector("shop_orders_total", {"result": "failed", "method": "POST"})
    assert str(sel) == 'shop_orders_total{result="failed",method="POST"}'
    for bad in ('x{result=~"f.*"}', "1abc", 'x{result="a"', ""):
        try:
            parse_selector(bad)
        except SelectorError as exc:
            assert "label" in str(exc) or "metric name" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")


@given(
    st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True),
    st.dictionaries(
        st.from_regex(r"[a-z_][a-z0-9_]{0,5}", fullmatch=True),
        st.text(st.characters(codec="utf-8", exclude_characters='\\"'), max_size=8),
        max_size=3,
    ),
)
def test_selector_round_trips(name: str, labels: dict[str, str]) -> None:
    sel = Selector(name, labels)
    assert parse_selector(str(sel)) == sel


def test_reads_faster_than_once_a_second_lose_no_increase() -> None:
    # every 0.5s from -0.25s: each second spans the two intervals that end in it
    times = [-0.25, 0.25, 0.75, 1.25, 1.75, 2.25]
    failed = [0, 2, 4, 3, 5, 6]  # 4 -> 3: a reset, the 3 counted from zero
    scrapes = [Scrape(t, counter(0, f)) for t, f in zip(times, failed, strict=True)]
    assert per_second(Kind("rate"), FAILED, scrapes, 3) == [4.0, 5.0, 2.0]
    broken = [*scrapes[:2], Scrape(0.75, None), *scrapes[3:]]
    assert per_second(Kind("rate"), FAILED, broken, 3) == [None, None, 2.0]


def test_a_counter_not_exposed_for_the_selected_labels_has_rate_zero() -> None:
    ok_only: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {
        ("orders_total", (("result", "ok"),)): 5.0
    }
    scrapes = [Scrape(0.0, ok_only), Scrape(1.0, ok_only), Scrape(2.0, None)]
    assert per_second(Kind("rate"), FAILED, scrapes, 3) == [None, 0.0, None]
    p95 = per_second(Kind("histogram_quantile", 0.95), Selector("lat_bucket"), scrapes, 3)
    assert p95 == [None, None, None]


@given(
    st.lists(
        st.tuples(st.floats(0.05, 2.5), st.integers(-3, 20), st.booleans()),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["gauge", "rate"]),
)
def test_live_values_match_a_full_derivation_at_every_second(
    reads: list[tuple[float, int, bool]], kind: str
) -> None:
    from contval.signals.scrape import Scraper
    from contval.signals.series import LiveValues
    from contval.spec.signals import Signal

    spec = {"source": "s", kind: 'orders_total{result="failed"}'}
    live = LiveValues(Signal.model_validate(spec))
    scraper = Scraper("http://127.0.0.1:9/", 1.0)
    origin, t, total = 100.0, -0.5, 0
    for gap, step, ok in reads:
        t += gap
        total = max(0, total + step)  # a negative step to zero is a reset
        scraper.scrapes.append(Scrape(origin + t, counter(0, total) if ok else None))
        seconds = max(1, math.floor(t) + 1)
        shifted = [Scrape(s.t - origin, s.samples) for s in scraper.scrapes]
        assert live(scraper, seconds, origin) == per_second(Kind(kind), FAILED, shifted, seconds)
