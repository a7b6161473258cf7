"""The HTML report: one self-contained page that tells the story of a suite run at a glance.

All CSS and script are inline (assets/), nothing is fetched, and the page is a pure function of
the `result.json` document: no clock, no random ids, so a report re-made from the history store
is byte-for-byte the one written at run time. Every string from the run is escaped for HTML;
the charts' data travels as JSON the script reads and draws with textContent only.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from contval.report.html_data import chart_data
from contval.report.html_fmt import (
    DASH,
    badge,
    esc,
    fmt_int,
    fmt_rate,
    fmt_rps,
    fmt_seconds,
    get,
    script_json,
    table,
)
from contval.report.html_scenario import scenario_section


@cache
def asset(name: str) -> str:
    return (resources.files("contval.report") / "assets" / name).read_text(encoding="utf-8")


def _scenarios(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    scenarios = doc.get("scenarios")
    return [s for s in scenarios if isinstance(s, Mapping)] if isinstance(scenarios, list) else []


def _header(doc: Mapping[str, Any]) -> str:
    verdict = doc.get("verdict")
    complete = "" if doc.get("complete", True) is not False else badge("fail", "incomplete")
    facts = [
        ("exit code", esc(fmt_int(doc.get("exit_code")))),
        ("health", badge(doc["health"]) if doc.get("health") else badge("no_data", "not judged")),
        ("run id", f"<code>{esc(doc.get('run_id') or DASH)}</code>"),
        ("env", esc(doc.get("env") or DASH)),
        ("label", esc(doc.get("label") or DASH)),
        ("started", esc(doc.get("started_at") or DASH)),
        ("suite file", f"<code>{esc(doc.get('suite_file') or DASH)}</code>"),
    ]
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in facts)
    return (
        f'<header class="top b-{esc(_token(verdict))}">'
        f'<div class="title"><div class="kicker">contval suite run</div>'
        f"<h1>{esc(doc.get('suite') or 'suite')}</h1></div>"
        f'<div class="verdict">{badge(verdict, str(verdict or "unknown").upper(), big=True)}'
        f"{complete}</div>"
        f'<dl class="facts">{items}</dl></header>'
    )


def _token(value: Any) -> str:
    return "".join(c if c.isalnum() else "-" for c in str(value or "unknown"))[:40]


def _pipeline(doc: Mapping[str, Any], scenarios: list[Mapping[str, Any]]) -> str:
    pipeline = doc.get("pipeline")
    names = [str(s.get("name")) for s in scenarios]
    pipeline = pipeline if isinstance(pipeline, Mapping) else {}
    order = [str(n) for n in pipeline.get("order") or names]
    skipped = {str(n) for n in pipeline.get("skipped") or []}
    chips = []
    for name in order:
        if name in names:
            index = names.index(name)
            state = scenarios[index].get("verdict")
            chips.append(f'<a class="chip v-{esc(_token(state))}" href="#s{index}">{esc(name)}</a>')
        else:
            label = "skipped" if name in skipped else "not run"
            chips.append(f'<span class="chip skipped">{esc(name)} <i>({label})</i></span>')
    notes = []
    if pipeline.get("stop_on_failure") is not None:
        notes.append("stop on failure: " + ("yes" if pipeline["stop_on_failure"] else "no"))
    if pipeline.get("stopped_after"):
        notes.append(f"stopped after {pipeline['stopped_after']}")
    if skipped:
        notes.append("skipped: " + ", ".join(sorted(skipped, key=order.index)))
    note = f'<p class="muted">{esc(" · ".join(notes))}</p>' if notes else ""
    arrow = '<span class="arrow">→</span>'
    return (
        f'<nav class="pipeline"><h2>Pipeline</h2><div class="chips">{arrow.join(chips)}</div>'
        f"{note}{_summary(scenarios)}</nav>"
    )


def _summary(scenarios: list[Mapping[str, Any]]) -> str:
    rows = []
    for i, s in enumerate(scenarios):
        totals = s.get("totals") if isinstance(s.get("totals"), Mapping) else {}
        worst = get(s, "health", "worst")
        baseline = get(s, "baseline", "verdict")
        rows.append(
            [
                f'<a href="#s{i}">{esc(s.get("name"))}</a>',
                badge(s.get("verdict")),
                badge(worst) if worst else esc(DASH),
                esc(fmt_seconds(s.get("duration_s"))),
                esc(fmt_int(get(totals, "requests"))),
                esc(fmt_rate(get(totals, "error_rate"))),
                esc(fmt_rps(get(totals, "rps"))),
                badge(baseline) if baseline else esc(DASH),
            ]
        )
    headers = ("scenario", "verdict", "health", "duration", "requests", "error rate", "rps")
    return table((*headers, "baseline"), rows, "summary")


def render_html(doc: Mapping[str, Any]) -> str:
    scenarios = _scenarios(doc)
    data = {"scenarios": [chart_data(s) for s in scenarios]}
    sections = "".join(scenario_section(i, s) for i, s in enumerate(scenarios))
    if not sections:
        sections = '<p class="muted">No scenarios in this document.</p>'
    title = f"contval · {doc.get('suite') or 'suite'} · {str(doc.get('verdict') or '').upper()}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<title>{esc(title)}</title><style>{asset('report.css')}</style></head>"
        f"<body>{_header(doc)}<main>{_pipeline(doc, scenarios)}"
        f"{sections}</main>"
        "<footer>contval · result schema "
        f"{esc(doc.get('schema') or DASH)}</footer>"
        f"{script_json(data, 'contval-data')}<script>{asset('report.js')}</script>"
        "</body></html>\n"
    )
