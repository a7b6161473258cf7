"""The history database's schema, as an ordered list of migrations.

Migration N brings a database from version N-1 to N; `MIGRATIONS[N-1]` is it. The version
lives in `schema_version` and is read and bumped inside the same write transaction as the
migration, so two processes opening a fresh file at once never both migrate, and a migration
killed half-way leaves the previous version intact. To change the schema, append a function:
never edit one that has shipped (databases in the field already ran it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Final

Migration = Callable[[sqlite3.Connection], None]


def _m1_initial(db: sqlite3.Connection) -> None:
    """Runs, their windows, and per-scenario baseline settings."""
    db.execute(
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE,
            suite TEXT NOT NULL,
            scenario TEXT NOT NULL,
            env TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            label TEXT,
            verdict TEXT NOT NULL,
            started_at TEXT NOT NULL,
            duration_s REAL NOT NULL,
            complete INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            accepted INTEGER NOT NULL DEFAULT 1,
            pinned INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute("CREATE INDEX runs_by_scope ON runs (suite, scenario, env, fingerprint, started_at)")
    db.execute(
        """CREATE TABLE windows (
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            flow TEXT NOT NULL,
            step TEXT NOT NULL,
            t0 INTEGER NOT NULL,
            t1 INTEGER NOT NULL,
            phases TEXT NOT NULL,
            requests INTEGER NOT NULL,
            errors INTEGER NOT NULL,
            iterations INTEGER NOT NULL,
            latency TEXT,
            duration TEXT,
            PRIMARY KEY (run_id, flow, step, t0)
        ) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE baselines (
            suite TEXT NOT NULL,
            scenario TEXT NOT NULL,
            env TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('rolling', 'pinned')),
            run_ids TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (suite, scenario, env)
        )"""
    )


def _m2_documents(db: sqlite3.Connection) -> None:
    """Whole suite runs (`result.json`, compressed), so reports can be re-made from history."""
    db.execute(
        """CREATE TABLE documents (
            id TEXT PRIMARY KEY,
            suite TEXT NOT NULL,
            started_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            body BLOB NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE document_runs (
            run_id TEXT PRIMARY KEY,
            document_id TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE
        ) WITHOUT ROWID"""
    )


def _m3_dropped_late(db: sqlite3.Connection) -> None:
    """Dropped and late iterations per window: what an open-model run is judged on instead of
    its throughput (which is the schedule's, an input)."""
    db.execute("ALTER TABLE windows ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE windows ADD COLUMN late INTEGER NOT NULL DEFAULT 0")


def _m4_inconclusive(db: sqlite3.Connection) -> None:
    """Which comparisons of a run were inconclusive, so the gate can say when a comparison is
    inconclusive in most recent runs (too noisy for its tolerance)."""
    db.execute("ALTER TABLE runs ADD COLUMN inconclusive TEXT NOT NULL DEFAULT '[]'")


def _m5_signal_windows(db: sqlite3.Connection) -> None:
    """Server-side signals per window (issue 14), on the request windows' grid, so a run's
    signals are compared with its baseline's like its latency. A table of its own: runs
    recorded before it simply have no signal windows."""
    db.execute(
        """CREATE TABLE signal_windows (
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            signal TEXT NOT NULL,
            t0 INTEGER NOT NULL,
            t1 INTEGER NOT NULL,
            phases TEXT NOT NULL,
            seconds INTEGER NOT NULL,
            mean REAL,
            peak REAL,
            PRIMARY KEY (run_id, signal, t0)
        ) WITHOUT ROWID"""
    )


def _m6_workloads(db: sqlite3.Connection) -> None:
    """Runs and baselines of each workload run `alongside` a scenario, under their own key
    (suite, scenario, workload, env); `''` is the scenario as a whole, which every run and
    baseline recorded before is. The baselines table is rebuilt with the workload in its
    primary key (SQLite cannot change a key in place); every row is kept as it was."""
    db.execute("ALTER TABLE runs ADD COLUMN workload TEXT NOT NULL DEFAULT ''")
    db.execute(
        "CREATE INDEX runs_by_workload ON runs (suite, scenario, workload, env, fingerprint, "
        "started_at)"
    )
    db.execute(
        """CREATE TABLE baselines_by_workload (
            suite TEXT NOT NULL,
            scenario TEXT NOT NULL,
            workload TEXT NOT NULL DEFAULT '',
            env TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('rolling', 'pinned')),
            run_ids TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (suite, scenario, workload, env)
        )"""
    )
    db.execute(
        "INSERT INTO baselines_by_workload (suite, scenario, workload, env, mode, run_ids, n) "
        "SELECT suite, scenario, '', env, mode, run_ids, n FROM baselines"
    )
    db.execute("DROP TABLE baselines")
    db.execute("ALTER TABLE baselines_by_workload RENAME TO baselines")


MIGRATIONS: Final[tuple[Migration, ...]] = (
    _m1_initial,
    _m2_documents,
    _m3_dropped_late,
    _m4_inconclusive,
    _m5_signal_windows,
    _m6_workloads,
)
LATEST: Final = len(MIGRATIONS)


def version(db: sqlite3.Connection) -> int:
    """The schema version of `db`; 0 for a new, empty file. Read-only, so that opening an
    up-to-date store never waits for the write lock another process may hold for a while."""
    found = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if found is None:
        return 0
    return int(db.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0)


def migrate(db: sqlite3.Connection) -> int:
    """Apply the missing migrations in order; call inside a write transaction (the version is
    read again there: another process may have migrated since a caller's read-only check).

    Refuses a database newer than this code: an old contval writing into a schema it does
    not know could corrupt history that a newer one relies on.
    """
    db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    current = version(db)
    if current > LATEST:
        raise RuntimeError(
            f"history database schema {current} is newer than this contval's ({LATEST}); "
            "upgrade contval"
        )
    for number in range(current + 1, LATEST + 1):
        MIGRATIONS[number - 1](db)
        db.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    return LATEST
