"""The cool-down between a suite's scenarios: a pause that lets the system settle, with the
suite's health probe asked every second, so the report can say whether it did settle.

The pause lasts `pipeline.cooldown`; if the probe is not healthy by then, it is asked for up to
as long again (at least 5 s) before the next scenario starts anyway, marked `settled: false`.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from contval.spec.models import HealthProbe, Suite

PROBE_TIMEOUT_S: Final = 2.0
POLL_S: Final = 1.0
MIN_SETTLE_S: Final = 5.0


@dataclass(frozen=True)
class Clock:
    """Time as the cool-down sees it: real by default, a fake one in tests."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def probe_url(suite: Suite, probe: HealthProbe) -> str:
    return suite.targets[probe.target].rstrip("/") + probe.path


def ask(url: str, timeout: float = PROBE_TIMEOUT_S) -> tuple[int | None, str]:
    """GET `url` once: (status, text for people); status None when nothing answered."""
    parts = urlsplit(url)
    conn_type = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    conn = conn_type(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = conn.getresponse()
        response.read()
        return response.status, str(response.status)
    except (OSError, http.client.HTTPException) as exc:
        return None, type(exc).__name__ if not str(exc) else str(exc)
    finally:
        conn.close()


def cool_down(
    suite: Suite,
    stopped: Callable[[], bool],
    clock: Clock | None = None,
    asker: Callable[[str], tuple[int | None, str]] = ask,
) -> dict[str, Any]:
    """Pause between scenarios; the `cooldown` entry of the next scenario (docs/result.md)."""
    clock = clock or Clock()
    seconds = suite.pipeline.cooldown
    probe = suite.pipeline.health
    start = clock.now()
    end = start + seconds
    if probe is None:
        while not stopped() and clock.now() < end:
            clock.sleep(min(POLL_S, end - clock.now()))
        return {
            "seconds": round(clock.now() - start, 1),
            "settled": None,
            "probe": None,
            "detail": "no health probe declared (pipeline.health); not checked",
        }
    url = probe_url(suite, probe)
    deadline = end + max(seconds, MIN_SETTLE_S)
    healthy_since: float | None = None
    last = ""
    while not stopped():
        asked_at = clock.now()
        status, last = asker(url)
        if status == probe.status:
            healthy_since = asked_at if healthy_since is None else healthy_since
        else:
            healthy_since = None
        now = clock.now()
        if now >= end and healthy_since is not None:
            break
        if now >= deadline:
            break
        clock.sleep(POLL_S)
    waited = clock.now() - start
    settled = healthy_since is not None
    if healthy_since is not None:
        detail = f"{last} since {healthy_since - start:.1f}s"
    else:
        detail = f"not healthy after {waited:.1f}s: last answer {last or 'none'}"
    return {
        "seconds": round(waited, 1),
        "settled": settled,
        "probe": f"GET {url}",
        "detail": detail,
    }
