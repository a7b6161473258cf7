"""Generator self-check (issue 16 §4): every result says how busy the load generator was and
how late it started iterations; a saturated or nearly saturated one says so in the console
and the Markdown summary."""

from __future__ import annotations

from dataclasses import dataclass

from contval.metrics import Snapshot
from contval.metrics.series import Series
from contval.report.generator import generator_dict, generator_note


@dataclass
class _Second:
    lag_ms: float
    cpu: float


def test_a_healthy_generator_has_figures_and_no_note() -> None:
    seconds = [_Second(1.5, 0.42), _Second(3.25, 0.55), _Second(0.5, 0.38)]
    generator = generator_dict(seconds, iterations=3000, late_starts=2, saturated=False)
    assert generator == {
        "cpu_max": 0.55,
        "cpu_mean": 0.45,
        "busy_seconds": 0,
        "lag_max_ms": 3.25,
        "late_starts": 2,
        "late_share": round(2 / 3000, 6),
        "saturated": False,
        "near_saturation": False,
    }
    assert generator_note({"generator": generator}) is None


def test_a_busy_generator_is_near_saturation() -> None:
    seconds = [_Second(2.0, 0.97), _Second(4.0, 0.99), _Second(1.0, 0.6)]
    generator = generator_dict(seconds, iterations=1000, late_starts=0, saturated=False)
    assert generator["busy_seconds"] == 2 and generator["near_saturation"] is True
    note = generator_note({"generator": generator})
    assert note is not None and note.startswith("generator near saturation (busiest worker 99%")
    assert "2 s at or above 90%" in note


def test_many_late_starts_are_near_saturation_too() -> None:
    seconds = [_Second(9.0, 0.5)]
    generator = generator_dict(seconds, iterations=1000, late_starts=20, saturated=False)
    assert generator["near_saturation"] is True
    note = generator_note({"generator": generator}) or ""
    assert "2.00% of iterations started late" in note
    # late but never busy: the host held it back, not its own load
    assert note.startswith("generator held back by its host (busiest worker 50%"), note


def test_a_saturated_generator_says_the_measurement_failed() -> None:
    generator = generator_dict([_Second(812.0, 1.0)], iterations=10, late_starts=9, saturated=True)
    assert generator["near_saturation"] is False  # it is more than near
    note = generator_note({"generator": generator})
    assert note is not None and note.startswith("generator saturated (")
    assert note.endswith("the measurement failed, not the system")
    assert generator_note({}) is None  # results written before the field existed


def test_series_bounds_are_kept_as_seconds_arrive_and_fold() -> None:
    series = Series()
    assert (series.start, series.end) == (0, 0)
    for second in (3, 1, 2, 7, 5):
        series.add(Snapshot(second))
    assert (series.start, series.end) == (1, 8)
    series.fold_after(4)  # seconds 5 and 7 drained: folded into second 3
    assert (series.start, series.end) == (1, 4)
    assert [s.second for s in series.snapshots()] == [1, 2, 3]
