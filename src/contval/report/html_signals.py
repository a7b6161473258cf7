"""report.html's server-side signals: one small chart per signal (its value per second of the
load, gaps where it had no data, each fault's window shaded, the limits of the thresholds that
judge it as dashed lines) and the signals table. Inline SVG drawn here, so the charts need no
script and no network (report.html works offline). Reads result.json only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from contval.report.html_data import faults
from contval.report.html_fmt import esc, number, table
from contval.report.signals import signal_of, signal_rows

WIDTH: Final = 640
HEIGHT: Final = 150
PAD_LEFT: Final = 56
PAD: Final = 8
PAD_BOTTOM: Final = 22


def _limits(scenario: Mapping[str, Any], name: str) -> list[tuple[float, bool]]:
    """(limit, failed) of the plain `signal(NAME) ...` thresholds on this signal (those with a
    number to draw: not recovery times, not a missing baseline)."""
    out = []
    for t in scenario.get("thresholds") or []:
        if not isinstance(t, Mapping) or signal_of(t) != name:
            continue
        if "recovery_time" in str(t.get("expression", "")):
            continue
        limit = number(t.get("limit"))
        if limit is not None:
            out.append((limit, t.get("verdict") == "fail"))
    return out


def _segments(values: Sequence[Any]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive seconds with data: a gap is drawn as a gap, never as a line."""
    runs: list[list[tuple[int, float]]] = [[]]
    for second, value in enumerate(values):
        v = number(value)
        if v is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((second, v))
    return [run for run in runs if run]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def signal_chart(scenario: Mapping[str, Any], name: str, entry: Mapping[str, Any]) -> str:
    """One signal's chart as an inline SVG (a note when it has no value at all)."""
    values = list(entry.get("series") or [])
    segments = _segments(values)
    if not segments:
        return f'<p class="muted">{esc(name)}: no data in any second.</p>'
    limits = _limits(scenario, name)
    seen = [v for run in segments for _, v in run] + [limit for limit, _ in limits]
    low, high = min(0.0, *seen), max(seen)
    if high <= low:
        high = low + 1.0
    seconds = max(len(values), 1)
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD, HEIGHT - PAD - PAD_BOTTOM

    def x(second: float) -> float:
        return PAD_LEFT + inner_w * second / seconds

    def y(value: float) -> float:
        return PAD + inner_h * (1 - (value - low) / (high - low))

    parts = [
        f'<svg class="signal" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{esc(name)} per second">'
    ]
    for fault in faults(scenario):
        t0, t1 = number(fault["t0"]) or 0.0, number(fault["t1"]) or 0.0
        parts.append(
            f'<rect class="fault" x="{x(t0):.1f}" y="{PAD}" width="{max(x(t1) - x(t0), 1):.1f}" '
            f'height="{inner_h}"><title>{esc(fault["name"])}: {t0:g}–{t1:g} s</title></rect>'
            f'<text class="fault-name" x="{x(t0) + 2:.1f}" y="{PAD + 10}">'
            f"{esc(fault['name'])}</text>"
        )
    for limit, failed in limits:
        cls = "limit failed" if failed else "limit"
        parts.append(
            f'<line class="{cls}" x1="{PAD_LEFT}" x2="{WIDTH - PAD}" '
            f'y1="{y(limit):.1f}" y2="{y(limit):.1f}"><title>limit {_fmt(limit)}</title></line>'
        )
    for run in segments:
        # a second's value is drawn at its middle, so a one-second run is still a dot
        points = " ".join(f"{x(s + 0.5):.1f},{y(v):.1f}" for s, v in run)
        parts.append(f'<polyline class="series" points="{points}"/>')
        if len(run) == 1:
            s, v = run[0]
            parts.append(f'<circle class="series" cx="{x(s + 0.5):.1f}" cy="{y(v):.1f}" r="2"/>')
    unit = esc(entry.get("unit") or "")
    parts.append(
        f'<text class="axis" x="{PAD_LEFT - 4}" y="{PAD + 8}" text-anchor="end">'
        f"{esc(_fmt(high))} {unit}</text>"
        f'<text class="axis" x="{PAD_LEFT - 4}" y="{PAD + inner_h}" text-anchor="end">'
        f"{esc(_fmt(low))}</text>"
        f'<text class="axis" x="{PAD_LEFT}" y="{HEIGHT - 6}">0 s</text>'
        f'<text class="axis" x="{WIDTH - PAD}" y="{HEIGHT - 6}" text-anchor="end">'
        f"{seconds} s</text></svg>"
    )
    return "".join(parts)


def signals_html(scenario: Mapping[str, Any]) -> str:
    """The signals section of a scenario: a table, then a chart per signal ("" without any)."""
    signals = scenario.get("signals")
    if not isinstance(signals, Mapping) or not signals:
        return ""
    rows = [[esc(cell) for cell in row] for row in signal_rows(scenario)]
    headers = ("signal", "metric (source, kind)", "range over the load", "no data", "thresholds")
    charts = "".join(
        f'<figure class="signal-chart" data-signal="{esc(name)}">'
        f'<figcaption>{esc(name)} <span class="muted">'
        f"{esc(entry.get('expression', ''))}</span></figcaption>"
        f"{signal_chart(scenario, name, entry)}</figure>"
        for name, entry in signals.items()
        if isinstance(entry, Mapping)
    )
    legend = (
        '<p class="legend-static">one value per second of the load; shaded: a fault in effect; '
        "dashed: a threshold's limit (red when it failed)</p>"
    )
    return "<h3>Server-side signals</h3>" + table(headers, rows, "signals") + legend + charts
