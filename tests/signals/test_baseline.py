"""Signals in the history and the baseline gate: signal windows on the request windows' grid,
stored (schema 5, an old database still opens), exported and compared per window with their
own tolerances."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from contval.baseline import HistoryStore, SignalWindow, schema, signal_windows_of
from contval.baseline.compare import compare
from contval.baseline.windows import windows_of
from tests.baseline.test_windows import synthetic
from tests.baseline.writers import meta, window


def test_signal_windows_share_the_grid_and_phases_of_the_request_windows() -> None:
    values: list[float | None] = [1.0, 3.0, None, 5.0, 10.0, 20.0, None, None, 2.0, 2.0]
    faults = {"down": (4, 6)}
    cut = signal_windows_of({"depth": values}, size=3, faults=faults, span=(0, 10))
    assert [(w.t0, w.t1) for w in cut] == [(0, 3), (3, 4), (4, 6), (6, 9), (9, 10)]
    series = synthetic()
    grid = sorted({(w.t0, w.t1) for w in windows_of(series, 3, faults, span=(0, 10))})
    assert grid == [(w.t0, w.t1) for w in cut]
    first, _, during, gap, _ = cut
    assert (first.seconds, first.mean, first.peak) == (2, 2.0, 3.0)
    assert (during.mean, during.peak, dict(during.phases)) == (15.0, 20.0, {"down": "during"})
    assert (gap.seconds, gap.mean) == (1, 2.0)  # seconds without data are left out
    empty = signal_windows_of({"depth": [None] * 3}, size=3)
    assert empty == [SignalWindow("depth", 0, 3, 0, None, None, {})]


def test_a_version_4_database_opens_its_runs_have_no_signal_windows(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for number in range(1, 5):
        schema.MIGRATIONS[number - 1](db)
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    db.execute(
        "INSERT INTO runs (id, seq, suite, scenario, env, fingerprint, verdict, started_at,"
        " duration_s, complete, created_at) VALUES ('r-old', 1, 'shop', 'normal', 'local',"
        " 'fp', 'pass', '2026-01-01T00:00:00+00:00', 30, 1, '2026-01-01T00:00:31+00:00')"
    )
    db.commit()
    db.close()
    kept = [SignalWindow("cpu", 0, 10, 10, 0.25, 0.5, {"down": "before"})]
    with HistoryStore(path) as opened:
        assert opened.schema_version == 5
        assert opened.run("r-old").verdict == "pass"
        assert opened.signal_windows("r-old") == []
        new = opened.record_run(meta(), [window(0)], kept)
        assert opened.signal_windows(new) == kept
        assert opened.signal_windows(new, "other") == []


def test_signal_windows_travel_with_an_exported_baseline(tmp_path: Path) -> None:
    kept = [SignalWindow("cpu", t, t + 10, 10, 0.2 + t / 100, 0.4, {}) for t in (0, 10)]
    with HistoryStore(tmp_path / "a.db") as one:
        run_id = one.record_run(meta(), [window(0)], kept)
        doc = one.export_baseline("shop", "normal", "local", meta().fingerprint)
    assert doc["runs"][0]["signal_windows"][1]["mean"] == pytest.approx(0.3)
    with HistoryStore(tmp_path / "b.db") as other:
        assert other.import_baseline(doc) == [run_id]
        assert other.signal_windows(run_id) == kept
    del doc["runs"][0]["signal_windows"]  # an export made before signals were kept
    with HistoryStore(tmp_path / "c.db") as older:
        older.import_baseline(doc)
        assert older.signal_windows(run_id) == []


BASE = [[1.0, 1.2, 0.9, 1.1, 1.0], [1.1, 0.9, 1.0, 1.0, 1.2], [1.0, 1.0, 1.1, 0.9, 1.0]]


def test_a_signal_is_compared_in_its_own_unit_with_its_own_tolerance() -> None:
    same = compare("signal(cpu)", [1.0, 1.1, 0.9, 1.0, 1.0], BASE)
    assert same.outcome == "pass" and same.tolerance == pytest.approx(0.2)  # 20 % of 1.0
    worse = compare("signal(cpu)", [1.6, 1.5, 1.7, 1.6, 1.5], BASE)
    assert worse.outcome == "regression" and worse.shift == pytest.approx(0.6)
    assert worse.detail.startswith("+0.6 (") and "tolerance +0.2" in worse.detail
    wide = compare("signal(cpu)", [1.6, 1.5, 1.7, 1.6, 1.5], BASE, tolerance=1.0)
    assert wide.outcome == "pass"  # an absolute tolerance in the signal's unit
    relative = compare("signal(cpu)", [1.6, 1.5, 1.7, 1.6, 1.5], BASE, tolerance=1.0, relative=True)
    assert relative.outcome == "pass" and relative.tolerance == pytest.approx(1.0)
    better = compare("signal(cpu)", [0.5, 0.4, 0.5, 0.6, 0.5], BASE)
    assert better.outcome == "improvement"


def test_a_queue_empty_in_the_baseline_tolerates_no_growth_by_default() -> None:
    empty = [[0.0] * 5] * 3
    assert compare("signal(depth)", [0.0] * 5, empty).outcome == "pass"
    grown = compare("signal(depth)", [4.0, 5.0, 3.0, 6.0, 4.0], empty)
    assert grown.outcome == "regression" and grown.tolerance == 0.0
    assert compare("signal(depth)", [4.0, 5.0, 3.0, 6.0, 4.0], empty, tolerance=10).outcome == (
        "pass"
    )
    few = compare("signal(depth)", [1.0] * 5, empty[:2])
    assert few.outcome == "no_baseline"
