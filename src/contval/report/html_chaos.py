"""A chaos scenario's faults (planned, done, verified, reverted) and its phases: the flows
before, during and after each fault, and how long they took to recover."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from contval.report.html_fmt import (
    DASH,
    badge,
    esc,
    fmt_int,
    fmt_ms,
    fmt_num,
    fmt_rate,
    fmt_seconds,
    fmt_window,
    number,
    table,
    yes_no,
)

PHASES: Final = ("before", "during", "after")
RECOVERY_HEADERS: Final = ("scope", "recovery", "time", "window", "pre-fault band", "detail")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _planned(f: Mapping[str, Any]) -> str:
    at, length = number(f.get("at_s")), number(f.get("for_s"))
    if at is None:
        return DASH
    return f"at {fmt_num(at)} s" + (f" for {fmt_seconds(length)}" if length is not None else "")


def _done(f: Mapping[str, Any]) -> str:
    start, end = number(f.get("injected_at_s")), number(f.get("reverted_at_s"))
    if start is None:
        return "not injected"
    return f"{fmt_seconds(start)} → " + (fmt_seconds(end) if end is not None else "?")


def _with_detail(status: str, detail: Any) -> str:
    return status + (f' <span class="muted">{esc(detail)}</span>' if detail else "")


def _fault_row(f: Mapping[str, Any]) -> list[str]:
    skipped = f.get("skipped") is True
    notes = [esc(f["error"])] if f.get("error") else []
    if f.get("detail"):
        notes.append(f'<span class="muted">{esc(f["detail"])}</span>')
    return [
        f"<b>{esc(f.get('name') or DASH)}</b>",
        esc(f.get("type") or DASH),
        esc(f.get("target") or DASH),
        esc(_planned(f)),
        esc(_done(f)),
        badge("no_data", "skipped") if skipped else badge("pass", "ran"),
        _with_detail(yes_no(None if skipped else f.get("verified")), f.get("verify_detail")),
        yes_no(None if skipped else f.get("reverted")),
        "<br>".join(notes),
    ]


def faults_html(faults: Any) -> str:
    rows = [_fault_row(f) for f in faults or [] if isinstance(f, Mapping)]
    if not rows:
        return '<p class="muted">No faults recorded.</p>'
    headers = ["fault", "type", "target", "planned", "done (injected → reverted)", "ran"]
    headers += ["verified", "reverted", "detail / error"]
    return table(headers, rows, "faults")


def _stats_cells(stats: Any) -> list[str]:
    s = _mapping(stats)
    cells = [fmt_int(s.get("requests")), fmt_int(s.get("errors")), fmt_rate(s.get("error_rate"))]
    cells.append(fmt_rate(s.get("availability")))
    cells += [fmt_ms(s.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms")]
    return [esc(c) for c in cells]


def _phase_rows(phases: Mapping[str, Any]) -> list[list[str]]:
    scopes: list[str] = []
    for p in PHASES:
        for name in _mapping(_mapping(phases.get(p)).get("flows")):
            if name not in scopes:
                scopes.append(name)
    rows = []
    for label, key in [("all flows", None), *((s, s) for s in scopes)]:
        for p in PHASES:
            phase = _mapping(phases.get(p))
            stats = phase.get("total") if key is None else _mapping(phase.get("flows")).get(key)
            scope = f"<b>{esc(label)}</b>" if p == "before" else ""
            rows.append([scope, esc(p), esc(fmt_window(phase.get("window"))), *_stats_cells(stats)])
    return rows


def _band(band: Any) -> str:
    b = _mapping(band)
    if not b:
        return DASH
    if "low" in b:  # a server-side signal's band: its own unit, two-sided
        return f"{fmt_num(b.get('low'))} .. {fmt_num(b.get('high'))}"
    errors, p95 = fmt_rate(b.get("max_error_rate")), fmt_ms(b.get("max_p95_ms"))
    return f"errors ≤ {errors}, p95 ≤ {p95}"


def _recovery_rows(recovery: Mapping[str, Any]) -> list[list[str]]:
    scopes = [("all flows", recovery.get("total"))]
    scopes += list(_mapping(recovery.get("flows")).items())
    scopes += [(f"signal({n})", r) for n, r in _mapping(recovery.get("signals")).items()]
    rows = []
    for name, r in scopes:
        if not isinstance(r, Mapping):
            continue
        status = str(r.get("status") or "no_data")
        state = {"recovered": "pass", "not_recovered": "fail"}.get(status, "no_data")
        seconds = fmt_seconds(r.get("seconds"))
        if status == "not_recovered" and number(r.get("seconds")) is not None:
            seconds = f"> {seconds}"
        rows.append(
            [
                f"<b>{esc(name)}</b>",
                badge(state, status.replace("_", " ")),
                esc(seconds),
                esc(fmt_window(r.get("window"))),
                esc(_band(r.get("band"))),
                esc(r.get("detail") or ""),
            ]
        )
    return rows


def phases_html(phases: Any) -> str:
    if not isinstance(phases, Mapping) or not phases:
        return '<p class="muted">No phases recorded.</p>'
    parts = []
    for fault, entry in phases.items():
        e = _mapping(entry)
        parts.append(
            f'<h4>{esc(fault)} <span class="muted">{esc(fmt_window(e.get("window")))}</span></h4>'
        )
        headers = ["scope", "phase", "seconds", "requests", "errors", "error rate"]
        headers += ["availability", "p50", "p95", "p99"]
        parts.append(table(headers, _phase_rows(e), "phases num"))
        recovery = _recovery_rows(_mapping(e.get("recovery")))
        if recovery:
            parts.append(table(RECOVERY_HEADERS, recovery, "recovery"))
    return "".join(parts)


def chaos_section(scenario: Mapping[str, Any]) -> str:
    return (
        "<h3>Faults: verification and rollback</h3>"
        + faults_html(scenario.get("faults"))
        + "<h3>Phases and recovery</h3>"
        + phases_html(scenario.get("phases"))
    )
