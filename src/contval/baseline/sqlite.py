"""SQLite connections that behave under concurrent writers and survive killed ones.

WAL lets readers go on while one process writes; `BEGIN IMMEDIATE` takes the write lock
before any work, so a transaction never has to be abandoned half-way for a lock; and
`busy_timeout` waits for the lock inside SQLite. Beyond that timeout a second, longer retry
with jittered backoff wraps the whole transaction, so a long import in one process shows up
as a slow write in another, never as `database is locked`. A killed writer's uncommitted
frames are never part of the database: the next connection rolls them back.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from contval.paths import file_in_the_way

T = TypeVar("T")
_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_FIRST_DELAY_S = 0.005
_MAX_DELAY_S = 0.5


class StoreError(Exception):
    """Something the history store cannot do; the message says what and why."""


class StoreBusy(StoreError):
    """Another process held the database for longer than this one was willing to wait."""


class StoreUnusable(StoreError):
    """The file cannot serve as a history database: a directory, not SQLite, damaged, or in a
    place this process cannot create or write (a full disk, a read-only file system)."""


_WHERE = "give --store (or CONTVAL_STORE) "


def cannot_open(path: Path, exc: BaseException) -> StoreUnusable:
    """What opening `path` met, as one line that names the file and the fix."""
    if path.is_dir():
        return StoreUnusable(
            f"{path} is a directory, not a history database: {_WHERE}a file path such as "
            f"{path / 'history.db'}"
        )
    if isinstance(exc, StoreUnusable) and exc.__cause__ is not None:
        exc = exc.__cause__  # sqlite's own words, without the generic prefix
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    blocking = file_in_the_way(path.parent)
    if blocking is not None or isinstance(exc, OSError):
        if blocking is not None:
            reason = f"{blocking} is a file, not a directory"
        return StoreUnusable(
            f"cannot create {path}: {reason}; {_WHERE}a path in a directory you can write"
        )
    if "not a database" in reason or "malformed" in reason:
        return StoreUnusable(
            f"{path} is not a contval history database ({reason}): move it aside, or "
            f"{_WHERE}another file"
        )
    return StoreUnusable(f"cannot open {path}: {reason}; {_WHERE}a file you can write")


def connect(path: Path, busy_timeout_ms: int, retry_for_s: float) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, foreign keys on.

    synchronous=FULL: a committed run survives power loss too, and one fsync per run is
    cheap next to the run itself. Setting it reads the file, so it can meet another
    process's lock (a checkpoint, an exclusive writer) like any statement: it is retried
    like one, and opening a store never fails with a bare `database is locked`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
    try:
        db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")

        def settings() -> None:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA synchronous = FULL")

        retrying(settings, retry_for_s)
        enable_wal(db, retry_for_s)
    except BaseException:
        db.close()
        raise
    return db


def is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    text = str(exc)
    return "locked" in text or "busy" in text


def retrying(action: Callable[[], T], retry_for_s: float) -> T:
    """Run `action`, again after a jittered, growing pause while SQLite reports busy."""
    deadline = time.monotonic() + retry_for_s
    delay = _FIRST_DELAY_S
    while True:
        try:
            return action()
        except sqlite3.OperationalError as exc:
            if not is_busy(exc):
                raise StoreUnusable(f"the history database failed: {exc}") from exc
            if time.monotonic() + delay > deadline:
                raise StoreBusy(f"history database busy for over {retry_for_s:g}s: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:  # integrity, programming: our own bugs
                raise
            raise StoreUnusable(f"the history database failed: {exc}") from exc  # not SQLite
        time.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 2, _MAX_DELAY_S)


def write(db: sqlite3.Connection, body: Callable[[sqlite3.Connection], T], retry_for_s: float) -> T:
    """Run `body` in one write transaction: all of it is committed, or none of it."""

    def attempt() -> T:
        db.execute("BEGIN IMMEDIATE")
        try:
            result = body(db)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return result

    return retrying(attempt, retry_for_s)


def enable_wal(db: sqlite3.Connection, retry_for_s: float) -> None:
    """Switch to WAL (persistent in the file); needs the lock briefly, hence the retry."""

    def attempt() -> None:
        if str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"could not switch the history database to WAL (got {mode})")

    retrying(attempt, retry_for_s)
