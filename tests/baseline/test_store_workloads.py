"""Workloads run `alongside` a scenario have runs and baselines of their own in the history:
keyed by (suite, scenario, workload, env), apart from the scenario's as a whole; a version 5
database (before workloads had a key) opens, keeps its runs and its pinned baseline, and every
run it held is the scenario's as a whole."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from contval.baseline import schema
from contval.baseline.records import RunMeta
from contval.baseline.sqlite import StoreError
from contval.baseline.store import HistoryStore
from tests.baseline.writers import meta, window

FP = "f" * 16


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore(tmp_path / "history.db") as opened:
        yield opened


def _at(minute: int, **changes: object) -> RunMeta:
    return meta(started_at=f"2026-11-26T16:{minute:02d}:00+00:00", **changes)


def test_a_workloads_runs_are_kept_apart_from_the_scenarios(store: HistoryStore) -> None:
    whole = [store.record_run(_at(m), [window(0)]) for m in range(3)]
    buyers = [store.record_run(_at(m, workload="buyers"), [window(0)]) for m in range(3, 6)]
    other = store.record_run(_at(6, workload="browsing"), [])
    assert store.run(buyers[0]).workload == "buyers" and store.run(whole[0]).workload is None
    assert store.run(buyers[0]).key == "normal/buyers" and store.run(whole[0]).key == "normal"
    assert [r.id for r in store.runs()] == whole[::-1]  # the scenario's, as before
    assert [r.id for r in store.runs(workload="buyers")] == buyers[::-1]
    assert len(store.runs(every_workload=True)) == 7
    rolling = store.baseline("shop", "normal", "local", FP, workload="buyers")
    assert rolling.run_ids == tuple(buyers[::-1])
    assert store.baseline("shop", "normal", "local", FP).run_ids == tuple(whole[::-1])
    assert store.baseline("shop", "normal", "local", FP, workload="browsing").run_ids == (other,)
    current = store.record_run(_at(9, workload="buyers"), [])
    before = store.rolling_baseline(
        "shop", "normal", "local", FP, before=current, workload="buyers"
    )
    assert [r.id for r in before] == buyers[::-1]


def test_a_workloads_baseline_is_pinned_on_its_own(store: HistoryStore) -> None:
    whole = [store.record_run(_at(m), []) for m in range(3)]
    buyers = [store.record_run(_at(m, workload="buyers"), []) for m in range(3, 6)]
    with pytest.raises(StoreError, match="is shop/normal/local, not shop/normal/buyers/local"):
        store.pin("shop", "normal", "local", [whole[0]], workload="buyers")
    with pytest.raises(StoreError, match="is shop/normal/buyers/local, not shop/normal/local"):
        store.pin("shop", "normal", "local", [buyers[0]])
    store.pin("shop", "normal", "local", buyers[:2], workload="buyers")
    pinned = store.baseline("shop", "normal", "local", FP, workload="buyers")
    assert (pinned.mode, set(pinned.run_ids)) == ("pinned", set(buyers[:2]))
    assert store.baseline("shop", "normal", "local", FP).mode == "rolling"
    store.pin("shop", "normal", "local", whole[:1])  # the scenario's pin leaves the workload's
    assert store.run(buyers[0]).pinned and store.run(whole[0]).pinned
    store.unpin("shop", "normal", "local", workload="buyers")
    assert store.baseline("shop", "normal", "local", FP, workload="buyers").mode == "rolling"
    assert not store.run(buyers[0]).pinned and store.run(whole[0]).pinned
    assert store.baseline("shop", "normal", "local", FP).mode == "pinned"


def test_a_workloads_baseline_travels_with_its_key(store: HistoryStore, tmp_path: Path) -> None:
    buyers = [store.record_run(_at(m, workload="buyers"), [window(m)]) for m in range(3)]
    store.record_run(_at(5), [window(0)])
    doc = json.loads(json.dumps(store.export_baseline("shop", "normal", "local", FP, "buyers")))
    assert doc["workload"] == "buyers"
    assert [r["meta"]["id"] for r in doc["runs"]] == buyers[::-1]
    assert {r["meta"]["workload"] for r in doc["runs"]} == {"buyers"}
    with HistoryStore(tmp_path / "fresh.db") as fresh:
        assert fresh.import_baseline(doc) == buyers[::-1]
        chosen = fresh.baseline("shop", "normal", "local", FP, workload="buyers")
        assert chosen.mode == "pinned" and set(chosen.run_ids) == set(buyers)
        assert fresh.baseline("shop", "normal", "local", FP).mode == "rolling"
        assert fresh.windows(buyers[0]) == store.windows(buyers[0])
        doc["workload"] = None  # the runs are the workload's: not the scenario's baseline
        with pytest.raises(StoreError, match="is not shop/normal/local"):
            fresh.import_baseline(doc)


def test_record_runs_writes_all_of_them_or_none(store: HistoryStore) -> None:
    ids = store.record_runs(
        [(_at(1), [window(0)], []), (_at(1, workload="buyers"), [window(1)], [])]
    )
    assert [store.run(i).workload for i in ids] == [None, "buyers"]
    with pytest.raises(StoreError, match="already"):
        store.record_runs([(_at(2, id="r-new"), [], []), (_at(2, id=ids[0]), [], [])])
    assert [r.id for r in store.runs(every_workload=True)] == ids[::-1]


def _version_5(path: Path) -> None:
    """A history database as contval wrote it before workloads had runs of their own: two
    runs of a scenario, one window each, both pinned as its baseline."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for number in range(1, 6):
        schema.MIGRATIONS[number - 1](db)
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    for seq, run_id in enumerate(("r-old-1", "r-old-2"), 1):
        db.execute(
            "INSERT INTO runs (id, seq, suite, scenario, env, fingerprint, verdict, started_at,"
            " duration_s, complete, created_at, pinned) VALUES (?, ?, 'shop', 'normal', 'local',"
            " ?, 'pass', ?, 30, 1, '2026-01-01T00:01:00+00:00', 1)",
            (run_id, seq, FP, f"2026-01-01T00:00:0{seq}+00:00"),
        )
        db.execute(
            "INSERT INTO windows (run_id, flow, step, t0, t1, phases, requests, errors,"
            " iterations) VALUES (?, 'browse', '', 0, 10, '{}', 100, 1, 50)",
            (run_id,),
        )
    db.execute(
        "INSERT INTO baselines (suite, scenario, env, mode, run_ids, n) VALUES"
        " ('shop', 'normal', 'local', 'pinned', '[\"r-old-1\", \"r-old-2\"]', 10)"
    )
    db.commit()
    db.close()


def test_a_version_5_database_keeps_its_runs_and_its_pinned_baseline(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    _version_5(path)
    with HistoryStore(path) as opened:
        assert opened.schema_version == schema.LATEST == 6
        old = opened.run("r-old-1")
        assert (old.workload, old.verdict, old.pinned) == (None, "pass", True)
        assert opened.windows("r-old-2")[0].requests == 100
        chosen = opened.baseline("shop", "normal", "local", FP)
        assert (chosen.mode, chosen.run_ids) == ("pinned", ("r-old-1", "r-old-2"))
        new = opened.record_run(_at(1, workload="buyers"), [window(0)])
        assert opened.baseline("shop", "normal", "local", FP, workload="buyers").run_ids == (new,)
        assert [r.id for r in opened.runs()] == ["r-old-2", "r-old-1"]
        opened.pin("shop", "normal", "local", [new], workload="buyers")
        assert opened.baseline("shop", "normal", "local", FP).run_ids == ("r-old-1", "r-old-2")
    with HistoryStore(path) as again:  # reopening migrates nothing more
        assert again.schema_version == 6
        assert again.baseline("shop", "normal", "local", FP, workload="buyers").mode == "pinned"
