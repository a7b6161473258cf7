"""The history store: every scenario run with its windows, and the baselines chosen from them.

SQLite, one file (default `.contval/history.db`, or `CONTVAL_STORE`, or an explicit path), so
history needs no server and travels with a CI cache. A run is written in one transaction with
all its windows: readers see a whole run or none of it, even when the writer is killed.
Runs are keyed by suite, scenario, environment and, for a workload of a scenario that runs
several side by side (`alongside`), that workload's name: each workload has a baseline of its
own, the scenario as a whole another (`workload` None). Which runs are *alike* is the
fingerprint's job (`contval.baseline.fingerprint`); whether the
current run is worse than them is the statistics' (`contval.baseline.compare`).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from contval.baseline import schema
from contval.baseline.records import (
    Baseline,
    BaselineMode,
    RunMeta,
    SignalWindow,
    WindowRecord,
)
from contval.baseline.rows import (
    RUN_COLUMNS,
    SIGNAL_COLUMNS,
    WHOLE,
    WINDOW_COLUMNS,
    run_of,
    run_row,
    signal_row,
    signal_window_of,
    window_of,
    window_row,
    workload_column,
)
from contval.baseline.sqlite import (
    StoreError,
    StoreUnusable,
    cannot_open,
    connect,
    retrying,
    write,
)

DEFAULT_PATH: Final = Path(".contval") / "history.db"
ENV_VAR: Final = "CONTVAL_STORE"
DEFAULT_N: Final = 10
PASSING: Final = "pass"
EXPORT_SCHEMA: Final = "contval/baseline/v1"


class UnknownRun(StoreError, KeyError):
    """A run id the store does not hold."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown run"


def default_path() -> Path:
    """`CONTVAL_STORE` when set, else `.contval/history.db` under the working directory."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


class HistoryStore:
    """A handle on one history database; one per thread (sqlite3 connections are not shared)."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        busy_timeout_ms: int = 5_000,
        retry_for_s: float = 120.0,
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._retry_for_s = retry_for_s
        try:
            self._db = connect(self.path, busy_timeout_ms, retry_for_s)
        except (OSError, sqlite3.Error, StoreUnusable) as exc:
            raise cannot_open(self.path, exc) from exc
        try:
            self.schema_version = self._schema()
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- runs -----------------------------------------------------------------------------

    def record_run(
        self,
        meta: RunMeta,
        windows: Sequence[WindowRecord],
        signal_windows: Sequence[SignalWindow] = (),
    ) -> str:
        """Store a run and all its windows (and its signals' windows) atomically; returns its
        id (`meta.id` if set).

        `windows` is read inside the transaction, so a writer dying while it streams them in
        leaves nothing behind.
        """
        return write(
            self._db,
            lambda db: _insert_run(db, meta, windows, signal_windows),
            self._retry_for_s,
        )

    def record_runs(
        self, runs: Sequence[tuple[RunMeta, Sequence[WindowRecord], Sequence[SignalWindow]]]
    ) -> list[str]:
        """Store several runs in one transaction (a scenario's run and its workloads' own):
        every one of them is in the history, or none is."""
        return write(
            self._db,
            lambda db: [_insert_run(db, meta, w, sw) for meta, w, sw in runs],
            self._retry_for_s,
        )

    def runs(
        self,
        suite: str | None = None,
        scenario: str | None = None,
        env: str | None = None,
        fingerprint: str | None = None,
        limit: int | None = None,
        workload: str | None = None,
        every_workload: bool = False,
    ) -> list[RunMeta]:
        """Runs matching every filter given, newest first (by start, then by recording): those
        of the scenario as a whole (`workload` None), or of one workload run alongside, or
        (`every_workload`) both kinds."""
        where, args = _filters(
            suite=suite,
            scenario=scenario,
            env=env,
            fingerprint=fingerprint,
            workload=None if every_workload else workload_column(workload),
        )
        sql = f"SELECT {RUN_COLUMNS} FROM runs {where} ORDER BY started_at DESC, seq DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [run_of(row) for row in self._read(sql, args)]

    def run(self, run_id: str) -> RunMeta:
        rows = self._read(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", [run_id])
        if not rows:
            raise UnknownRun(f"no run {run_id} in {self.path}")
        return run_of(rows[0])

    def windows(
        self, run_id: str, flow: str | None = None, step: str | None = None
    ) -> list[WindowRecord]:
        """A run's windows in time order, then (flow, step); `step=""` is the flow level."""
        where, args = _filters(run_id=run_id, flow=flow, step=step)
        sql = f"SELECT {WINDOW_COLUMNS} FROM windows {where} ORDER BY t0, flow, step"
        return [window_of(row) for row in self._read(sql, args)]

    def signal_windows(self, run_id: str, signal: str | None = None) -> list[SignalWindow]:
        """A run's server-side signal windows in time order, then by signal; none for a run
        recorded before signals were kept (schema 5)."""
        where, args = _filters(run_id=run_id, signal=signal)
        sql = f"SELECT {SIGNAL_COLUMNS} FROM signal_windows {where} ORDER BY t0, signal"
        return [signal_window_of(row) for row in self._read(sql, args)]

    def accept(self, run_id: str, accepted: bool = True) -> None:
        """Let a passing run into rolling baselines, or keep an unrepresentative one out."""
        self._update("UPDATE runs SET accepted = ? WHERE id = ?", (int(accepted), run_id))

    # -- baselines ------------------------------------------------------------------------

    def rolling_baseline(
        self,
        suite: str,
        scenario: str,
        env: str,
        fingerprint: str,
        n: int = DEFAULT_N,
        before: str | None = None,
        workload: str | None = None,
    ) -> list[RunMeta]:
        """The last `n` complete, passing, accepted runs alike the current one, newest first
        (of the scenario as a whole, or of one of its workloads: `workload`).

        `before` is the current run's id: only runs that started before it count (re-judging
        an old run must not use its future), and never the run itself.
        """
        where, args = _filters(
            suite=suite,
            scenario=scenario,
            env=env,
            fingerprint=fingerprint,
            workload=workload_column(workload),
        )
        where += " AND verdict = ? AND complete = 1 AND accepted = 1"
        args.append(PASSING)
        if before is not None:
            current = self.run(before)
            where += " AND (started_at < ? OR (started_at = ? AND seq < ?)) AND id != ?"
            args += [current.started_at, current.started_at, self._seq(before), before]
        sql = f"SELECT {RUN_COLUMNS} FROM runs {where} ORDER BY started_at DESC, seq DESC LIMIT ?"
        return [run_of(row) for row in self._read(sql, [*args, n])]

    def pin(
        self,
        suite: str,
        scenario: str,
        env: str,
        run_ids: Iterable[str],
        workload: str | None = None,
    ) -> None:
        """Make these runs the baseline of the scenario (or of its `workload`) in `env` until
        `unpin`."""
        ids = list(dict.fromkeys(run_ids))
        if not ids:
            raise StoreError("pin needs at least one run")
        scope = (suite, scenario, workload_column(workload), env)

        def body(db: sqlite3.Connection) -> None:
            for run_id in ids:
                row = db.execute(
                    "SELECT suite, scenario, workload, env FROM runs WHERE id = ?", (run_id,)
                ).fetchone()
                if row is None:
                    raise UnknownRun(f"no run {run_id} in {self.path}")
                if tuple(row) != scope:
                    raise StoreError(
                        f"run {run_id} is {_scope_text(row)}, not {_scope_text(scope)}"
                    )
            _set_baseline(db, scope, "pinned", ids)

        write(self._db, body, self._retry_for_s)

    def unpin(self, suite: str, scenario: str, env: str, workload: str | None = None) -> None:
        """Back to a rolling baseline; the runs stay in the history."""
        scope = (suite, scenario, workload_column(workload), env)
        write(self._db, lambda db: _set_baseline(db, scope, "rolling", []), self._retry_for_s)

    def baseline(
        self,
        suite: str,
        scenario: str,
        env: str,
        fingerprint: str,
        before: str | None = None,
        workload: str | None = None,
    ) -> Baseline:
        """The pinned runs when the scenario (or its `workload`) is pinned in `env`, else the
        rolling baseline."""
        rows = self._read(
            "SELECT mode, run_ids, n FROM baselines WHERE suite = ? AND scenario = ? "
            "AND workload = ? AND env = ?",
            [suite, scenario, workload_column(workload), env],
        )
        mode, ids, n = (rows[0][0], json.loads(rows[0][1]), rows[0][2]) if rows else ("", [], 0)
        if mode != "pinned":
            runs = self.rolling_baseline(
                suite, scenario, env, fingerprint, n or DEFAULT_N, before, workload
            )
            return Baseline("rolling", tuple(runs))
        pinned = [self.run(run_id) for run_id in ids if run_id != before]
        alike = tuple(r for r in pinned if r.fingerprint == fingerprint)
        mismatched = tuple(r.id for r in pinned if r.fingerprint != fingerprint and r.id)
        return Baseline("pinned", alike, mismatched)

    def export_baseline(
        self, suite: str, scenario: str, env: str, fingerprint: str, workload: str | None = None
    ) -> dict[str, Any]:
        """The current baseline of the scenario (or of its `workload`) as a JSON document (meta
        and windows of each run), to keep in git and `import_baseline` elsewhere, e.g. on a
        fresh CI runner."""
        chosen = self.baseline(suite, scenario, env, fingerprint, workload=workload)
        return {
            "schema": EXPORT_SCHEMA,
            "suite": suite,
            "scenario": scenario,
            "workload": workload,
            "env": env,
            "fingerprint": fingerprint,
            "mode": chosen.mode,
            "runs": [
                {
                    "meta": run.to_dict(),
                    "windows": [w.to_dict() for w in self.windows(run_id)],
                    "signal_windows": [w.to_dict() for w in self.signal_windows(run_id)],
                }
                for run, run_id in zip(chosen.runs, chosen.run_ids, strict=True)
            ],
        }

    def import_baseline(self, doc: Mapping[str, Any], pin: bool = True) -> list[str]:
        """Add an exported baseline's runs (those already present are kept as they are) and,
        by default, pin them: an imported baseline is one somebody chose on purpose."""
        if doc.get("schema") != EXPORT_SCHEMA:
            raise StoreError(f"not a {EXPORT_SCHEMA} document (schema {doc.get('schema')!r})")
        entries = [
            (
                RunMeta.from_dict(e["meta"]),
                [WindowRecord.from_dict(w) for w in e["windows"]],
                [SignalWindow.from_dict(w) for w in e.get("signal_windows") or ()],
            )
            for e in doc["runs"]
        ]
        workload = doc.get("workload") or None  # absent before schema 6: the scenario's
        scope = (
            str(doc["suite"]),
            str(doc["scenario"]),
            workload_column(workload),
            str(doc["env"]),
        )

        def body(db: sqlite3.Connection) -> list[str]:
            ids = [_merge_run(db, meta, w, scope, sw) for meta, w, sw in entries]
            if pin and ids:
                _set_baseline(db, scope, "pinned", ids)
            return ids

        return write(self._db, body, self._retry_for_s)

    # -- suite-run documents --------------------------------------------------------------

    def save_document(self, doc_id: str, doc: Mapping[str, Any], run_ids: Iterable[str]) -> None:
        """Keep a suite run's `result.json` (replacing an earlier version of it) and which
        scenario runs belong to it, so `contval report` can re-make its reports later."""
        body = zlib.compress(json.dumps(doc).encode(), 6)
        suite, started = str(doc.get("suite", "")), str(doc.get("started_at", ""))
        ids = list(run_ids)

        def write_doc(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO documents (id, suite, started_at, created_at, body) "
                "VALUES (?, ?, ?, ?, ?)",
                (doc_id, suite, started, _now(), body),
            )
            db.executemany(
                "INSERT OR REPLACE INTO document_runs (run_id, document_id) VALUES (?, ?)",
                ((run_id, doc_id) for run_id in ids),
            )

        write(self._db, write_doc, self._retry_for_s)

    def document(self, run_id: str) -> dict[str, Any]:
        """The suite-run document with this id, or the one a scenario run `run_id` is part of."""
        rows = self._read(
            "SELECT body FROM documents WHERE id = ? OR id = "
            "(SELECT document_id FROM document_runs WHERE run_id = ?)",
            [run_id, run_id],
        )
        if not rows:
            raise UnknownRun(f"no suite run or scenario run {run_id} in {self.path}")
        loaded: dict[str, Any] = json.loads(zlib.decompress(rows[0][0]))
        return loaded

    def documents(self, limit: int = 20) -> list[tuple[str, str, str]]:
        """(id, suite, started_at) of the newest stored suite runs."""
        rows = self._read(
            "SELECT id, suite, started_at FROM documents ORDER BY started_at DESC LIMIT ?",
            [limit],
        )
        return [(str(a), str(b), str(c)) for a, b, c in rows]

    # -- plumbing -------------------------------------------------------------------------

    def _schema(self) -> int:
        """Migrate only when behind: the common open takes no write lock at all."""
        current = retrying(lambda: schema.version(self._db), self._retry_for_s)
        if current == schema.LATEST:
            return current
        return write(self._db, schema.migrate, self._retry_for_s)

    def _read(self, sql: str, args: Sequence[Any]) -> list[tuple[Any, ...]]:
        return retrying(lambda: self._db.execute(sql, args).fetchall(), self._retry_for_s)

    def _update(self, sql: str, args: Sequence[Any]) -> None:
        def body(db: sqlite3.Connection) -> None:
            if db.execute(sql, args).rowcount == 0:
                raise UnknownRun(f"no run {args[-1]} in {self.path}")

        write(self._db, body, self._retry_for_s)

    def _seq(self, run_id: str) -> int:
        return int(self._read("SELECT seq FROM runs WHERE id = ?", [run_id])[0][0])

    def _connection(self) -> sqlite3.Connection:
        """For tests and maintenance tools (integrity checks); not for writing runs."""
        return self._db


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _insert_run(
    db: sqlite3.Connection,
    meta: RunMeta,
    windows: Iterable[WindowRecord],
    signal_windows: Iterable[SignalWindow] = (),
) -> str:
    """One run row and its windows; the caller owns the transaction."""
    run_id = meta.id or _free_id(db, meta.started_at)
    if _exists(db, run_id):
        raise StoreError(f"run {run_id} is already in the history")
    seq = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM runs").fetchone()[0]
    stored = replace(meta, id=run_id, created_at=meta.created_at or _now(), pinned=False)
    db.execute(
        f"INSERT INTO runs (seq, {RUN_COLUMNS}) VALUES ({', '.join('?' * 16)})",
        (seq, *run_row(stored)),
    )
    db.executemany(
        f"INSERT INTO windows (run_id, {WINDOW_COLUMNS}) VALUES ({', '.join('?' * 13)})",
        ((run_id, *window_row(w)) for w in windows),
    )
    db.executemany(
        f"INSERT INTO signal_windows (run_id, {SIGNAL_COLUMNS}) VALUES ({', '.join('?' * 8)})",
        ((run_id, *signal_row(w)) for w in signal_windows),
    )
    return run_id


def _merge_run(
    db: sqlite3.Connection,
    meta: RunMeta,
    windows: Sequence[WindowRecord],
    scope: tuple[str, str, str, str],
    signal_windows: Sequence[SignalWindow] = (),
) -> str:
    """Insert an imported run, or accept it as already there when it is the same run."""
    if (meta.suite, meta.scenario, workload_column(meta.workload), meta.env) != scope:
        raise StoreError(f"run {meta.id} is not {_scope_text(scope)}")
    if meta.id is not None and _exists(db, meta.id):
        row = db.execute("SELECT fingerprint FROM runs WHERE id = ?", (meta.id,)).fetchone()
        if row[0] != meta.fingerprint:
            raise StoreError(f"run {meta.id} is already in the history as a different run")
        return meta.id
    return _insert_run(db, meta, windows, signal_windows)


def _free_id(db: sqlite3.Connection, started_at: str) -> str:
    """`r-YYYYMMDD-HHMM-xxxx` from the run's start (UTC): short, sortable by eye, unique."""
    try:
        start = datetime.fromisoformat(started_at).astimezone(UTC)
    except ValueError:
        start = datetime.now(UTC)
    stem = start.strftime("r-%Y%m%d-%H%M-")
    while True:
        candidate = stem + secrets.token_hex(2)
        if not _exists(db, candidate):
            return candidate


def _exists(db: sqlite3.Connection, run_id: str) -> bool:
    return db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None


def _filters(**values: str | None) -> tuple[str, list[Any]]:
    given = {k: v for k, v in values.items() if v is not None}
    clause = " AND ".join(f"{column} = ?" for column in given) or "1"
    return f"WHERE {clause}", list(given.values())


def _scope_text(scope: Sequence[str]) -> str:
    """`suite/scenario/env`, or `suite/scenario/workload/env` for a workload's runs."""
    suite, scenario, workload, env = scope
    return "/".join(p for p in (suite, scenario, workload, env) if p != WHOLE)


def _set_baseline(
    db: sqlite3.Connection, scope: tuple[str, str, str, str], mode: BaselineMode, ids: list[str]
) -> None:
    """`scope`: (suite, scenario, workload column, env)."""
    db.execute(
        "UPDATE runs SET pinned = 0 WHERE suite = ? AND scenario = ? AND workload = ? AND env = ?",
        scope,
    )
    db.executemany("UPDATE runs SET pinned = 1 WHERE id = ?", [(i,) for i in ids])
    db.execute(
        "INSERT INTO baselines (suite, scenario, workload, env, mode, run_ids, n)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (suite, scenario, workload, env) DO UPDATE SET mode = excluded.mode,"
        " run_ids = excluded.run_ids",
        (*scope, mode, json.dumps(ids), DEFAULT_N),
    )
