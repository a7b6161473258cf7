"""The scenario's comparison with its baseline: the gate's verdict, the runs it used, and per
comparison the shift with its interval drawn against the tolerance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from contval.report.html_fmt import (
    DASH,
    badge,
    esc,
    fmt_ms,
    fmt_num,
    fmt_rate,
    fmt_rps,
    number,
    table,
)

BAR_W: Final = 160
BAR_H: Final = 18
VERDICT_FILL: Final = {
    "pass": "#2e9e5b",
    "regression": "#d23b3b",
    "improvement": "#2f6fd0",
    "inconclusive": "#9a9a9a",
}


def metric_value(metric: Any, value: Any) -> str:
    if number(value) is None:
        return DASH
    if str(metric).startswith("signal("):  # in the signal's own unit
        return f"{number(value):.4g}"
    if metric == "error_rate":
        return fmt_rate(value)
    if metric == "rps":
        return fmt_rps(value)
    return fmt_ms(value)


def shift_value(metric: Any, value: Any) -> str:
    """Relative shifts as %, error-rate shifts as percentage points."""
    x = number(value)
    if x is None:
        return DASH
    if str(metric).startswith("signal("):  # a change in the signal's own unit
        return f"{x:+.4g}"
    if metric == "error_rate":
        return f"{x * 100:+.2f} pp"
    return f"{x * 100:+.1f} %"


def interval_bar(c: Mapping[str, Any]) -> str:
    """A small SVG: zero in the middle, the tolerance as a dashed line with the side beyond it
    shaded (and faintly mirrored on the good side), the interval [low, high] as a bar and the
    shift as a dot."""
    shift, low, high, tol = (number(c.get(k)) for k in ("shift", "low", "high", "tolerance"))
    known = [abs(v) for v in (shift, low, high, tol) if v is not None]
    if shift is None and (low is None or high is None):
        return esc(DASH)
    span = max(known) * 1.15 or 0.01
    half = BAR_W / 2

    def x(v: float) -> str:
        return f"{half + v / span * (half - 3):.1f}"

    metric = c.get("metric")
    title = f"shift {shift_value(metric, shift)}"
    title += f" [{shift_value(metric, low)}, {shift_value(metric, high)}]"
    title += f", tolerance {shift_value(metric, tol)}"
    parts = [f"<title>{esc(title)}</title>", f'<rect class="bg" width="{BAR_W}" height="{BAR_H}"/>']
    if tol:
        start, end = (x(tol), str(BAR_W)) if tol > 0 else ("0", x(tol))
        width = f"{float(end) - float(start):.1f}"
        parts.append(f'<rect class="beyond" x="{start}" width="{width}" height="{BAR_H}"/>')
        parts.append(f'<line class="tol" x1="{x(tol)}" x2="{x(tol)}" y1="0" y2="{BAR_H}"/>')
        parts.append(f'<line class="mirror" x1="{x(-tol)}" x2="{x(-tol)}" y1="0" y2="{BAR_H}"/>')
    parts.append(f'<line class="zero" x1="{half}" x2="{half}" y1="0" y2="{BAR_H}"/>')
    fill = VERDICT_FILL.get(str(c.get("verdict")), "#9a9a9a")
    if low is not None and high is not None:
        a, b = sorted((low, high))
        width = f"{max(float(x(b)) - float(x(a)), 1.0):.1f}"
        y = BAR_H / 2 - 3
        parts.append(f'<rect x="{x(a)}" y="{y}" width="{width}" height="6" fill="{fill}"/>')
    if shift is not None:
        parts.append(f'<circle cx="{x(shift)}" cy="{BAR_H / 2}" r="3.5" fill="{fill}"/>')
    return (
        f'<svg class="ibar" width="{BAR_W}" height="{BAR_H}" viewBox="0 0 {BAR_W} {BAR_H}" '
        f'role="img">{"".join(parts)}</svg>'
    )


def _scope(c: Mapping[str, Any]) -> str:
    scope = esc(c.get("flow") or "(all flows)")
    if c.get("step"):
        scope += f" / {esc(c['step'])}"
    return scope


def _phase(c: Mapping[str, Any]) -> str:
    phase = c.get("phase")
    if not isinstance(phase, Mapping):
        return esc("whole run")
    return esc(f"{phase.get('phase', '?')} {phase.get('fault', '?')}")


def _row(c: Mapping[str, Any]) -> list[str]:
    metric = c.get("metric")
    interval = f"[{shift_value(metric, c.get('low'))}, {shift_value(metric, c.get('high'))}]"
    return [
        badge(c.get("verdict")),
        _scope(c),
        _phase(c),
        esc(metric or DASH),
        esc(metric_value(metric, c.get("current"))),
        esc(metric_value(metric, c.get("baseline"))),
        f'{esc(shift_value(metric, c.get("shift")))} <span class="muted">{esc(interval)}</span>',
        interval_bar(c),
        esc(shift_value(metric, c.get("tolerance"))),
        esc(c.get("detail") or ""),
    ]


def baseline_section(baseline: Any) -> str:
    if not isinstance(baseline, Mapping):
        return '<p class="muted">No baseline comparison (history off or not judged).</p>'
    verdict = baseline.get("verdict")
    label = "no baseline yet" if verdict == "no_baseline" else None
    head = (
        f'<p class="baseline-head">{badge(verdict, label)} '
        f"mode <b>{esc(baseline.get('mode') or DASH)}</b> · {esc(baseline.get('detail') or '')}"
    )
    if baseline.get("run_id"):
        head += f" · this run <code>{esc(baseline['run_id'])}</code>"
    head += "</p>"
    runs = baseline.get("baseline_runs")
    runs = [str(r) for r in runs] if isinstance(runs, list) else []
    used = (
        '<p class="runs">baseline runs used ('
        + esc(fmt_num(len(runs)))
        + "): "
        + (" ".join(f"<code>{esc(r)}</code>" for r in runs) or esc("none"))
        + "</p>"
    )
    comparisons = [c for c in baseline.get("comparisons") or [] if isinstance(c, Mapping)]
    if not comparisons:
        return head + used
    headers = ["verdict", "flow / step", "phase", "metric", "current", "baseline", "shift"]
    headers += ["interval vs tolerance", "tolerance", "detail"]
    return head + used + table(headers, [_row(c) for c in comparisons], "baseline")
