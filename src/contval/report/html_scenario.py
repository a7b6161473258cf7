"""One scenario's section of the HTML report: what ran, the cool-down before it, the health
strip per flow, the chart frames the page's script fills, the thresholds and the flows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from contval.report.console import failures_rows, iteration_p95, row_latency, thresholds_of
from contval.report.html_baseline import baseline_section
from contval.report.html_chaos import chaos_section
from contval.report.html_data import flows as chart_flows
from contval.report.html_fmt import (
    DASH,
    badge,
    esc,
    fmt_int,
    fmt_ms,
    fmt_rate,
    fmt_rps,
    fmt_seconds,
    fmt_unit,
    fmt_window,
    number,
    table,
)
from contval.report.html_signals import signals_html
from contval.report.timing import HEADERS as TIMING_HEADERS
from contval.report.timing import TITLE as TIMING_TITLE
from contval.report.timing import timing_rows
from contval.report.workloads import HEADERS as WORKLOAD_HEADERS
from contval.report.workloads import NOTE as WORKLOAD_NOTE
from contval.report.workloads import label, workloads_of
from contval.report.workloads import rows as workload_rows

HEALTH_STATES: Final = ("healthy", "degraded", "unhealthy", "no_data")
CHARTS: Final = (
    ("latency", "Latency over time (ms)"),
    ("throughput", "Throughput over time (requests/s)"),
    ("errors", "Errors over time (errors/s)"),
)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _facts(pairs: list[tuple[str, str]]) -> str:
    """A definition list; values are HTML the caller escaped."""
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in pairs)
    return f'<dl class="facts">{items}</dl>'


def cooldown_html(cooldown: Any) -> str:
    if not isinstance(cooldown, Mapping):
        return badge("no_data", "none")
    settled = cooldown.get("settled")
    state = ("no_data", "not checked")
    if settled is True or settled is False:
        state = ("pass", "settled") if settled else ("fail", "not settled")
    parts = [badge(*state), esc(f"waited {fmt_seconds(cooldown.get('seconds'))}")]
    for key in ("probe", "detail"):
        if cooldown.get(key):
            parts.append(f'<span class="muted">{esc(cooldown[key])}</span>')
    return " ".join(parts)


def _meta(scenario: Mapping[str, Any]) -> str:
    totals = _mapping(scenario.get("totals"))
    health = _mapping(scenario.get("health"))
    pairs = [
        ("verdict", badge(scenario.get("verdict"))),
        ("health", badge(health.get("worst")) if health else badge("no_data", "not judged")),
        ("duration", esc(fmt_seconds(scenario.get("duration_s")))),
        ("workload", esc(scenario.get("workload") or DASH)),
        ("executor", esc(scenario.get("executor") or DASH)),
        ("started", esc(scenario.get("started_at") or DASH)),
        ("requests", esc(fmt_int(totals.get("requests")))),
        ("errors", esc(f"{fmt_int(totals.get('errors'))} ({fmt_rate(totals.get('error_rate'))})")),
        ("throughput", esc(fmt_rps(totals.get("rps")))),
        ("cool-down before", cooldown_html(scenario.get("cooldown"))),
    ]
    if scenario.get("complete") is False:
        pairs.append(("complete", badge("fail", "incomplete")))
    return _facts(pairs) + _notes(scenario, totals)


def _notes(scenario: Mapping[str, Any], totals: Mapping[str, Any]) -> str:
    notes = []
    if scenario.get("generator_saturated"):
        notes.append("generator saturated: the measurement failed, not the system")
    if scenario.get("stop_reason"):
        notes.append(f"stopped: {scenario['stop_reason']}")
    notes.extend(f"worker failure: {f}" for f in _list(scenario.get("failures")))
    by_class = _mapping(totals.get("errors_by_class"))
    classes = [f"{k} {fmt_int(v)}" for k, v in by_class.items() if number(v)]
    if classes:
        notes.append("errors by class: " + ", ".join(classes))
    for key in ("dropped_iterations", "late_starts", "interrupted_iterations"):
        if number(totals.get(key)):
            notes.append(f"{key.replace('_', ' ')}: {fmt_int(totals[key])}")
    if not notes:
        return ""
    return '<ul class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"


def _state(value: Any) -> str:
    return value if value in HEALTH_STATES else "no_data"


def _cell(window: Any) -> str:
    w = _mapping(window)
    state = _state(w.get("state"))
    title = f"{fmt_window(w.get('t'))}: {state.replace('_', ' ')}"
    if w.get("reason"):
        title += f" — {w['reason']}"
    return f'<span class="cell h-{state}" title="{esc(title)}"></span>'


def _span(window: Any) -> int:
    """A window's length in seconds (1 when unreadable), so a short last window is drawn short."""
    t = _mapping(window).get("t")
    if isinstance(t, list | tuple) and len(t) == 2 and all(isinstance(v, int) for v in t):
        return max(1, int(t[1]) - int(t[0]))
    return 1


def health_html(scenario: Mapping[str, Any]) -> str:
    health = _mapping(scenario.get("health"))
    flows = _mapping(health.get("flows"))
    if not flows:
        return '<p class="muted">No health windows in this document.</p>'
    rows = []
    for name, flow in flows.items():
        windows = _list(_mapping(flow).get("windows"))
        cells = "".join(_cell(w) for w in windows)
        columns = " ".join(f"minmax(1px,{_span(w)}fr)" for w in windows) or "1fr"
        rows.append(
            f'<div class="hrow"><div class="hname" title="{esc(name)}">{esc(name)}</div>'
            f'<div class="hworst">{badge(_state(_mapping(flow).get("worst")))}</div>'
            f'<div class="strip" style="--n:{len(windows)};grid-template-columns:{columns}">'
            f"{cells}</div></div>"
        )
    size = number(health.get("window_s"))
    legend = "".join(
        f'<span><span class="cell h-{s}"></span>{esc(s.replace("_", " "))}</span>'
        for s in HEALTH_STATES
    )
    return (
        f'<div class="health">{"".join(rows)}</div>'
        f'<p class="legend-static">one cell per {esc(fmt_seconds(size))} window '
        f"(hover for the window and the reason): {legend}</p>"
    )


def charts_html(index: int, scenario: Mapping[str, Any]) -> str:
    if not chart_flows(scenario):
        return '<p class="muted">No per-second series in this document: no charts.</p>'
    figures = "".join(
        f'<figure class="chart" data-metric="{m}"><figcaption>{esc(title)}</figcaption>'
        f'<div class="plot"></div><div class="tooltip" hidden></div></figure>'
        for m, title in CHARTS
    )
    return (
        f'<div class="charts" data-scenario="{index}"><div class="legend"></div>{figures}'
        "<noscript><p>The charts need JavaScript.</p></noscript></div>"
    )


def thresholds_html(scenario: Mapping[str, Any]) -> str:
    thresholds = [t for t in _list(scenario.get("thresholds")) if isinstance(t, Mapping)]
    if not thresholds:
        return '<p class="muted">No thresholds.</p>'
    rows = []
    for t in thresholds:
        unit = t.get("unit")
        detail = esc(t.get("detail") or "")
        runs = _list(t.get("baseline_runs"))
        if runs:
            detail += f'<div class="muted">baseline runs: {esc(", ".join(map(str, runs)))}</div>'
        expression = f"<code>{esc(t.get('expression'))}</code>"
        if t.get("abort"):
            expression += ' <span class="tag">abort</span>'
        rows.append(
            [
                badge(t.get("verdict")),
                expression,
                esc(fmt_unit(t.get("observed"), unit)),
                esc(fmt_unit(t.get("limit"), unit)),
                esc(fmt_unit(t.get("warn"), unit)),
                badge(t["state"]) if t.get("state") else esc(DASH),
                esc(fmt_window(t.get("window"))),
                detail,
            ]
        )
    headers = ("verdict", "expression", "observed", "limit", "warn", "state", "window", "detail")
    return table(headers, rows, "thresholds")


def workloads_html(scenario: Mapping[str, Any]) -> str:
    """Workloads run side by side: one row each (the verdict as a badge), then the thresholds
    of each one that has its own; nothing for a scenario with a single workload."""
    parts = workloads_of(scenario)
    if not parts:
        return ""
    rows = []
    for part, cells in zip(parts, workload_rows(scenario), strict=True):
        verdict = esc(cells[-1])
        if thresholds_of(part):  # judged on its own: the verdict as a badge, as thresholds have
            stopped = part.get("stop_reason")
            verdict = badge(part.get("verdict")) + (
                f" {esc(f'(stopped: {stopped})')}" if stopped else ""
            )
        rows.append([*(esc(cell) for cell in cells[:-1]), verdict])
    own = "".join(
        f"<h4>Workload {esc(label(part))}: its own thresholds</h4>" + thresholds_html(part)
        for part in parts
        if thresholds_of(part)
    )
    return (
        f'<h3>Workloads side by side</h3><p class="muted">{esc(WORKLOAD_NOTE.capitalize())}.</p>'
        + table(WORKLOAD_HEADERS, rows, "workloads")
        + own
    )


def _flow_row(name: str, stats: Mapping[str, Any], step: bool) -> list[str]:
    """The console's row (`row_latency`: docs/reports.md), plus the kind and error rate."""
    latency = row_latency(stats, step)
    label = f'<span class="step">↳ {esc(name)}</span>' if step else f"<b>{esc(name)}</b>"
    kind = "" if step else esc(stats.get("kind") or "")
    cells = [label, kind, esc(fmt_int(stats.get("requests"))), esc(fmt_int(stats.get("errors")))]
    unreached = stats.get("not_reached") if step else None
    cells.append(esc(f"{fmt_int(unreached)} not reached" if unreached else DASH))
    cells += [esc(fmt_rate(stats.get("error_rate"))), esc(fmt_rps(stats.get("rps")))]
    cells += [esc(fmt_ms(latency.get(p))) for p in ("p50", "p95", "p99", "max")]
    return [*cells, esc(DASH if step else fmt_ms(iteration_p95(stats)))]


def flows_html(scenario: Mapping[str, Any]) -> str:
    flows = _mapping(scenario.get("flows"))
    if not flows:
        return '<p class="muted">No flows.</p>'
    rows = []
    for name, stats in flows.items():
        rows.append(_flow_row(str(name), _mapping(stats), False))
        for step, step_stats in _mapping(_mapping(stats).get("steps")).items():
            rows.append(_flow_row(str(step), _mapping(step_stats), True))
    headers = ("flow / step", "kind", "requests", "errors", "not reached", "error rate", "rps")
    flows_table = table((*headers, "p50", "p95", "p99", "max", "iteration p95"), rows, "flows num")
    return flows_table + failures_html(scenario) + timing_html(scenario)


def timing_html(scenario: Mapping[str, Any]) -> str:
    """The timing breakdown per step (`contval.report.timing`), as the console shows it."""
    rows = [[esc(cell) for cell in row] for row in timing_rows(scenario)]
    if not rows:
        return ""
    return f"<h4>{esc(TIMING_TITLE.capitalize())}</h4>" + table(TIMING_HEADERS, rows, "timing num")


def failures_html(scenario: Mapping[str, Any]) -> str:
    """Why checks failed: one row per distinct failure, texts escaped (and redacted upstream)."""
    rows = [
        [esc(where), esc(condition), esc(expected), esc(actual), esc(fmt_int(count))]
        for where, condition, expected, actual, count in failures_rows(scenario)
    ]
    if not rows:
        return ""
    headers = ("flow / step", "check", "expected", "actual", "count")
    return "<h4>Failed checks</h4>" + table(headers, rows, "failures")


def scenario_section(index: int, scenario: Mapping[str, Any]) -> str:
    name = esc(scenario.get("name", f"scenario {index + 1}"))
    verdict = badge(scenario.get("verdict"))
    parts = [
        f'<section class="scenario" id="s{index}"><h2>{verdict} {name}</h2>',
        _meta(scenario),
        "<h3>Health per flow</h3>",
        health_html(scenario),
        "<h3>Over time</h3>",
        charts_html(index, scenario),
        "<h3>Thresholds</h3>",
        thresholds_html(scenario),
        workloads_html(scenario),
        signals_html(scenario),
        "<h3>Against the baseline</h3>",
        baseline_section(scenario.get("baseline")),
    ]
    if "faults" in scenario or "phases" in scenario:
        parts.append(chaos_section(scenario))
    parts += ["<h3>Flows and steps</h3>", flows_html(scenario), "</section>"]
    return "".join(parts)
