"""The order worker: takes placed orders from the durable queue (the `jobs` table) and fulfils
them, placed → paid → fulfilled, writing a heartbeat as it goes.

A job is claimed with a lease; a worker that dies (SIGKILL included) leaves leases that the next
worker releases at start, so queued orders are still fulfilled. Every step is a conditional
update, so processing an order twice never double-charges or double-ships it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from dataclasses import dataclass

from contoso_shoes import db, store
from contoso_shoes.config import PaymentsLink
from contoso_shoes.payments_client import Outcome, PaymentsClient

LEASE = 30.0
HEARTBEAT_EVERY = 0.5


@dataclass(frozen=True)
class WorkerSettings:
    db_path: str
    payments: PaymentsLink
    fulfil_time: float = 0.02  # time to pick and ship an order
    concurrency: int = 16
    poll_every: float = 0.05
    max_backoff: float = 5.0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def release_dead_leases(conn: sqlite3.Connection) -> int:
    """Free jobs leased by workers that no longer exist (a crash mid-order)."""
    holders = [
        r[0]
        for r in conn.execute("SELECT DISTINCT locked_by FROM jobs WHERE locked_by IS NOT NULL")
    ]
    dead = [pid for pid in holders if pid != os.getpid() and not _pid_alive(pid)]
    released = 0
    for pid in dead:
        cur = conn.execute(
            "UPDATE jobs SET locked_by = NULL, locked_until = 0 WHERE locked_by = ?", (pid,)
        )
        released += cur.rowcount
    return released


def claim(conn: sqlite3.Connection, limit: int) -> list[str]:
    now = time.time()
    rows = conn.execute(
        "UPDATE jobs SET locked_by = ?, locked_until = ? WHERE order_id IN ("
        " SELECT order_id FROM jobs WHERE available_at <= ? AND locked_until <= ?"
        " ORDER BY available_at LIMIT ?) RETURNING order_id",
        (os.getpid(), now + LEASE, now, now, limit),
    ).fetchall()
    return [r[0] for r in rows]


class Worker:
    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self.conn = db.connect(settings.db_path)
        self.payments = PaymentsClient(settings.payments)
        self.processed = 0
        self.in_flight: set[str] = set()
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    def beat(self) -> None:
        self.conn.execute(
            "INSERT INTO heartbeats (name, pid, at, processed) VALUES ('worker', ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, at = excluded.at, "
            "processed = excluded.processed",
            (os.getpid(), time.time(), self.processed),
        )

    async def run(self) -> None:
        release_dead_leases(self.conn)
        self.beat()
        tasks: set[asyncio.Task[None]] = set()
        last_beat = time.monotonic()
        while not self._stop.is_set():
            free = self.settings.concurrency - len(tasks)
            for order_id in claim(self.conn, free) if free > 0 else []:
                task = asyncio.create_task(self.process(order_id))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if time.monotonic() - last_beat >= HEARTBEAT_EVERY:
                self.beat()
                last_beat = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.poll_every)
        if tasks:
            await asyncio.wait(tasks, timeout=5.0)
        await self.payments.http.close()

    async def process(self, order_id: str) -> None:
        try:
            done = await self._advance(order_id)
        except Exception as exc:  # a bug or a DB hiccup: retry later, never drop the order
            self._retry(order_id, f"{type(exc).__name__}: {exc}")
            return
        if done:
            self.conn.execute("DELETE FROM jobs WHERE order_id = ?", (order_id,))
            self.processed += 1

    async def _advance(self, order_id: str) -> bool:
        """Move the order as far as it can go; True when it needs no more work."""
        order = store.get_order(self.conn, order_id)
        if order["status"] in ("fulfilled", "cancelled"):
            return True
        if order["payment"] == "pending":
            result = await self.payments.authorize(order_id, order["total_cents"], order["email"])
            if result.outcome is Outcome.DECLINED:
                store.cancel_order(self.conn, order_id, "declined")
                return True
            if result.outcome is Outcome.UNAVAILABLE or not result.authorization_id:
                self._retry(order_id, result.detail)
                return False
            store.set_authorized(self.conn, order_id, result.authorization_id)
            order = store.get_order(self.conn, order_id)
        if order["status"] == "placed":
            auth = self.conn.execute(
                "SELECT authorization_id FROM orders WHERE id = ?", (order_id,)
            ).fetchone()[0]
            result = await self.payments.capture(order_id, auth)
            if result.outcome is not Outcome.APPROVED:
                self._retry(order_id, result.detail)
                return False
            now = time.time()
            self.conn.execute(
                "UPDATE orders SET status = 'paid', payment = 'captured', paid_at = ?, "
                "updated_at = ? WHERE id = ? AND status = 'placed'",
                (now, now, order_id),
            )
        await asyncio.sleep(self.settings.fulfil_time)
        now = time.time()
        self.conn.execute(
            "UPDATE orders SET status = 'fulfilled', fulfilled_at = ?, updated_at = ? "
            "WHERE id = ? AND status = 'paid'",
            (now, now, order_id),
        )
        return True

    def _retry(self, order_id: str, error: str) -> None:
        (attempts,) = self.conn.execute(
            "SELECT attempts FROM jobs WHERE order_id = ?", (order_id,)
        ).fetchone() or (0,)
        backoff = min(self.settings.max_backoff, 0.25 * 2**attempts)
        self.conn.execute(
            "UPDATE jobs SET attempts = attempts + 1, available_at = ?, locked_by = NULL, "
            "locked_until = 0, last_error = ? WHERE order_id = ?",
            (time.time() + backoff, error[:500], order_id),
        )
