"""`recovery_time(signal(NAME))`: when a server-side signal is back in its pre-fault band after
a fault, by the same streak rule as the client metrics' recovery (`contval.metrics.phases`)."""

from __future__ import annotations

import pytest

from contval.metrics import Series
from contval.metrics.phases import RECOVERY_STREAK, SignalBand, phase_summary, signal_recovery
from contval.spec import SuiteInvalid, load_suite_text
from contval.thresholds import SignalSeries, ThresholdSyntaxError, evaluate_all, parse_threshold

# queue depth: 0..2 before the fault (seconds 0-4), grows while it holds (5-9), drains after
DEPTH: list[float | None] = [0, 1, 2, 1, 0, 10, 30, 60, 90, 120, 80, 40, 9, 2, 1, None, 0, 2, 1]
FAULTS = {"payments-down": (5, 10)}


def judge(text: str, values: list[float | None] = DEPTH) -> dict[str, object]:
    signals = {"queue_depth": SignalSeries(values)}
    (result,) = evaluate_all([parse_threshold(text)], Series(), faults=FAULTS, signals=signals)
    return result.to_dict()


def test_the_band_is_the_pre_fault_range_widened_by_half_of_it() -> None:
    band = SignalBand.of([0.0, 1.0, 2.0])
    assert band is not None and (band.low, band.high) == (-1.0, 3.0)
    flat = SignalBand.of([0.0, 0.0])  # an empty queue must be empty again
    assert flat is not None and (flat.low, flat.high) == (0.0, 0.0)
    steady = SignalBand.of([100.0, 100.0])  # a flat non-zero signal: 10 % either side
    assert steady is not None and (steady.low, steady.high) == (90.0, 110.0)
    assert SignalBand.of([]) is None


def test_recovered_when_back_in_band_for_the_streak_and_no_data_is_skipped() -> None:
    measured = signal_recovery(DEPTH, "payments-down", FAULTS)
    # in band (<= 3) from second 13: 13, 14, (15 no data), 16, 17, 18 make the streak
    assert RECOVERY_STREAK == 5
    assert measured.status == "recovered" and measured.seconds == 3
    assert measured.window == (10, 13)
    result = judge("recovery_time(signal(queue_depth)) < 5s after payments-down")
    assert result["verdict"] == "pass" and result["observed"] == 3000.0  # shown in ms
    assert result["unit"] == "ms"
    assert result["detail"] == (
        "payments-down: recovered 3s after it ended (band: -1 .. 3, from 0 .. 2 before the fault)"
    )
    assert judge("recovery_time(signal(queue_depth)) < 2s")["verdict"] == "fail"


def test_not_recovered_fails_whatever_the_limit() -> None:
    stuck = [*DEPTH[:13], 9.0, 9.0, 9.0, 9.0, 1.0, 1.0]
    result = judge("recovery_time(signal(queue_depth)) < 1h after payments-down", stuck)
    assert result["verdict"] == "fail" and result["observed"] == 9000.0  # 19 - 10: at least
    assert "not recovered within the run (9s observed after payments-down)" in str(result["detail"])
    assert "back in band from second 17, 2 of 5 seconds" in str(result["detail"])


def test_no_data_before_the_fault_or_no_fault_is_never_a_pass() -> None:
    blind = [None] * 5 + DEPTH[5:]
    result = judge("recovery_time(signal(queue_depth)) < 1h", blind)
    assert result["verdict"] == "no_data"
    assert "no value of the signal before payments-down" in str(result["detail"])
    other = judge("recovery_time(signal(queue_depth)) < 1h after worker-crash")
    assert other["verdict"] == "no_data" and "not injected" in str(other["detail"])
    gone = evaluate_all([parse_threshold("recovery_time(signal(gone)) < 1s")], Series(), FAULTS)
    assert gone[0].verdict == "no_data" and "signal gone was not read" in gone[0].detail


def test_another_faults_seconds_are_left_out_of_the_band() -> None:
    values: list[float | None] = [0, 0, 50, 50, 0, 0, 9, 9, 0, 0, 0, 0, 0, 0]
    faults = {"early": (2, 4), "late": (6, 8)}
    measured = signal_recovery(values, "late", faults)
    assert measured.band is not None and measured.band.to_dict()["max"] == 0
    assert measured.status == "recovered" and measured.seconds == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("recovery_time(queue_depth) < 5s", "recovery_time takes a signal or no argument"),
        ("recovery_time(signal(queue_depth) < 5s", "expected ')' to close recovery_time"),
        ("checkout: recovery_time(signal(x)) < 5s", "a signal's recovery is the server's"),
        ("recovery_time(signal(x)) < 5s during f", "use `after FAULT`"),
        ("recovery_time(signal(x)) < 5s over 10s", "it takes no `over`"),
        ("recovery_time(signal(x)) < 5", "recovery_time(signal(x))"),
    ],
)
def test_syntax_errors_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(ThresholdSyntaxError) as caught:
        parse_threshold(text)
    assert message in str(caught.value)


def test_it_prints_back_and_takes_a_duration_whatever_the_signals_unit() -> None:
    threshold = parse_threshold("recovery_time(signal(queue_depth))<30s after payments-down")
    assert threshold.to_text() == "recovery_time(signal(queue_depth)) < 30s after payments-down"
    assert parse_threshold(threshold.to_text()) == threshold


SUITE = """
version: 1
name: r
targets: {shop: "http://127.0.0.1:9"}
metrics_sources: {shop: {scrape: {target: shop}}}
signals: {queue_depth: {source: shop, gauge: shop_queue_depth}}
flows:
  browse: {target: shop, steps: [{name: home, request: GET /}]}
workloads:
  load: {executor: constant-arrival-rate, rate: 10/s, duration: 10s, mix: {browse: 1}}
chaos_targets: {link: {proxy: {listen: 127.0.0.1:9101, upstream: 127.0.0.1:9100}}}
faults:
  down: {type: latency, target: link, delay: 1ms}
scenarios:
  s:
    workload: load
    chaos: [{fault: down, at: 2s, for: 3s}]
    thresholds:
      - recovery_time(signal(queue_depth)) < 5s after down
      - recovery_time(signal(queue_dept)) < 5s after down
"""


def test_validate_names_an_unknown_signal_in_a_recovery_time() -> None:
    with pytest.raises(SuiteInvalid) as caught:
        load_suite_text(SUITE, "suite.yaml")
    text = str(caught.value)
    assert "threshold names signal `queue_dept`" in text and "queue_depth" in text
    assert text.count("suite.yaml:") == 1 and "suite.yaml:20:30:" in text, text


def test_phase_summary_carries_each_signals_recovery_per_fault() -> None:
    lag: list[float | None] = [1.0 if s < 5 else 9.0 for s in range(19)]  # never back in band
    faults = {"payments-down": (5, 10), "blip": (17, 18)}
    summary = phase_summary(Series(), faults, ["checkout"], {"queue_depth": DEPTH, "lag": lag})
    down = summary["payments-down"]["recovery"]
    assert set(down) == {"total", "flows", "signals"}
    assert down["signals"]["queue_depth"] == {
        "status": "recovered",
        "seconds": 3,
        "window": [10, 13],
        "band": {"min": 0, "max": 2, "low": -1.0, "high": 3.0},
        "detail": "",
    }
    assert down["signals"]["lag"]["status"] == "not_recovered"
    assert down["signals"]["lag"]["seconds"] == 9  # a lower bound: to the end of the load
    blip = summary["blip"]["recovery"]["signals"]
    # one second in band after it, then the load ended: not 5 in a row
    assert (blip["queue_depth"]["status"], blip["queue_depth"]["seconds"]) == ("not_recovered", 1)
    assert blip["queue_depth"] == signal_recovery(DEPTH, "blip", faults).to_dict()
    # a scenario without signals keeps the entry it had
    assert "signals" not in phase_summary(Series(), faults, ["checkout"])["blip"]["recovery"]
