"""The timing breakdown table (k6's connect / TLS / waiting / receiving, bytes, connections):
one set of rows from result.json, shown by the console, summary.md and report.html alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from contval.report.steps import steps_of

HEADERS: Final = (
    "flow / step",
    "responses",
    "new",
    "reused",
    "connect p95",
    "TLS p95",
    "waiting",
    "receiving",
    "sent",
    "received",
)
"""new / reused: connections; times in ms: connect and TLS p95 over new connections, waiting
and receiving means per response."""
TITLE: Final = (
    "timing breakdown (ms; new/reused connections; waiting = time to first byte, a mean per "
    "response, as receiving)"
)


def fmt_bytes(value: object) -> str:
    """Bytes in binary units, three significant figures: 512 B, 1.50 KiB, 12.3 MiB."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.3g} {unit}"
        size /= 1024
    return f"{size:.3g} GiB"  # pragma: no cover - the loop always returns


def _ms(value: object) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _p95(latency: object) -> str:
    return _ms(latency.get("p95")) if isinstance(latency, Mapping) else "-"


def timing_rows(scenario: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """One row of `HEADERS` per step that got responses, in the flows table's order."""
    rows: list[tuple[str, ...]] = []
    for where, step in steps_of(scenario):
        timing = step.get("timing")
        if not isinstance(timing, Mapping):
            continue
        connections = timing.get("connections")
        connections = connections if isinstance(connections, Mapping) else {}
        rows.append(
            (
                where,
                str(timing.get("responses", "-")),
                str(connections.get("new", "-")),
                str(connections.get("reused", "-")),
                _p95(timing.get("connect")),
                _p95(timing.get("tls")),
                _ms(timing.get("waiting_ms")),
                _ms(timing.get("receiving_ms")),
                fmt_bytes(timing.get("bytes_sent")),
                fmt_bytes(timing.get("bytes_received")),
            )
        )
    return rows
