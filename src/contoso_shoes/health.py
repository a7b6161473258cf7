"""The health model: each component is healthy, degraded or unhealthy; overall is the worst.

Limits (documented in the README):
- database: a trivial query within 50 ms healthy, within 500 ms degraded, else unhealthy.
- payments: breaker closed and health probe within 200 ms healthy; breaker half-open or probe
  slower degraded; breaker open or probe failed unhealthy.
- worker: heartbeat at most 2 s old healthy, at most 10 s degraded, older or none unhealthy.
- queue: oldest waiting order at most 5 s old healthy, at most 30 s degraded, else unhealthy.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from contoso_shoes import store
from contoso_shoes.breaker import BreakerState

HEALTHY, DEGRADED, UNHEALTHY = "healthy", "degraded", "unhealthy"
_RANK = {HEALTHY: 0, DEGRADED: 1, UNHEALTHY: 2}


def grade(value: float, healthy_max: float, degraded_max: float) -> str:
    if value <= healthy_max:
        return HEALTHY
    return DEGRADED if value <= degraded_max else UNHEALTHY


def worst(states: list[str]) -> str:
    return max(states, key=_RANK.__getitem__, default=HEALTHY)


def database(conn: sqlite3.Connection) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        conn.execute("SELECT COUNT(*) FROM products").fetchone()
    except sqlite3.Error as exc:
        return {"status": UNHEALTHY, "error": str(exc)}
    elapsed = time.perf_counter() - start
    return {"status": grade(elapsed, 0.05, 0.5), "latency_ms": round(elapsed * 1000, 3)}


def payments(breaker: BreakerState, probe_seconds: float | None) -> dict[str, Any]:
    info: dict[str, Any] = {"breaker": breaker.value}
    if probe_seconds is None:
        info["status"] = UNHEALTHY
        info["probe"] = "failed"
        return info
    info["probe_ms"] = round(probe_seconds * 1000, 3)
    if breaker is BreakerState.OPEN:
        info["status"] = UNHEALTHY
    elif breaker is BreakerState.HALF_OPEN:
        info["status"] = DEGRADED
    else:
        info["status"] = grade(probe_seconds, 0.2, float("inf"))
    return info


def worker(conn: sqlite3.Connection) -> dict[str, Any]:
    beat = store.heartbeat(conn, "worker")
    if beat is None:
        return {"status": UNHEALTHY, "heartbeat": "never"}
    pid, age, processed = beat
    return {
        "status": grade(age, 2.0, 10.0),
        "heartbeat_age_s": round(age, 3),
        "pid": pid,
        "processed": processed,
    }


def queue(conn: sqlite3.Connection) -> dict[str, Any]:
    depth, oldest = store.queue_stats(conn)
    return {"status": grade(oldest, 5.0, 30.0), "depth": depth, "oldest_age_s": round(oldest, 3)}


def report(components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    overall = worst([c["status"] for c in components.values()])
    return {"status": overall, "components": components}
