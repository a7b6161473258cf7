"""`signal(NAME)` thresholds judged on per-second signal values: reducers, phases, windows,
no data, abort; and the suite checks that the names they use exist."""

from __future__ import annotations

import pytest

from contval.metrics import Series
from contval.spec import SuiteInvalid, load_suite_text, summarize
from contval.thresholds import SignalSeries, check_abort, evaluate_all, parse_threshold

DEPTH = [0.0, 1.0, 2.0, 40.0, 80.0, 120.0, 60.0, 10.0, 3.0, None]
SIGNALS = {
    "queue_depth": SignalSeries(DEPTH),
    "worker_lag": SignalSeries([0.1, None, None, 0.2, 5.0, 7.5, 4.0, 1.0, 0.5, 0.3], unit="s"),
}
FAULTS = {"payments-down": (3, 7), "worker-crash": (4, 6)}


def judge(text: str, signals: dict[str, SignalSeries] | None = None) -> dict[str, object]:
    threshold = parse_threshold(text)
    (result,) = evaluate_all([threshold], Series(), faults=FAULTS, signals=signals or SIGNALS)
    return result.to_dict()


@pytest.mark.parametrize(
    ("text", "verdict", "observed"),
    [
        ("signal(queue_depth) max < 100", "fail", 120.0),
        ("signal(queue_depth) max < 150", "pass", 120.0),
        ("signal(queue_depth) < 100", "fail", 120.0),  # every second must hold: the worst
        ("signal(queue_depth) > 0", "fail", 0.0),
        ("signal(queue_depth) min >= 0", "pass", 0.0),
        ("signal(queue_depth) last < 5", "pass", 3.0),
        ("signal(queue_depth) avg < 40", "pass", 316 / 9),
        ("signal(queue_depth) max < 100 during payments-down", "fail", 120.0),
        ("signal(queue_depth) max < 100 before payments-down", "pass", 2.0),
        ("signal(queue_depth) max < 100 after payments-down", "pass", 10.0),
        ("signal(queue_depth) == 0 before payments-down", "fail", 1.0),
        ("signal(worker_lag) < 2s after worker-crash", "fail", 4.0),
        ("signal(worker_lag) < 8s during worker-crash", "pass", 7.5),
        ("signal(worker_lag) < 500ms before worker-crash", "pass", 0.2),
    ],
)
def test_reducers_and_phases(text: str, verdict: str, observed: float) -> None:
    result = judge(text)
    assert result["verdict"] == verdict
    assert result["observed"] == pytest.approx(observed)


def test_unit_and_seconds_without_data_are_shown() -> None:
    result = judge("signal(worker_lag) < 2s after worker-crash")
    assert result["unit"] == "s" and result["limit"] == 2.0
    before = judge("signal(worker_lag) < 1s before payments-down")
    assert before["verdict"] == "pass" and before["detail"] == "2 of 3s without data"


def test_no_data_is_never_a_pass() -> None:
    empty = {"queue_depth": SignalSeries([None] * 10)}
    result = judge("signal(queue_depth) max < 100", empty)
    assert result["verdict"] == "no_data"
    assert "had no value in any of its 10s" in str(result["detail"])
    assert judge("signal(gone) < 1")["verdict"] == "no_data"
    unknown_fault = judge("signal(queue_depth) < 1 during cpu-pressure")
    assert unknown_fault["verdict"] == "no_data" and "not injected" in str(unknown_fault["detail"])


def test_over_judges_every_full_window_and_reports_the_worst() -> None:
    result = judge("signal(queue_depth) avg < 50 over 3s")
    assert result["verdict"] == "fail"
    assert result["observed"] == pytest.approx(260 / 3) and result["window"] == [4, 7]
    assert judge("signal(queue_depth) avg < 100 over 3s")["verdict"] == "pass"


def test_abort_reads_the_seconds_so_far() -> None:
    threshold = parse_threshold("signal(queue_depth) max < 100, abort")
    series = Series()
    assert check_abort(threshold, series, now=5, signals=SIGNALS) is None  # 0..4: at most 80
    failed = check_abort(threshold, series, now=6, signals=SIGNALS)
    assert failed is not None and failed.observed == 120.0
    windowed = parse_threshold("signal(queue_depth) avg < 30 over 2s during payments-down, abort")
    assert check_abort(windowed, series, now=4, faults=FAULTS, signals=SIGNALS) is None
    hit = check_abort(windowed, series, now=5, faults=FAULTS, signals=SIGNALS)
    assert hit is not None and hit.window == (3, 5) and hit.observed == 60.0
    assert check_abort(threshold, series, now=10, signals={}) is None  # no data never aborts


SUITE = """
version: 1
name: mini
targets: {shop: "http://127.0.0.1:8000"}
metrics_sources:
  shop: {scrape: {target: shop, every: 500ms}}
signals:
  queue_depth: {source: shop, gauge: shop_queue_depth}
  worker_lag: {source: shop, gauge: shop_worker_lag_seconds, unit: s}
  order_failures: {source: shop, rate: 'shop_orders_total{result="failed"}'}
flows:
  browse: {target: shop, steps: [{name: home, request: GET /}]}
workloads:
  steady: {executor: constant-arrival-rate, rate: 10/s, duration: 1m, mix: {browse: 1}}
scenarios:
  normal:
    workload: steady
    thresholds:
      - signal(queue_depth) max < 100
      - signal(worker_lag) < 2s
      - signal(order_failures) == 0
"""


def test_a_suite_with_signals_loads() -> None:
    suite = load_suite_text(SUITE)
    assert summarize(suite)[-1] == (
        "  signals:   queue_depth (gauge from shop), worker_lag (gauge from shop), "
        "order_failures (rate from shop)"
    )
    scrape = suite.metrics_sources["shop"].scrape
    assert scrape is not None and scrape.every == 0.5
    assert suite.signals["order_failures"].expression == 'shop_orders_total{result="failed"}'


def test_a_duration_warn_level_needs_a_signal_in_seconds() -> None:
    text = SUITE.replace("signal(queue_depth) max < 100", "signal(queue_depth) max < 100 warn 5ms")
    with pytest.raises(SuiteInvalid) as caught:
        load_suite_text(text)
    (error,) = caught.value.errors
    assert "with the duration `5ms`, but it declares no unit" in error.message


def test_a_misspelt_signal_in_a_threshold_is_located_with_the_closest_name() -> None:
    text = SUITE.replace("signal(worker_lag) < 2s", "signal(worker_lga) < 2s")
    with pytest.raises(SuiteInvalid) as caught:
        load_suite_text(text)
    (error,) = caught.value.errors
    assert error.position is not None and error.position.line == 20
    assert "did you mean `worker_lag`?" in error.message
