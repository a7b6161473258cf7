"""The history store on real SQLite files: schema, round trips, baselines, export/import."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from contval.baseline import schema
from contval.baseline.records import RunMeta
from contval.baseline.sqlite import StoreError
from contval.baseline.store import HistoryStore, UnknownRun, default_path
from contval.baseline.windows import windows_of
from contval.metrics import Histogram
from tests.baseline.test_windows import synthetic
from tests.baseline.writers import meta, window

FP = "f" * 16


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(tmp_path / "h" / "history.db") as opened:
        yield opened


def sql(store: HistoryStore, query: str) -> list[tuple[object, ...]]:
    return store._connection().execute(query).fetchall()


def test_migrates_an_empty_file(store: HistoryStore) -> None:
    assert store.schema_version == schema.LATEST == 6
    tables = {row[0] for row in sql(store, "SELECT name FROM sqlite_master WHERE type='table'")}
    expected = {"schema_version", "runs", "windows", "baselines", "documents", "signal_windows"}
    assert expected <= tables
    assert sql(store, "PRAGMA journal_mode") == [("wal",)]
    assert int(sql(store, "PRAGMA busy_timeout")[0][0]) == 5000  # type: ignore[call-overload]


def test_reopen_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    with HistoryStore(path) as first:
        run_id = first.record_run(meta(), [window(0)])
    for _ in range(2):
        with HistoryStore(path) as again:
            assert again.schema_version == 6
            versions = sql(again, "SELECT version FROM schema_version")
            assert versions == [(1,), (2,), (3,), (4,), (5,), (6,)]
            assert again.run(run_id).label is None


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    HistoryStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO schema_version VALUES (?)", (schema.LATEST + 1,))
    with pytest.raises(RuntimeError, match="newer"):
        HistoryStore(path)


def test_default_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTVAL_STORE", raising=False)
    assert default_path() == Path(".contval/history.db")
    monkeypatch.setenv("CONTVAL_STORE", str(tmp_path / "env.db"))
    with HistoryStore() as store:
        assert store.path == tmp_path / "env.db"
    assert (tmp_path / "env.db").exists()


def test_round_trip_with_exact_histograms(store: HistoryStore) -> None:
    records = windows_of(synthetic(), faults={"slow": (12, 18)})
    started = "2026-11-26T15:30:12.5+00:00"
    run_id = store.record_run(meta(label="abc123", duration_s=25.0, started_at=started), records)
    assert re.fullmatch(r"r-20261126-1530-[0-9a-f]{4}", run_id)
    got = store.run(run_id)
    assert (got.id, got.label, got.duration_s, got.verdict) == (run_id, "abc123", 25.0, "pass")
    assert got.created_at is not None and not got.pinned and got.accepted
    back = store.windows(run_id)
    assert sorted(back, key=_order) == sorted(records, key=_order)
    home = store.windows(run_id, flow="browse", step="home")
    assert [w.t0 for w in home] == [0, 10, 12, 18]
    assert home[2].phases == {"slow": "during"}
    for stored, original in zip(home, sorted(_home(records), key=_order), strict=True):
        assert stored.latency is not None and original.latency is not None
        a, b = Histogram.decode(stored.latency), Histogram.decode(original.latency)
        assert [a.percentile(p) for p in (50, 95, 99, 100)] == [
            b.percentile(p) for p in (50, 95, 99, 100)
        ]
    assert [w.step for w in store.windows(run_id, flow="browse", step="")] == [""] * 4


def _order(w: object) -> tuple[object, ...]:
    return (w.t0, w.flow, w.step)  # type: ignore[attr-defined]


def _home(records: list) -> list:  # type: ignore[type-arg]
    return [r for r in records if r.step == "home"]


def test_unknown_run_and_duplicate_id(store: HistoryStore) -> None:
    with pytest.raises(UnknownRun):
        store.run("r-nope")
    store.record_run(meta(id="r-fixed"), [])
    with pytest.raises(StoreError, match="already"):
        store.record_run(meta(id="r-fixed"), [window(1)])
    assert store.windows("r-fixed") == []


def test_runs_filters_and_order(store: HistoryStore) -> None:
    ids = [
        store.record_run(meta(started_at=f"2026-11-26T15:{m:02d}:00+00:00", env=env), [])
        for m, env in [(1, "ci"), (3, "local"), (2, "ci")]
    ]
    assert [r.id for r in store.runs()] == [ids[1], ids[2], ids[0]]
    assert [r.id for r in store.runs(env="ci")] == [ids[2], ids[0]]
    assert [r.id for r in store.runs(limit=1)] == [ids[1]]
    assert store.runs(fingerprint="other") == []
    assert len(store.runs(suite="shop", scenario="normal")) == 3


def _at(minute: int, **changes: object) -> RunMeta:
    return meta(started_at=f"2026-11-26T16:{minute:02d}:00+00:00", **changes)


def test_rolling_baseline_selection(store: HistoryStore) -> None:
    passing = [store.record_run(_at(m), [window(0)]) for m in range(12)]
    store.record_run(_at(20, verdict="fail"), [])
    store.record_run(_at(21, fingerprint="0" * 16), [])
    store.record_run(_at(22, env="ci"), [])
    store.record_run(_at(23, scenario="other"), [])
    store.record_run(_at(24, complete=False), [])
    current = store.record_run(_at(25), [])
    later = store.record_run(_at(30), [])
    rolling = store.rolling_baseline("shop", "normal", "local", FP, n=10, before=current)
    assert [r.id for r in rolling] == passing[::-1][:10]
    newest = store.rolling_baseline("shop", "normal", "local", FP, n=3)
    assert [r.id for r in newest] == [later, current, passing[-1]]
    store.accept(passing[-1], False)
    again = store.rolling_baseline("shop", "normal", "local", FP, n=2, before=current)
    assert [r.id for r in again] == [passing[-2], passing[-3]]
    with pytest.raises(UnknownRun):
        store.accept("r-nope")


def test_same_start_ordered_by_recording(store: HistoryStore) -> None:
    first, second, third = (store.record_run(_at(1), []) for _ in range(3))
    got = store.rolling_baseline("shop", "normal", "local", FP, before=third)
    assert [r.id for r in got] == [second, first]


def test_pinned_overrides_rolling(store: HistoryStore) -> None:
    ids = [store.record_run(_at(m), []) for m in range(5)]
    other = store.record_run(_at(6, fingerprint="0" * 16), [])
    assert store.baseline("shop", "normal", "local", FP).mode == "rolling"
    store.pin("shop", "normal", "local", [ids[0], ids[1], other])
    chosen = store.baseline("shop", "normal", "local", FP)
    assert (chosen.mode, chosen.run_ids, chosen.mismatched) == (
        "pinned",
        (ids[0], ids[1]),
        (other,),
    )
    assert store.run(ids[0]).pinned and not store.run(ids[4]).pinned
    assert store.baseline("shop", "normal", "ci", FP).mode == "rolling"
    store.unpin("shop", "normal", "local")
    back = store.baseline("shop", "normal", "local", FP)
    assert back.mode == "rolling" and back.run_ids == tuple(ids[::-1])
    assert not store.run(ids[0]).pinned


def test_pin_refuses_unknown_and_foreign_runs(store: HistoryStore) -> None:
    ci = store.record_run(_at(1, env="ci"), [])
    with pytest.raises(UnknownRun):
        store.pin("shop", "normal", "local", ["r-nope"])
    with pytest.raises(StoreError, match="not shop/normal/local"):
        store.pin("shop", "normal", "local", [ci])
    with pytest.raises(StoreError):
        store.pin("shop", "normal", "local", [])
    assert store.baseline("shop", "normal", "local", FP).mode == "rolling"


def test_export_import_round_trip(store: HistoryStore, tmp_path: Path) -> None:
    records = windows_of(synthetic(), faults={"slow": (12, 18)})
    ids = [store.record_run(_at(m, label=f"v{m}"), records) for m in range(3)]
    doc = json.loads(json.dumps(store.export_baseline("shop", "normal", "local", FP)))
    assert doc["schema"] == "contval/baseline/v1" and doc["mode"] == "rolling"
    assert [r["meta"]["id"] for r in doc["runs"]] == ids[::-1]
    with HistoryStore(tmp_path / "fresh.db") as fresh:
        assert fresh.import_baseline(doc) == ids[::-1]
        chosen = fresh.baseline("shop", "normal", "local", FP)
        assert chosen.mode == "pinned" and chosen.run_ids == tuple(ids[::-1])
        for run_id in ids:
            assert fresh.run(run_id).label == store.run(run_id).label
            assert fresh.windows(run_id) == store.windows(run_id)
        assert fresh.import_baseline(doc) == ids[::-1]  # idempotent
        assert len(fresh.runs()) == 3
        again = json.loads(json.dumps(fresh.export_baseline("shop", "normal", "local", FP)))
        assert again["mode"] == "pinned"
        assert again["runs"] == [{**r, "meta": {**r["meta"], "pinned": True}} for r in doc["runs"]]


def test_import_refuses_bad_documents(store: HistoryStore) -> None:
    with pytest.raises(StoreError, match="schema"):
        store.import_baseline({"schema": "nope"})
    store.record_run(meta(id="r-1"), [])
    doc = store.export_baseline("shop", "normal", "local", FP)
    doc["runs"][0]["meta"]["fingerprint"] = "0" * 16
    with pytest.raises(StoreError, match="different run"):
        store.import_baseline(doc)
    doc["env"] = "ci"
    with pytest.raises(StoreError, match="not shop/normal/ci"):
        store.import_baseline(doc)


def test_a_version_1_database_is_migrated_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    schema.MIGRATIONS[0](db)
    db.execute("INSERT INTO schema_version (version) VALUES (1)")
    db.commit()
    db.close()
    with HistoryStore(path) as opened:
        assert opened.schema_version == 6
        run_id = opened.record_run(meta(), [window(0)])
        assert opened.run(run_id).inconclusive == ()  # version 4
        assert opened.windows(run_id)[0].dropped == 0  # version 3 added dropped and late
        opened.save_document("suite-run-1", {"suite": "s", "started_at": "t", "x": [1]}, [run_id])
        assert opened.document(run_id) == {"suite": "s", "started_at": "t", "x": [1]}
        assert opened.document("suite-run-1")["x"] == [1]
        assert opened.documents() == [("suite-run-1", "s", "t")]


def test_an_unknown_document_is_a_clear_error(store: HistoryStore) -> None:
    with pytest.raises(UnknownRun, match="no suite run or scenario run nope"):
        store.document("nope")
