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


def _chaos_doc() -> dict[str, Any]:
    depth = SCENARIO["signals"]["queue_depth"]
    scenario = {
        **SCENARIO,
        "workload": "w",
        "duration_s": 6,
        "flows": {},
        "thresholds": [
            *SCENARIO["thresholds"],
            {
                "expression": "recovery_time(signal(queue_depth)) < 5s after down",
                "verdict": "fail",
                "observed": 6000.0,
                "limit": 5000.0,
                "unit": "ms",
                "op": "<",
            },
        ],
        "signals": {
            **SCENARIO["signals"],
            "queue_depth": {**depth, "series": [1.0, 48.0, None, 30.0, 3.0, 1.0]},
        },
        "faults": [
            {"name": "down", "at_s": 1, "for_s": 2, "injected_at_s": 1.0, "reverted_at_s": 3.0}
        ],
        "baseline": {
            "verdict": "regression",
            "comparisons": [
                {
                    "flow": "*",
                    "step": None,
                    "phase": {"fault": "down", "phase": "during"},
                    "metric": "signal(queue_depth)",
                    "current": 39.0,
                    "baseline": 1.0,
                    "shift": 38.0,
                    "low": 30.0,
                    "high": 45.0,
                    "tolerance": 0.2,
                    "verdict": "regression",
                    "detail": "",
                }
            ],
        },
    }
    return {"suite": "s", "verdict": "fail", "exit_code": 1, "complete": True,
            "scenarios": [scenario]}  # fmt: skip


def test_report_html_draws_a_chart_per_signal_with_the_fault_shaded_offline() -> None:
    from contval.report.html import render_html
    from contval.report.html_signals import signal_chart

    page = render_html(_chaos_doc())
    assert page.count('<figure class="signal-chart"') == 2
    assert '<figure class="signal-chart" data-signal="queue_depth">' in page
    scenario = _chaos_doc()["scenarios"][0]
    chart = signal_chart(scenario, "queue_depth", scenario["signals"]["queue_depth"])
    assert chart.count('<rect class="fault"') == 1 and "<title>down: 1–3 s</title>" in chart
    # the second without data splits the line: seconds 0-1, then 3-5
    assert chart.count('<polyline class="series"') == 2
    assert chart.count('<line class="limit failed"') == 1  # max < 3 failed; recovery not drawn
    assert "http://" not in chart and "https://" not in chart
    assert "<script src=" not in page and "cdn" not in page.lower()
    assert "recovery_time(signal(queue_depth)) &lt; 5s after down" in page  # thresholds table
    assert "+38" in page  # a signal's shift is in its own unit, not a percentage
    blind = signal_chart(scenario, "x", {"series": [None, None]})
    assert blind == '<p class="muted">x: no data in any second.</p>'


def test_summary_md_lists_failing_signals_with_their_thresholds_and_regressions() -> None:
    text = render_markdown(_chaos_doc())
    line = next(t for t in text.splitlines() if t.startswith("**Failing signals:**"))
    assert line == (
        "**Failing signals:** `queue\\_depth`: `signal(queue\\_depth) max &lt; 3 during down`, "
        "`recovery\\_time(signal(queue\\_depth)) &lt; 5s after down`, "
        "`regression against the baseline during down`"
    )
    rows = signal_rows(_chaos_doc()["scenarios"][0])
    assert rows[0][0] == "queue_depth" and rows[0][4] == "2 of 2 failed"


def test_report_html_shows_a_signals_recovery_beside_the_flows() -> None:
    from contval.report.html_chaos import phases_html

    band = {"min": 0.0, "max": 2.0, "low": -1.0, "high": 3.0}
    phases = {
        "down": {
            "window": [1, 3],
            "recovery": {
                "total": {"status": "recovered", "seconds": 1, "window": [3, 4], "band": None},
                "flows": {},
                "signals": {
                    "queue_depth": {
                        "status": "not_recovered",
                        "seconds": 7,
                        "window": [3, 10],
                        "band": band,
                        "detail": "not recovered within the run (7s observed after down)",
                    }
                },
            },
        }
    }
    page = phases_html(phases)
    row = page.split("<b>signal(queue_depth)</b>", 1)[1].split("</tr>", 1)[0]
    assert "not recovered" in row and "&gt; 7" in row
    assert "-1 .. 3" in row and "errors ≤" not in row
    assert "(7s observed after down)" in row
