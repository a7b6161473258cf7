"""Signals in the history and the baseline gate: signal windows on the request windows' grid,
stored (schema 5, an old database still opens), exported and compared per window with their
own tolerances."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from contval.baseline import HistoryStore, SignalWindow, schema, signal_windows_of
from contval.baseline.compare import compare
from contval.baseline.windows import windows_of
from contval.pipeline.gate import GateOptions, run_gate
from contval.pipeline.verdict import baseline_figures
from contval.spec import SuiteInvalid, load_suite_text
from contval.thresholds import SignalSeries, evaluate, parse_threshold
from tests.baseline.test_windows import synthetic
from tests.baseline.writers import meta, window
from tests.pipeline.test_gate import synthetic_run


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
        assert opened.schema_version == schema.LATEST
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


SUITE = """version: 1
name: gate-signals
targets: {app: "http://127.0.0.1:9"}
metrics_sources: {app: {scrape: {target: app}}}
signals:
  cpu: {source: app, gauge: process_cpu, tolerance: 20%}
  depth: {source: app, gauge: queue_depth}
  lag: {source: app, gauge: worker_lag_seconds, unit: s}
flows:
  fast:
    target: app
    steps: [{name: get, request: GET /fast, check: {status: 200}}]
  slow:
    target: app
    steps: [{name: get, request: GET /slow, check: {status: 200}}]
workloads:
  load: {executor: constant-arrival-rate, rate: 20/s, duration: 60s, mix: {fast: 1, slow: 1}}
scenarios:
  main: {workload: load}
"""
DOWN = {"down": (20, 40)}


def signals_of(seed: int, cpu_during: float = 1.0) -> dict[str, list[float | None]]:
    rng = random.Random(seed)
    cpu: list[float | None] = [
        (cpu_during if 20 <= t < 40 else 1.0) * rng.uniform(0.95, 1.05) for t in range(60)
    ]
    cpu[7] = None  # a second without data is left out of its window's mean
    return {"cpu": cpu, "depth": [0.0] * 60, "lag": [0.05] * 60}


def test_the_gate_keeps_signal_windows_and_compares_them_per_phase(tmp_path: Path) -> None:
    suite = load_suite_text(SUITE)
    options = GateOptions(store=str(tmp_path / "history.db"), env="test")
    named = [parse_threshold("signal(depth) max < baseline + 1 during down")]
    for seed in range(4):
        run_gate(options, suite, "main", synthetic_run(seed), DOWN, named, "pass", 0.0, 60.0,
                 signals_of(seed))  # fmt: skip
    hotter = signals_of(9, cpu_during=1.5)
    result = run_gate(
        options, suite, "main", synthetic_run(9), DOWN, named, "pass", 0.0, 60.0, hotter
    ).to_dict()
    rows = {
        (c["metric"], c["phase"]["phase"]): c
        for c in result["comparisons"]
        if c["metric"].startswith("signal(")
    }
    # cpu declares a tolerance; depth is named by a threshold; lag by neither: not compared
    assert {metric for metric, _ in rows} == {"signal(cpu)", "signal(depth)"}
    assert rows[("signal(cpu)", "before")]["verdict"] == "pass"
    during = rows[("signal(cpu)", "during")]
    assert during["verdict"] == "regression" and during["flow"] == "*"
    assert during["shift"] == pytest.approx(0.5, abs=0.1)
    assert during["tolerance"] == pytest.approx(0.2, abs=0.02)  # 20 % of the baseline's 1.0
    assert rows[("signal(depth)", "during")]["verdict"] == "pass"
    assert result["verdict"] == "regression" and len(result["baseline_runs"]) == 4
    with HistoryStore(tmp_path / "history.db") as store:
        kept = store.signal_windows(result["run_id"], "cpu")
    # 6 s windows (3 per 20 s phase at least), cut at the fault's edges like the requests'
    assert [(w.t0, w.t1) for w in kept[:5]] == [(0, 6), (6, 12), (12, 18), (18, 20), (20, 26)]
    assert kept[1].seconds == 5  # second 7 had no data
    during_means = [w.mean for w in kept if w.phases["down"] == "during"]
    assert len(during_means) == 4 and all(m == pytest.approx(1.5, abs=0.08) for m in during_means)

    figures = baseline_figures(result)
    judged = {
        text: evaluate(parse_threshold(text), synthetic_run(9), DOWN, figures, signals(hotter))
        for text in (
            "signal(cpu) < baseline + 20% during down",
            "signal(cpu) < baseline + 100% during down",
            "signal(cpu) max < baseline + 20% before down",
            "signal(depth) max < baseline + 1 during down",
            "signal(lag) < baseline + 10ms",
        )
    }
    failed = judged["signal(cpu) < baseline + 20% during down"]
    assert failed.verdict == "fail" and failed.observed == pytest.approx(1.5, abs=0.05)
    assert failed.limit == pytest.approx(1.2, abs=0.05) and len(failed.baseline_runs) == 4
    assert judged["signal(cpu) < baseline + 100% during down"].verdict == "pass"
    assert judged["signal(cpu) max < baseline + 20% before down"].verdict == "pass"
    assert judged["signal(depth) max < baseline + 1 during down"].verdict == "pass"
    unknown = judged["signal(lag) < baseline + 10ms"]  # never compared: no baseline figure
    assert unknown.verdict == "no_data" and unknown.detail == "no baseline yet"


def signals(values: dict[str, list[float | None]]) -> dict[str, SignalSeries]:
    return {name: SignalSeries(v) for name, v in values.items()}


def test_validate_refuses_a_bad_tolerance() -> None:
    text = SUITE.replace("tolerance: 20%", "tolerance: lots")
    with pytest.raises(SuiteInvalid) as caught:
        load_suite_text(text, "suite.yaml")
    assert "a tolerance is a percentage (20%), a number (5) or a duration (200ms)" in str(
        caught.value
    )
