"""Tables for the history commands (`contval baseline`, `compare`, `history`, `calibrate`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from contval.report.console import BASELINE_STYLE, metric_value, shift_text, shift_value


def baselines_table(rows: Sequence[Any]) -> Table:
    table = Table(title="baselines", title_justify="left")
    for column in ("suite", "scenario", "env", "mode", "runs", "gates?"):
        table.add_column(column)
    for row in rows:
        ready = (
            Text("yes", style="green")
            if len(row.runs) >= 3
            else Text(f"no ({len(row.runs)} of 3 runs)", style="yellow")
        )
        windows = getattr(row, "windows", None)
        if windows is not None and windows < 3:  # too short: never compared, however many runs
            ready = Text(f"no ({windows} window(s) per run, 3 needed)", style="yellow")
        scenario = getattr(row, "key", row.scenario)  # `scenario/workload`: a workload's own
        table.add_row(row.suite, scenario, row.env, row.mode, str(len(row.runs)), ready)
    return table


def runs_table(title: str, runs: Sequence[Any]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("run", "started", "label", "verdict", "duration"):
        table.add_column(column)
    for run in runs:
        table.add_row(
            run.id or "-",
            run.started_at[:19],
            run.label or "-",
            run.verdict,
            f"{run.duration_s:.0f}s",
        )
    return table


def comparisons_table(title: str, rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("", "scope", "metric", "A", "B", "shift [interval]", "verdict"):
        table.add_column(column)
    for c in rows:
        scope = "all flows" if c["flow"] == "*" else c["flow"]
        if c["phase"]:
            scope += f" ({c['phase']['phase']} {c['phase']['fault']})"
        style = BASELINE_STYLE.get(c["verdict"], "yellow")
        table.add_row(
            Text("●", style=style),
            scope,
            c["metric"],
            metric_value(c["metric"], c["baseline"]),
            metric_value(c["metric"], c["current"]),
            shift_text(c),
            Text(c["verdict"], style=style),
        )
    return table


def trend_table(title: str, rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("run", "started", "label", "verdict", "p50", "p95", "p99", "errors", "rps"):
        table.add_column(column)
    for row in rows:
        run = row["run"]
        table.add_row(
            run.id or "-",
            run.started_at[:19],
            run.label or "-",
            run.verdict,
            *(metric_value(m, row[m]) for m in ("p50", "p95", "p99", "error_rate", "rps")),
        )
    return table


def noise_table(noise: dict[str, dict[str, float | None]]) -> Table:
    table = Table(title="noise floor of an unchanged build", title_justify="left")
    for column in ("metric", "mean", "run-to-run sd", "suggested tolerance"):
        table.add_column(column)
    for metric, figures in noise.items():
        sd = figures["relative_sd"]
        table.add_row(
            metric,
            metric_value(metric, figures["mean"]),
            "-" if sd is None else shift_value(metric, sd).lstrip("+"),
            "-"
            if figures["suggested_tolerance"] is None
            else shift_value(metric, figures["suggested_tolerance"]),
        )
    return table
