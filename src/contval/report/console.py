"""The console: a live progress line while a scenario runs, then tables per flow and step and
the thresholds' verdicts. On a terminal the line rewrites itself; in a CI log it prints every
few seconds, so logs stay readable.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

LOG_EVERY = 10  # seconds between progress lines when not on a terminal


def _num(value: float) -> str:
    """Readable numbers: 0.5, 26.78, 1,925, 10,000 (never exponent notation)."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _with_unit(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return _num(value) if unit == "count" else f"{_num(value)} {unit}"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


class Progress:
    """One line: elapsed/total, rate, active iterations, errors, p95 so far."""

    def __init__(self, console: Console, scenario: str, total: float) -> None:
        self.console = console
        self.scenario = scenario
        self.total = total
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
        text = (
            f"{self.scenario}  {elapsed:>4}s/{self.total:.0f}s  {row['requests']:>6}/s  "
            f"active {row['active']:>4}  errors {self.errors} ({rate:.2f}%)  "
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


def flows_table(scenario: dict[str, Any]) -> Table:
    table = Table(title=f"scenario {scenario['name']}", title_justify="left", expand=False)
    for column in ("flow / step", "requests", "errors", "rps"):
        table.add_column(column, justify="left" if column == "flow / step" else "right")
    for column in ("p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="right")
    for name, flow in scenario["flows"].items():
        d = flow["duration"]
        table.add_row(
            Text(f"{name} ({flow['iterations']} iterations, {flow['kind']})", style="bold"),
            str(flow["requests"]),
            _errors(flow["errors"], flow["requests"]),
            f"{flow['rps'] or 0:.1f}",
            *(fmt_ms(d[k]) for k in ("p50", "p90", "p95", "p99", "max")),
        )
        for step_name, step in flow["steps"].items():
            lat = step["duration"] or step["latency"]
            table.add_row(
                f"  {step_name}",
                str(step["requests"]),
                _errors(step["errors"], step["requests"]),
                f"{step['rps'] or 0:.1f}",
                *(fmt_ms(lat[k]) for k in ("p50", "p90", "p95", "p99", "max")),
            )
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
        observed = "no data" if r["observed"] is None else _with_unit(r["observed"], r["unit"])
        if r.get("window") and r["window"][1] > r["window"][0]:
            observed += f" (worst window {r['window'][0]}–{r['window'][1]}s)"
        table.add_row(
            Text(symbol, style=style), r["expression"], observed, _with_unit(r["limit"], r["unit"])
        )
    return table


def print_scenario(console: Console, scenario: dict[str, Any]) -> None:
    console.print(flows_table(scenario))
    totals = scenario["totals"]
    console.print(
        f"requests {totals['requests']}  errors {totals['errors']}  "
        f"iterations {totals['iterations']}  dropped {totals['dropped_iterations']}  "
        f"rps {totals['rps'] or 0:.1f}",
        highlight=False,
    )
    table = thresholds_table(scenario["thresholds"])
    if table is not None:
        console.print(table)
    if scenario.get("baseline"):
        print_baseline(console, scenario["baseline"])
    verdict = scenario["verdict"]
    style = "green" if verdict == "pass" else "red"
    reason = f" ({scenario['stop_reason']})" if scenario.get("stop_reason") else ""
    console.print(Text(f"scenario {scenario['name']}: {verdict.upper()}{reason}", style=style))


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
            Text(
                "✗" if c["verdict"] == "regression" else "~",
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
    if metric == "error_rate":
        return f"{value * 100:.2f}%"
    if metric == "rps":
        return f"{value:.1f}/s"
    return f"{fmt_ms(value)} ms"


def shift_value(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 100:+.2f} pp" if metric == "error_rate" else f"{value * 100:+.1f}%"


def shift_text(c: dict[str, Any]) -> str:
    metric = c["metric"]
    return (
        f"{shift_value(metric, c['shift'])} "
        f"[{shift_value(metric, c['low'])}, {shift_value(metric, c['high'])}]"
    )
