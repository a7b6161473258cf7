"""The console: a live progress line while a scenario runs, then tables per flow and step and
the thresholds' verdicts. On a terminal the line rewrites itself; in a CI log it prints every
few seconds, so logs stay readable. At the end of a suite run, `print_suite_summary`: one row
per scenario and the verdict line, whose wording (and that of observed vs limit) the JUnit and
Markdown reports share. Every state is a word, so nothing is lost without colour.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from rich.console import Console
from rich.table import Table
from rich.text import Text

from contval.exitcodes import ExitCode
from contval.metrics.rates import per_second
from contval.report.generator import generator_note
from contval.report.signals import signals_table
from contval.report.steps import steps_of
from contval.report.timing import HEADERS as TIMING_HEADERS
from contval.report.timing import TITLE as TIMING_TITLE
from contval.report.timing import timing_rows

LOG_EVERY = 10  # seconds between progress lines when not on a terminal


def _num(value: float) -> str:
    """Readable numbers: 0.5, 26.78, 1,925, 10,000 (never exponent notation)."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


class Progress:
    """One line: elapsed/total, rate, active iterations, errors, p95 so far."""

    def __init__(self, console: Console, scenario: str, total: float, grace: float) -> None:
        self.console = console
        self.scenario = scenario
        self.total = total
        self.grace = grace
        """How long iterations in flight when the schedule ends may take to finish."""
        self.live = console.is_terminal
        self.requests = 0
        self.errors = 0
        self.dropped = 0
        self._last_width = 0

    def update(self, row: dict[str, Any], p95_ms: float | None) -> None:
        self.requests += row["requests"]
        self.errors += row["errors"]
        self.dropped += row["dropped_iterations"]
        elapsed = row["t"] + 1
        rate = self.errors / self.requests * 100 if self.requests else 0.0
        if elapsed > self.total:  # the schedule is over: only iterations in flight remain
            activity = (
                f"finishing {row['active']} in flight (up to {self.grace:.0f}s after the end)"
            )
        else:
            activity = f"active {row['active']:>4}"
        text = (
            f"{self.scenario}  {elapsed:>4}s/{self.total:.0f}s  "
            f"{per_second(row['requests'], 1) or 0:>6.0f}/s  "
            f"{activity}  errors {self.errors} ({rate:.2f}%)  "
            f"p95 {fmt_ms(p95_ms)} ms"
        )
        if self.dropped:
            text += f"  dropped {self.dropped}"
        if row["lag_ms"] > 10:
            text += f"  lag {row['lag_ms']:.0f} ms"
        if self.live:
            pad = max(0, self._last_width - len(text))
            self.console.file.write("\r" + text + " " * pad)
            self.console.file.flush()
            self._last_width = len(text)
        elif elapsed % LOG_EVERY == 0:
            self.console.print(text, highlight=False)

    def finish(self) -> None:
        if self.live and self._last_width:
            self.console.file.write("\n")
            self.console.file.flush()


PERCENTILES: Final = ("p50", "p90", "p95", "p99", "max")


def row_latency(stats: Mapping[str, Any], step: bool) -> Mapping[str, Any]:
    """The latency a row of a flows table shows, the same in the console and report.html
    (docs/reports.md): a flow's row, its requests' latency over all its steps (what
    `FLOW: p95(latency)` judges); a step's row, its requests' latency, or for a poll step the
    time until its condition held (what `FLOW/STEP: p95(duration)` judges). A flow's whole
    iteration, think time included, is the separate `iteration p95` column."""
    chosen = stats.get("duration") if step else None
    chosen = chosen or stats.get("latency")
    return chosen if isinstance(chosen, Mapping) else {}


def iteration_p95(stats: Mapping[str, Any]) -> float | None:
    duration = stats.get("duration")
    value = duration.get("p95") if isinstance(duration, Mapping) else None
    return value if isinstance(value, int | float) else None


def flows_table(scenario: dict[str, Any]) -> Table:
    """Flows and steps in declared order (result.json keeps it), latencies as `row_latency`."""
    table = Table(title=f"scenario {scenario['name']}", title_justify="left", expand=False)
    for column in ("flow / step", "requests", "errors", "not reached", "rps"):
        table.add_column(column, justify="left" if column == "flow / step" else "right")
    for column in (*(f"{p} ms" for p in PERCENTILES), "iteration p95 ms"):
        table.add_column(column, justify="right")
    for name, flow in scenario["flows"].items():
        lat = row_latency(flow, step=False)
        table.add_row(
            Text(f"{name} ({flow['iterations']} iterations, {flow['kind']})", style="bold"),
            str(flow["requests"]),
            _errors(flow["errors"], flow["requests"]),
            "",
            f"{flow['rps'] or 0:.1f}",
            *(fmt_ms(lat.get(k)) for k in PERCENTILES),
            fmt_ms(iteration_p95(flow)),
        )
        for step_name, step in flow["steps"].items():
            lat = row_latency(step, step=True)
            table.add_row(
                f"  {step_name}",
                str(step["requests"]),
                _errors(step["errors"], step["requests"]),
                _not_reached(step.get("not_reached") or 0),
                f"{step['rps'] or 0:.1f}",
                *(fmt_ms(lat.get(k)) for k in PERCENTILES),
                "",
            )
    return table


def _not_reached(count: int) -> Text:
    """A step later steps of failed iterations never got to: counted, in words."""
    return Text(str(count), style="yellow") if count else Text("0")


def failures_rows(scenario: Mapping[str, Any]) -> list[tuple[str, str, str, str, int]]:
    """(flow/step, condition, expected, actual, count) of every explained failed check, in the
    flows table's order; a step's uncounted rest as one `(other failures)` row."""
    rows: list[tuple[str, str, str, str, int]] = []
    for where, step in steps_of(scenario):
        for f in step.get("failures") or ():
            if isinstance(f, Mapping):
                texts = (str(f.get(k, "")) for k in ("condition", "expected", "actual"))
                rows.append((where, *texts, _count(f.get("count"))))  # type: ignore[arg-type]
        other = _count(step.get("failures_other"))
        if other:
            rows.append((where, "(other failures)", "", "", other))
    return rows


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def failures_table(scenario: Mapping[str, Any]) -> Table | None:
    """Why checks failed: condition, expected and actual (bounded, escaped, redacted), counts."""
    rows = failures_rows(scenario)
    if not rows:
        return None
    table = Table(title="failed checks", title_justify="left")
    for column in ("flow / step", "check", "expected", "actual", "count"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for where, condition, expected, actual, count in rows:
        table.add_row(
            Text(plain(where)),
            Text(plain(condition)),
            Text(plain(expected)),
            Text(plain(actual), style="red"),
            str(count),
        )
    return table


def timing_table(scenario: Mapping[str, Any]) -> Table | None:
    """Per step: connections opened and reused, connect and TLS p95, mean waiting (time to
    first byte) and receiving, bytes each way (`contval.report.timing`)."""
    rows = timing_rows(scenario)
    if not rows:
        return None
    table = Table(title=TIMING_TITLE, title_justify="left")
    for index, column in enumerate(TIMING_HEADERS):  # the step's name is never cut
        table.add_column(column, justify="right" if index else "left", no_wrap=not index)
    for where, *cells in rows:
        table.add_row(Text(plain(where)), *cells)
    return table


def _errors(errors: int, requests: int) -> Text:
    if not errors:
        return Text("0")
    return Text(f"{errors} ({errors / max(requests, 1) * 100:.1f}%)", style="red")


SYMBOL = {"pass": ("✓", "green"), "fail": ("✗", "red"), "no_data": ("?", "yellow")}


def thresholds_table(results: list[dict[str, Any]]) -> Table | None:
    if not results:
        return None
    table = Table(title="thresholds", title_justify="left")
    for column in ("", "threshold", "observed", "limit"):
        table.add_column(column)
    for r in results:
        symbol, style = SYMBOL.get(r["verdict"], ("?", "yellow"))
        observed = observed_text(r)
        if r.get("window") and r["window"][1] > r["window"][0]:
            observed += f" (worst window {r['window'][0]}–{r['window'][1]}s)"
        table.add_row(
            Text(symbol, style=style), r["expression"], observed, with_unit(r["limit"], r["unit"])
        )
    return table


def print_scenario(console: Console, scenario: dict[str, Any]) -> None:
    console.print(flows_table(scenario))
    failed = failures_table(scenario)
    if failed is not None:
        console.print(failed)
    breakdown = timing_table(scenario)
    if breakdown is not None:
        console.print(breakdown)
    totals = scenario["totals"]
    console.print(
        f"requests {totals['requests']}  errors {totals['errors']}  "
        f"iterations {totals['iterations']}  dropped {totals['dropped_iterations']}  "
        f"rps {totals['rps'] or 0:.1f}",
        highlight=False,
    )
    if scenario.get("generator_saturated"):
        console.print(
            Text(
                "GENERATOR SATURATED: the load generator fell behind its schedule; the "
                "measurement failed, not the system",
                style="bold red",
            )
        )
    generator = generator_note(scenario)
    if generator is not None:
        console.print(Text(generator, style="red" if "saturated (" in generator else "yellow"))
    table = thresholds_table(scenario["thresholds"])
    if table is not None:
        console.print(table)
    signals = signals_table(scenario)
    if signals is not None:
        console.print(signals)
    if scenario.get("baseline"):
        print_baseline(console, scenario["baseline"])
    verdict = scenario["verdict"]
    style = {"pass": "green", "not_gated": "yellow"}.get(verdict, "red")
    reason = f" ({scenario['stop_reason']})" if scenario.get("stop_reason") else ""
    if verdict == "not_gated":  # say why: nothing judged it
        reason = " (no thresholds, and no baseline to compare with yet)"
    elif verdict == "fail" and not reason:
        reason = baseline_reason(scenario)
    word = verdict.replace("_", " ").upper()
    console.print(Text(f"scenario {scenario['name']}: {word}{reason}", style=style))


def baseline_reason(scenario: dict[str, Any]) -> str:
    """Why a scenario whose thresholds passed failed all the same: a workload run alongside
    failed its own thresholds, or the baseline comparison of the scenario or of a workload."""
    from contval.report.workloads import (  # they build on this module's helpers
        failed_workloads,
        regressed_workloads,
    )

    if any(t.get("verdict") in ("fail", "no_data") for t in scenario.get("thresholds", ())):
        return ""
    parts = failed_workloads(scenario)
    if parts:
        names = ", ".join(map(plain, parts))
        if len(parts) == 1:
            return f" (workload {names} failed its own thresholds)"
        return f" (workloads {names} failed their own thresholds)"
    gate = (scenario.get("baseline") or {}).get("verdict")
    if gate == "regression":
        return " (a regression against its baseline)"
    regressed = regressed_workloads(scenario)
    if len(regressed) == 1:
        return f" (a regression of workload {plain(regressed[0])} against its baseline)"
    if regressed:
        names = ", ".join(map(plain, regressed))
        return f" (regressions of workloads {names} against their baselines)"
    if gate == "no_baseline":
        return " (no baseline yet, and --require-baseline)"
    return ""


BASELINE_STYLE = {
    "pass": "green",
    "improvement": "green",
    "regression": "red",
    "inconclusive": "yellow",
    "no_baseline": "yellow",
    "same": "green",
    "different": "yellow",
}


def print_baseline(console: Console, baseline: dict[str, Any]) -> None:
    """The gate's verdict, and every comparison that was not a plain pass."""
    verdict = baseline["verdict"]
    label = {"no_baseline": "NO BASELINE YET"}.get(verdict, verdict.upper())
    style = BASELINE_STYLE.get(verdict, "red")
    console.print(
        Text(f"baseline ({baseline.get('mode', '?')}): {label}", style=style),
        f"— {baseline.get('detail', '')}",
        highlight=False,
    )
    for note in baseline.get("noise") or []:  # inconclusive in most recent runs: too noisy
        console.print(Text(f"  noisy: {note['detail']}", style="yellow"), highlight=False)
    rows = [c for c in baseline.get("comparisons", []) if c["verdict"] not in ("pass",)]
    if not rows or verdict == "no_baseline":
        return
    table = Table(title="baseline comparisons (not a plain pass)", title_justify="left")
    for column in ("", "scope", "metric", "current", "baseline", "shift [interval]", "tolerance"):
        table.add_column(column)
    for c in rows:
        scope = c["flow"] + (f"/{c['step']}" if c["step"] else "")
        if c["phase"]:
            scope += f" ({c['phase']['phase']} {c['phase']['fault']})"
        table.add_row(
            Text(  # the word too: without colour, "~" alone reads the same for every verdict
                ("✗ " if c["verdict"] == "regression" else "~ ") + c["verdict"],
                style=BASELINE_STYLE.get(c["verdict"], "yellow"),
            ),
            scope,
            c["metric"],
            metric_value(c["metric"], c["current"]),
            metric_value(c["metric"], c["baseline"]),
            shift_text(c),
            shift_value(c["metric"], c["tolerance"]),
        )
    console.print(table)


def metric_value(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric.startswith("signal("):  # in the signal's own unit
        return f"{value:.4g}"
    if metric in ("error_rate", "dropped", "late"):  # shares
        return f"{value * 100:.2f}%"
    if metric == "outage":
        return f"{value:g} s"
    if metric == "rps":
        return f"{value:.1f}/s"
    return f"{fmt_ms(value)} ms"


def shift_value(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric.startswith("signal("):  # a change in the signal's own unit
        return f"{value:+.4g}"
    points = metric in ("error_rate", "dropped", "late")
    return f"{value * 100:+.2f} pp" if points else f"{value * 100:+.1f}%"


def shift_text(c: dict[str, Any]) -> str:
    metric = c["metric"]
    return (
        f"{shift_value(metric, c['shift'])} "
        f"[{shift_value(metric, c['low'])}, {shift_value(metric, c['high'])}]"
    )


# --- The end-of-run summary of a whole suite run (also the wording the JUnit and Markdown
# reports share: the verdict line, observed vs limit, and text safe to print). ---

EXIT_REASONS: Final[dict[int, str]] = {
    ExitCode.OK: "every gate passed",
    ExitCode.THRESHOLD_FAILED: "a threshold failed",
    ExitCode.INVALID_INPUT: "the suite or the arguments are invalid",
    ExitCode.RUN_INCOMPLETE: "the run did not complete",
    ExitCode.FAULT_NOT_REVERTED: "a fault was not confirmed reverted",
    ExitCode.REGRESSION: "a regression against the baseline",
    ExitCode.NOT_GATED: "nothing was judged (no thresholds, no baseline)",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_OPERATOR = re.compile(r"<=|>=|==|!=|<|>")


def plain(value: object) -> str:
    """One line of text without control characters (an escape sequence from the system under
    test must not reach a terminal): newlines and tabs become spaces, others `\\xNN`, and a
    lone surrogate (which no file can encode) U+FFFD."""
    text = "" if value is None else str(value)
    return _CONTROL.sub(_replace_control, text)


def _replace_control(match: re.Match[str]) -> str:
    char = match[0]
    if char in "\t\n\r":
        return " "
    return "\ufffd" if "\ud800" <= char <= "\udfff" else f"\\x{ord(char):02x}"


def comparison_name(comparison: Mapping[str, Any]) -> str:
    """`baseline: checkout/place order p95 (during payments-slow)`."""
    scope = str(comparison.get("flow") or "?")
    if comparison.get("step"):
        scope += f"/{comparison['step']}"
    name = f"baseline: {scope} {comparison.get('metric', '?')}"
    phase = comparison.get("phase")
    if isinstance(phase, Mapping):
        name += f" ({phase.get('phase', '?')} {phase.get('fault', '?')})"
    return name


def verdict_word(verdict: object) -> str:
    """`PASS`, `FAIL`, `NOT GATED`: a verdict as the console and reports print it."""
    return str(verdict or "unknown").replace("_", " ").upper()


def exit_reason(code: object) -> str:
    """`exit 1: a threshold failed`; `no exit code yet` while the run has not finished."""
    if not isinstance(code, int) or isinstance(code, bool):
        return "no exit code yet"
    reason = EXIT_REASONS.get(code)
    return f"exit {code}: {reason}" if reason else f"exit {code}"


def verdict_line(doc: Mapping[str, Any]) -> str:
    """`verdict: FAIL (exit 1: a threshold failed)`: the line a CI log is searched for."""
    return f"verdict: {verdict_word(doc.get('verdict'))} ({exit_reason(doc.get('exit_code'))})"


def with_unit(value: float | None, unit: str) -> str:
    """`2.5 %`, `180 ms`, `50 /s`, `3` (counts have no unit); `-` without a value."""
    if value is None:
        return "-"
    return _num(value) if unit in ("count", "") else f"{_num(value)} {unit}"


def threshold_operator(expression: str) -> str:
    """The comparison of a threshold expression (`<`, `<=`, …), read after its `flow/step:`
    scope so a name cannot be mistaken for it; empty when there is none."""
    _, colon, rest = expression.partition(":")
    found = _OPERATOR.search(rest if colon else expression)
    return found[0] if found else ""


def operator_of(threshold: Mapping[str, Any]) -> str:
    """The threshold's comparison: recorded in results since issue 6, read from the expression
    in older documents."""
    op = threshold.get("op")
    return (
        op
        if isinstance(op, str) and op
        else threshold_operator(str(threshold.get("expression", "")))
    )


def limit_text(threshold: Mapping[str, Any]) -> str:
    """`< 1 %`; `no baseline yet` for a threshold against a baseline that does not exist."""
    limit = threshold.get("limit")
    if limit is None:
        return "no baseline yet"
    op = operator_of(threshold)
    value = with_unit(limit, str(threshold.get("unit") or "count"))
    return f"{op} {value}" if op else value


def observed_text(threshold: Mapping[str, Any]) -> str:
    observed = threshold.get("observed")
    if observed is None:
        return "no data"
    return with_unit(observed, str(threshold.get("unit") or "count"))


def observed_vs_limit(threshold: Mapping[str, Any]) -> str:
    """`observed 2.5 % — limit < 1 %`, or `no data — limit < 1 %`."""
    observed = observed_text(threshold)
    lead = observed if observed == "no data" else f"observed {observed}"
    return f"{lead} — limit {limit_text(threshold)}"


def is_failed(threshold: Mapping[str, Any]) -> bool:
    """Fail and no data both fail a scenario: no data is not a pass."""
    return threshold.get("verdict") != "pass"


def baseline_label(baseline: object) -> str:
    """The gate's verdict as the console prints it; `-` when the history was off."""
    if not isinstance(baseline, Mapping):
        return "-"
    verdict = baseline.get("verdict")
    return "NO BASELINE YET" if verdict == "no_baseline" else verdict_word(verdict)


def cooldown_text(cooldown: object) -> str:
    """`5 s, settled` / `5 s, NOT settled` / `5 s, not checked`; `-` before the first."""
    if not isinstance(cooldown, Mapping):
        return "-"
    seconds = cooldown.get("seconds")
    waited = f"{_num(seconds)} s" if isinstance(seconds, int | float) else "?"
    settled = cooldown.get("settled")
    state = "settled" if settled is True else "NOT settled" if settled is False else "not checked"
    return f"{waited}, {state}"


def health_text(scenario: Mapping[str, Any]) -> str:
    health = scenario.get("health")
    worst = health.get("worst") if isinstance(health, Mapping) else None
    return str(worst) if worst else "-"


def scenarios_of(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    scenarios = doc.get("scenarios")
    if not isinstance(scenarios, list):
        return []
    return [s for s in scenarios if isinstance(s, Mapping)]


def thresholds_of(scenario: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    thresholds = scenario.get("thresholds")
    if not isinstance(thresholds, list):
        return []
    return [t for t in thresholds if isinstance(t, Mapping)]


def not_run(doc: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """Scenarios asked for but not run: (name, `skipped` | `not run`, why). Skipped by
    `stop_on_failure`, or never reached because the suite run stopped (or is still running)."""
    pipeline = doc.get("pipeline")
    if not isinstance(pipeline, Mapping):
        return []
    ran = {str(s.get("name")) for s in scenarios_of(doc)}
    skipped = [str(n) for n in pipeline.get("skipped") or [] if str(n) not in ran]
    after = pipeline.get("stopped_after")
    failed = f"{plain(after)} failed" if after else "an earlier scenario failed"
    rows = [(name, "skipped", f"{failed} and stop_on_failure is on") for name in skipped]
    unreached = "still running" if doc.get("verdict") == "running" else "the suite run stopped"
    rows += [
        (str(n), "not run", unreached)
        for n in pipeline.get("order") or []
        if str(n) not in ran and str(n) not in skipped
    ]
    return rows


def suite_facts(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """run id, env and label of a suite run, as far as the document has them."""
    facts = [("run", doc.get("run_id")), ("env", doc.get("env")), ("label", doc.get("label"))]
    return [(k, plain(v)) for k, v in facts if v not in (None, "")]


def _scenario_row(scenario: Mapping[str, Any]) -> list[Text]:
    from contval.report.workloads import (  # they build on this module's helpers
        failed_count,
        overview_label,
    )

    failed, total = failed_count(scenario)  # the workloads' own thresholds fail it too
    verdict = str(scenario.get("verdict") or "unknown")
    word = verdict_word(verdict)
    if scenario.get("complete") is False:
        word += " (incomplete)"
    baseline = overview_label(scenario)  # with a workload's own regression
    style = "red" if "REGRESSION" in baseline else BASELINE_STYLE.get(baseline.lower(), "yellow")
    return [
        Text(plain(scenario.get("name"))),
        Text(word, style="green" if verdict == "pass" else "red"),
        Text(f"{failed}/{total}", style="red" if failed else ""),
        Text(baseline, style=style),
        Text(health_text(scenario)),
        Text(cooldown_text(scenario.get("cooldown"))),
    ]


def print_suite_summary(console: Console, doc: Mapping[str, Any]) -> None:
    """The end of a suite run: one row per scenario (verdict, thresholds failed/total, the
    baseline's verdict, worst health, cool-down), those not run and why, then the verdict line.
    Readable without colour: every state is a word, every string from the run is `plain`."""
    facts = "  ".join(f"{k} {v}" for k, v in suite_facts(doc))
    console.print(Text(f"suite {plain(doc.get('suite') or '?')}  {facts}".rstrip()))
    table = Table(title="suite summary", title_justify="left")
    for column in ("scenario", "verdict", "thresholds failed", "baseline", "worst health"):
        table.add_column(column)
    table.add_column("cool-down")
    for scenario in scenarios_of(doc):
        table.add_row(*_scenario_row(scenario))
    skipped = not_run(doc)
    for name, status, _ in skipped:
        table.add_row(Text(plain(name)), Text(status.upper()), *(Text("-") for _ in range(4)))
    console.print(table)
    for name, status, why in skipped:
        console.print(Text(f"{status}: {plain(name)} ({why})"))
    for scenario in scenarios_of(doc):
        if scenario.get("stop_reason"):
            name, reason = plain(scenario.get("name")), plain(scenario["stop_reason"])
            console.print(Text(f"scenario {name} stopped: {reason}"))
    if doc.get("health"):
        console.print(Text(f"suite health: {plain(doc['health'])} (the worst of its scenarios)"))
    style = "green" if doc.get("verdict") == "pass" else "red"
    console.print(Text(verdict_line(doc), style=f"bold {style}"))
