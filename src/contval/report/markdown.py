"""`summary.md`: a suite run in Markdown, for a pull request, a chat message or the GitHub
Actions job summary (`$GITHUB_STEP_SUMMARY`).

The verdict first, then one row per scenario, the worst offenders (failed thresholds and
regressions, the furthest beyond their limit first), then each scenario's thresholds, baseline
comparisons that were not a plain pass, health, cool-down and faults.

A pure function of the document: same document, same bytes. Every string from the run (names,
expressions, details: anything the suite or the system under test chose) is escaped for
Markdown tables and for the HTML GitHub renders inside Markdown.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, NamedTuple

from contval.report.console import (
    baseline_label,
    comparison_name,
    cooldown_text,
    failures_rows,
    health_text,
    is_failed,
    limit_text,
    metric_value,
    not_run,
    observed_text,
    operator_of,
    plain,
    scenarios_of,
    shift_text,
    shift_value,
    thresholds_of,
    verdict_line,
    verdict_word,
    with_unit,
)
from contval.report.generator import generator_note
from contval.report.signals import failing_signals, signal_rows
from contval.report.steps import steps_of
from contval.report.timing import HEADERS as TIMING_HEADERS
from contval.report.timing import TITLE as TIMING_TITLE
from contval.report.timing import timing_rows
from contval.report.workloads import HEADERS as WORKLOAD_HEADERS
from contval.report.workloads import NOTE as WORKLOAD_NOTE
from contval.report.workloads import (
    all_comparisons,
    all_thresholds,
    comparisons_of,
    failed_count,
    label,
    overview_label,
    workloads_of,
)
from contval.report.workloads import rows as workload_rows

WORST_OFFENDERS: Final = 5
STEP_SUMMARY_LIMIT: Final = 1024 * 1024
"""GitHub refuses a step's job summary larger than 1 MiB (and then shows none of it)."""
TRUNCATED: Final = "\n\n_(truncated: a job summary holds at most 1 MiB)_\n"

_ESCAPES: Final = {
    ord("\\"): "\\\\",
    ord("`"): "\\`",
    ord("*"): "\\*",
    ord("_"): "\\_",
    ord("["): "\\[",
    ord("]"): "\\]",
    ord("|"): "\\|",
    ord("~"): "\\~",
    ord("#"): "\\#",
    ord("!"): "\\!",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    ord("&"): "&amp;",
}


def md(value: object) -> str:
    """Text as inline Markdown that renders as itself, on one line: no table cell broken by
    `|`, no emphasis, link, code span or HTML tag, no entity smuggled in with `&`."""
    return plain(value).translate(_ESCAPES)


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    """A GFM table; cells are Markdown already (escape with `md` first)."""
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


class Offender(NamedTuple):
    """A failed threshold or a regression, and how far beyond its limit it went: the ratio of
    the observed value to the limit (or of the shift to the tolerance); None without data."""

    ratio: float | None
    order: int
    scenario: str
    what: str
    observed: str
    limit: str
    allowance: str = "limit"  # what the ratio is to: "limit" or "tolerance"

    @property
    def beyond(self) -> str:
        if self.ratio is None:
            return "no data"
        if math.isinf(self.ratio):
            return f"over a {self.allowance} of 0"
        return f"{self.ratio:.3g}× the {self.allowance}"


def _ratio(bad: float, allowed: float) -> float:
    """How many times `allowed` `bad` is (both measured in the bad direction)."""
    if allowed > 0 and bad >= 0:
        return bad / allowed
    return math.inf if bad > allowed else 1.0


def threshold_ratio(threshold: Mapping[str, Any]) -> float | None:
    observed, limit = threshold.get("observed"), threshold.get("limit")
    if not isinstance(observed, int | float) or not isinstance(limit, int | float):
        return None
    op = operator_of(threshold)
    if op in (">", ">="):
        return _ratio(limit, observed) if observed > 0 else math.inf
    if op in ("==", "!="):
        return max(_ratio(observed, limit), _ratio(limit, observed))
    return _ratio(observed, limit)


def comparison_ratio(comparison: Mapping[str, Any]) -> float:
    shift, tolerance = comparison.get("shift"), comparison.get("tolerance")
    if not isinstance(shift, int | float) or not isinstance(tolerance, int | float):
        return math.inf
    return _ratio(abs(shift), abs(tolerance))


def worst_offenders(doc: Mapping[str, Any], top: int = WORST_OFFENDERS) -> list[Offender]:
    """Failed thresholds (no data included, last) and regressions of every scenario, the
    furthest beyond their limit first; ties keep the document's order."""
    found: list[Offender] = []
    for scenario in scenarios_of(doc):
        name = str(scenario.get("name") or "?")
        for part, t in all_thresholds(scenario):
            if is_failed(t):
                what, ratio = str(t.get("expression") or "?"), threshold_ratio(t)
                if part is not None:
                    what = f"workload {part}: {what}"
                found.append(
                    Offender(ratio, len(found), name, what, observed_text(t), limit_text(t))
                )
        for part, c in all_comparisons(scenario):
            if c.get("verdict") != "regression":
                continue
            metric = str(c.get("metric", ""))
            what = comparison_name(c) if part is None else f"workload {part}: {comparison_name(c)}"
            found.append(
                Offender(
                    comparison_ratio(c),
                    len(found),
                    name,
                    what,
                    f"shift {shift_value(metric, c.get('shift'))}",
                    f"tolerance {shift_value(metric, c.get('tolerance'))}",
                    "tolerance",
                )
            )
    found.sort(key=lambda o: (o.ratio is None, -(o.ratio or 0.0), o.order))
    return found[:top]


def _threshold_verdict(threshold: Mapping[str, Any]) -> str:
    """The verdict, with the detail of a failure (what the system under test answered)."""
    verdict = threshold.get("verdict")
    detail = f": {threshold['detail']}" if threshold.get("detail") else ""
    if verdict == "no_data":
        return f"FAIL (no data){detail}"
    if verdict != "pass":
        return "FAIL" + (" (aborted the run)" if threshold.get("abort") else "") + detail
    if threshold.get("state") == "degraded":
        warn = with_unit(threshold.get("warn"), str(threshold.get("unit") or "count"))
        return f"pass, degraded (beyond warn {warn})"
    return "pass"


def _threshold_rows(scenario: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for t in thresholds_of(scenario):
        observed = observed_text(t)
        window = t.get("window")
        if isinstance(window, list) and len(window) == 2 and window[1] != window[0]:
            observed += f" (worst window {window[0]}–{window[1]} s)"
        rows.append(
            [
                md(t.get("expression")),
                md(observed),
                md(limit_text(t)),
                md(_threshold_verdict(t)),
            ]
        )
    return rows


def _baseline_section(scenario: Mapping[str, Any]) -> list[str]:
    baseline = scenario.get("baseline")
    if not isinstance(baseline, Mapping):
        judged = scenario.get("verdict") in ("pass", "fail") and scenario.get("complete", True)
        why = "history off" if judged else "a scenario that did not finish is not judged"
        return [f"**Baseline:** not compared ({why})", ""]
    return _against_baseline(scenario, "**Baseline**")


def _against_baseline(entry: Mapping[str, Any], title: str) -> list[str]:
    """A scenario's or a workload's comparison with its baseline: the verdict and the runs it
    was judged against, noise notes, then every comparison that was not a plain pass."""
    baseline = entry.get("baseline")
    if not isinstance(baseline, Mapping):
        return []
    runs = [str(r) for r in baseline.get("baseline_runs") or []]
    against = f", against {len(runs)} runs: {', '.join(runs)}" if runs else ""
    lines = [
        f"{title} ({md(baseline.get('mode') or '?')}{md(against)}): "
        f"{md(baseline_label(baseline))} — {md(baseline.get('detail') or '')}",
        "",
    ]
    for note in baseline.get("noise") or []:  # inconclusive in most recent runs: too noisy
        if isinstance(note, Mapping):
            lines += [f"> noisy: {md(str(note.get('detail', '')))}", ""]
    rows = []
    for c in comparisons_of(entry):
        if c.get("verdict") == "pass":
            continue
        metric = str(c.get("metric", ""))
        interval = all(c.get(k) is not None for k in ("shift", "low", "high"))
        shift = shift_text(dict(c)) if interval else shift_value(metric, c.get("shift"))
        rows.append(
            [
                md(comparison_name(c).removeprefix("baseline: ")),
                md(metric_value(metric, c.get("current"))),
                md(metric_value(metric, c.get("baseline"))),
                md(shift),
                md(shift_value(metric, c.get("tolerance"))),
                md(str(c.get("verdict", "?")).replace("_", " ")),
            ]
        )
    if rows:
        header = ("comparison", "current", "baseline", "shift [interval]", "tolerance", "verdict")
        lines += _table(header, rows)
    return lines


def _health_line(scenario: Mapping[str, Any]) -> str:
    health = scenario.get("health")
    if not isinstance(health, Mapping):
        return "**Health:** not judged"
    window = health.get("window_s")
    per = f" (per {md(window)}-second window)" if window else ""
    text = f"**Health:** worst {md(health.get('worst') or '-')}{per}"
    flows = health.get("flows")
    notes = []
    for name, flow in (flows or {}).items() if isinstance(flows, Mapping) else []:
        if not isinstance(flow, Mapping):
            continue
        worst = flow.get("worst") or "-"
        note = f"{name} {worst}"
        first = next(
            (
                w
                for w in flow.get("windows") or []
                if isinstance(w, Mapping) and w.get("state") == worst != "healthy"
            ),
            None,
        )
        if first is not None:
            t = first.get("t") or ["?", "?"]
            reason = f": {first['reason']}" if first.get("reason") else ""
            note += f" (first at {t[0]}–{t[-1]} s{reason})"
        notes.append(md(note))
    return text + ("; " + "; ".join(notes) if notes else "")


def _cooldown_line(scenario: Mapping[str, Any]) -> str | None:
    cooldown = scenario.get("cooldown")
    if not isinstance(cooldown, Mapping):
        return None
    probe = f" — {cooldown['probe']}" if cooldown.get("probe") else ""
    detail = f": {cooldown['detail']}" if cooldown.get("detail") else ""
    return f"**Cool-down before it:** {md(cooldown_text(cooldown) + probe + detail)}"


def _yes_no(value: object, no: str) -> str:
    return "yes" if value is True else no if value is False else "-"


def _fault_rows(scenario: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for f in scenario.get("faults") or []:
        if not isinstance(f, Mapping):
            continue
        if f.get("skipped"):
            window = "skipped"
        elif f.get("injected_at_s") is None:
            window = "not injected"
        else:
            window = f"{f['injected_at_s']}–{f.get('reverted_at_s')} s"
        verified = _yes_no(f.get("verified"), "NO")
        reverted = _yes_no(f.get("reverted"), "NO: run `contval recover`")
        what = f"{f.get('type', '?')} on {f.get('target', '?')}"
        detail = f.get("error") or f.get("detail") or ""
        cells = (f.get("name"), what, window, verified, reverted, detail)
        rows.append([md(c) for c in cells])
    return rows


def _checks_section(scenario: Mapping[str, Any]) -> list[str]:
    """Why checks failed (condition, expected, actual, count) and the steps failed iterations
    never reached, so a failing step's later steps are counted, not missing."""
    lines: list[str] = []
    rows = failures_rows(scenario)
    if rows:
        lines += ["**Failed checks**", ""]
        lines += _table(
            ("flow / step", "check", "expected", "actual", "count"),
            ([md(w), md(c), md(e), md(a), str(n)] for w, c, e, a, n in rows),
        )
    unreached = [(w, n) for w, step in steps_of(scenario) if (n := step.get("not_reached"))]
    if unreached:
        lines += ["**Not reached** (an earlier step of the iteration failed)", ""]
        lines += _table(("flow / step", "iterations"), ([md(w), str(n)] for w, n in unreached))
    return lines


def _timing_section(scenario: Mapping[str, Any]) -> list[str]:
    """Per step: connections, connect and TLS p95, waiting and receiving means, bytes."""
    rows = timing_rows(scenario)
    if not rows:
        return []
    cells = ([md(cell) for cell in row] for row in rows)
    return [f"**{md(TIMING_TITLE.capitalize())}**", "", *_table(TIMING_HEADERS, cells)]


def _signals_section(scenario: Mapping[str, Any]) -> list[str]:
    """The server-side signals the scenario read, those a threshold failed on first."""
    rows = signal_rows(scenario)
    if not rows:
        return []
    header = ("signal", "metric (source, kind)", "range over the load", "no data", "thresholds")
    cells = ([md(cell) for cell in row] for row in rows)
    lines = ["**Signals** (read from the system's own metrics)", ""]
    failing = failing_signals(scenario)
    if failing:
        listed = "; ".join(
            f"`{md(name)}`: " + ", ".join(f"`{md(e)}`" for e in expressions)
            for name, expressions in failing.items()
        )
        lines += [f"**Failing signals:** {listed}", ""]
    return [*lines, *_table(header, cells)]


def _workloads_section(scenario: Mapping[str, Any]) -> list[str]:
    """Workloads run side by side: one row each, then each one's own thresholds."""
    table = workload_rows(scenario)
    if not table:
        return []
    lines = [f"**Workloads side by side** ({md(WORKLOAD_NOTE)})", ""]
    lines += _table(WORKLOAD_HEADERS, ([md(cell) for cell in row] for row in table))
    for part in workloads_of(scenario):
        rows = _threshold_rows(part)
        if rows:
            lines += [f"**Workload {md(label(part))}: its own thresholds**", ""]
            lines += _table(("threshold", "observed", "limit", "verdict"), rows)
        lines += _against_baseline(
            part, f"**Workload {md(label(part))}: against its own baseline**"
        )
    return lines


def _scenario_section(scenario: Mapping[str, Any]) -> list[str]:
    name = md(scenario.get("name") or "?")
    verdict = verdict_word(scenario.get("verdict"))
    if scenario.get("complete") is False:
        verdict += " (incomplete)"
    lines = [f"### {name}: {md(verdict)}", ""]
    labels = {"workload": "workload", "executor": "executor", "duration_s": "seconds of load"}
    facts = [f"{label} {scenario[k]}" for k, label in labels.items() if scenario.get(k) is not None]
    if facts:
        lines += [md(" · ".join(facts)), ""]
    if scenario.get("stop_reason"):
        lines += [f"**Stopped:** {md(scenario['stop_reason'])}", ""]
    generator = generator_note(scenario)
    if generator is not None:
        lines += [f"**Load generator:** {md(generator)}", ""]
    failures = scenario.get("failures") or []
    for failure in failures:
        lines += [f"**Worker failure:** {md(failure)}", ""]
    rows = _threshold_rows(scenario)
    if rows:
        lines += _table(("threshold", "observed", "limit", "verdict"), rows)
    else:
        lines += ["No thresholds.", ""]
    lines += _workloads_section(scenario)
    lines += _signals_section(scenario)
    lines += _baseline_section(scenario)
    lines += _checks_section(scenario)
    lines += _timing_section(scenario)
    lines += [_health_line(scenario), ""]
    cooldown = _cooldown_line(scenario)
    if cooldown:
        lines += [cooldown, ""]
    faults = _fault_rows(scenario)
    if faults:
        header = ("fault", "type", "injected–reverted", "verified", "reverted", "detail")
        lines += _table(header, faults)
    return lines


def _overview(doc: Mapping[str, Any]) -> list[str]:
    rows = []
    for s in scenarios_of(doc):
        failed, total = failed_count(s)  # the workloads' own thresholds fail it too
        verdict = verdict_word(s.get("verdict"))
        if s.get("complete") is False:
            verdict += " (incomplete)"
        cells = (
            s.get("name"),
            verdict,
            f"{failed}/{total}",
            overview_label(s),  # with a workload's own regression
            health_text(s),
            cooldown_text(s.get("cooldown")),
        )
        rows.append([md(c) for c in cells])
    for name, status, why in not_run(doc):
        rows.append([md(name), md(f"{status.upper()} ({why})"), "-", "-", "-", "-"])
    header = ("scenario", "verdict", "thresholds failed", "baseline", "worst health", "cool-down")
    return _table(header, rows) if rows else ["No scenario ran.", ""]


def _offenders(doc: Mapping[str, Any]) -> list[str]:
    lines = ["### Worst offenders", ""]
    offenders = worst_offenders(doc)
    if not offenders:
        return [*lines, "None: no threshold failed and nothing regressed.", ""]
    rows = [
        [str(i), md(o.scenario), md(o.what), md(o.observed), md(o.limit), md(o.beyond)]
        for i, o in enumerate(offenders, 1)
    ]
    return lines + _table(("#", "scenario", "what", "observed", "limit", "how far"), rows)


def render_markdown(doc: Mapping[str, Any]) -> str:
    suite = md(doc.get("suite") or "suite")
    lines = [f"## contval: {md(verdict_word(doc.get('verdict')))} — {suite}", ""]
    lines += [f"**{md(verdict_line(doc))}**", ""]
    facts = [
        (label, doc.get(key))
        for label, key in (
            ("run", "run_id"),
            ("env", "env"),
            ("label", "label"),
            ("started", "started_at"),
            ("suite health", "health"),
        )
    ]
    kept = [f"{label} {md(value)}" for label, value in facts if value not in (None, "")]
    if doc.get("complete") is False:
        kept.append("**incomplete**")
    if kept:
        lines += [" · ".join(kept), ""]
    lines += _overview(doc)
    lines += _offenders(doc)
    for scenario in scenarios_of(doc):
        lines += _scenario_section(scenario)
    return "\n".join(lines).rstrip("\n") + "\n"


def append_step_summary(markdown: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """Append `markdown` to the file `GITHUB_STEP_SUMMARY` names (GitHub Actions shows it on the
    run's page) and return its path; None when the variable is unset or the file cannot be
    written (the caller warns: a job summary is never worth failing a run for). A summary that
    would take the file past GitHub's 1 MiB is cut short, with a note saying so."""
    target = (os.environ if environ is None else environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    try:
        size = path.stat().st_size if path.exists() else 0
        text = ("\n" if size else "") + markdown.rstrip("\n") + "\n"
        data = text.encode("utf-8", errors="replace")
        room = STEP_SUMMARY_LIMIT - size
        if len(data) > room:
            note = TRUNCATED.encode("utf-8")
            if room <= len(note):
                return None
            cut = data[: room - len(note)].decode("utf-8", errors="ignore")
            data = cut[: cut.rfind("\n") + 1].encode("utf-8") + note
        with path.open("ab") as handle:
            handle.write(data)
    except (OSError, ValueError):
        return None
    return path
