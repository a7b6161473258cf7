"""The store under real processes: two concurrent writers, and a writer killed mid-run."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import threading
from pathlib import Path

import pytest

from contval.baseline.sqlite import StoreBusy
from contval.baseline.store import HistoryStore
from tests.baseline import writers

SPAWN = multiprocessing.get_context("spawn")


def assert_consistent(store: HistoryStore) -> None:
    db = store._connection()
    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    orphans = db.execute(
        "SELECT count(*) FROM windows WHERE run_id NOT IN (SELECT id FROM runs)"
    ).fetchone()
    assert orphans == (0,)


def test_two_writer_processes(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    HistoryStore(path).close()
    start = SPAWN.Event()
    children = [
        SPAWN.Process(target=writers.write_many, args=(path, tag, 50, start)) for tag in "ab"
    ]
    for child in children:
        child.start()
    start.set()
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    with HistoryStore(path) as store:
        runs = store.runs()
        assert len(runs) == 100 and len({r.id for r in runs}) == 100
        labels = {r.label for r in runs}
        assert labels == {f"{tag}-{i}" for tag in "ab" for i in range(50)}
        assert all(len(store.windows(r.id or "")) == 20 for r in runs)
        assert_consistent(store)


def test_killed_writer_leaves_no_partial_run(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    done_first, reached = SPAWN.Event(), SPAWN.Event()
    child = SPAWN.Process(target=writers.write_then_stall, args=(path, done_first, reached))
    child.start()
    try:
        assert done_first.wait(30) and reached.wait(30), "the writer never got mid-run"
        with HistoryStore(path) as reader:  # readers go on while the writer holds its lock
            assert [r.label for r in reader.runs()] == ["whole"]
        assert (tmp_path / "history.db-wal").stat().st_size > 1_000_000  # pages really written
        os.kill(child.pid or 0, signal.SIGKILL)
    finally:
        if child.is_alive():
            child.kill()
        child.join(10)
    assert child.exitcode == -signal.SIGKILL
    with HistoryStore(path) as store:
        assert_consistent(store)
        runs = store.runs()
        assert [r.label for r in runs] == ["whole"]
        assert len(store.windows(runs[0].id or "")) == 30
        total = store._connection().execute("SELECT count(*) FROM windows").fetchone()
        assert total == (30,)
        after = store.record_run(writers.meta(label="after"), [writers.window(0)])
        assert store.run(after).label == "after"


def test_a_long_held_lock_is_waited_out_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    HistoryStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.2, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        with HistoryStore(path, busy_timeout_ms=1) as store:
            run_id = store.record_run(writers.meta(), [writers.window(0)])
            assert store.run(run_id).id == run_id
    finally:
        release.join()
        holder.close()


def test_busy_beyond_the_retry_budget_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    HistoryStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with HistoryStore(path, busy_timeout_ms=1, retry_for_s=0.05) as store:
            with pytest.raises(StoreBusy, match="busy"):
                store.record_run(writers.meta(), [])
            assert store.runs() == []  # reads go on meanwhile (WAL)
    finally:
        holder.close()


def exclusive_holder(path: Path) -> sqlite3.Connection:
    """A store at `path` and a connection holding it exclusively: not even a read gets in."""
    HistoryStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode = EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_opening_a_store_waits_out_an_exclusive_lock(tmp_path: Path) -> None:
    """Opening reads the file (`PRAGMA synchronous`), so another process's exclusive lock
    at that moment was a bare `database is locked`: the two-writer test's red CI."""
    path = tmp_path / "history.db"
    holder = exclusive_holder(path)
    release = threading.Timer(0.2, holder.close)
    release.start()
    try:
        with HistoryStore(path, busy_timeout_ms=1) as store:
            assert store.runs() == []
            run_id = store.record_run(writers.meta(), [writers.window(0)])
            assert store.run(run_id).id == run_id
    finally:
        release.join()


def test_opening_a_store_busy_beyond_the_retry_budget_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    holder = exclusive_holder(path)
    try:
        with pytest.raises(StoreBusy, match="busy"):
            HistoryStore(path, busy_timeout_ms=1, retry_for_s=0.05)
    finally:
        holder.close()
