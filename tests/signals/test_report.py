"""Signals in the reports: summary.md and the console list them, failing ones first."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from contval.report.console import print_scenario
from contval.report.markdown import render_markdown
from contval.report.signals import signal_rows

SCENARIO: dict[str, Any] = {
    "name": "payments-down",
    "verdict": "fail",
    "thresholds": [
        {
            "expression": "signal(worker_lag) < 2s",
            "verdict": "pass",
            "observed": 0.2,
            "limit": 2.0,
            "unit": "s",
            "op": "<",
        },
        {
            "expression": "signal(queue_depth) max < 3 during down",
            "verdict": "fail",
            "observed": 48.0,
            "limit": 3.0,
            "unit": "",
            "op": "<",
            "detail": "",
        },
    ],
    "signals": {
        "worker_lag": {
            "source": "shop",
            "expression": "shop_worker_lag_seconds",
            "kind": "gauge",
            "unit": "s",
            "series": [0.05, 0.2, None],
            "no_data": [2],
            "scrapes": 6,
            "failed": 1,
            "malformed": 0,
        },
        "queue_depth": {
            "source": "shop",
            "expression": "shop_queue_depth",
            "kind": "gauge",
            "unit": None,
            "series": [1.0, 48.0, 3.0],
            "no_data": [],
            "scrapes": 6,
            "failed": 0,
            "malformed": 0,
        },
    },
}


def test_rows_put_signals_with_failing_thresholds_first() -> None:
    rows = signal_rows(SCENARIO)
    assert rows[0] == (
        "queue_depth",
        "shop_queue_depth (shop, gauge)",
        "1 – 48, last 3",
        "0",
        "1 of 1 failed",
    )
    assert rows[1] == (
        "worker_lag",
        "shop_worker_lag_seconds (shop, gauge)",
        "0.05 s – 0.2 s, last 0.2 s",
        "1 s (1 reads failed, 0 malformed)",
        "pass",
    )


def test_summary_md_and_console_list_failing_signals() -> None:
    scenario = {
        **SCENARIO,
        "workload": "w",
        "totals": {
            "requests": 1,
            "errors": 0,
            "iterations": 1,
            "dropped_iterations": 0,
            "rps": 1.0,
        },
        "flows": {},
    }
    doc = {
        "suite": "s",
        "verdict": "fail",
        "exit_code": 1,
        "complete": True,
        "scenarios": [scenario],
    }
    text = render_markdown(doc)
    assert "**Signals** (read from the system's own metrics)" in text
    assert (
        "| queue\\_depth | shop\\_queue\\_depth (shop, gauge) | 1 – 48, last 3 | 0 "
        "| 1 of 1 failed |" in text
    )
    assert "| signal(queue\\_depth) max &lt; 3 during down | 48 | &lt; 3 |" in text
    out = io.StringIO()
    print_scenario(Console(file=out, width=200), scenario)
    printed = out.getvalue()
    assert "signal(queue_depth) max < 3 during down" in printed and "1 of 1 failed" in printed
