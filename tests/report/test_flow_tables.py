"""Tables of flows and steps (issue 10 §4): in the order the suite declares them, in
result.json, the console and report.html alike; and a flow's row means the same in the
console and report.html: its requests' latency over all its steps (the iteration's duration,
think time included, is its own `iteration p95` column)."""

from __future__ import annotations

import io
import re

from rich.console import Console

from contval.metrics import Recorder, Series
from contval.report.console import flows_table
from contval.report.html_scenario import flows_html
from contval.report.result import FlowSeries, flows_dict, step_order
from contval.spec import load_suite_text

SUITE = """
version: 1
name: order
targets: {app: "http://127.0.0.1:8000"}
flows:
  zeta:
    target: app
    steps:
      - {name: zz-first, request: GET /a}
      - {think: 1s}
      - {include: common}
      - {name: aa-last, request: GET /b}
  common:
    target: app
    steps: [{name: mm-middle, request: GET /c}]
workloads:
  w: {executor: constant-vus, vus: 1, duration: 1s, mix: {zeta: 1}}
scenarios:
  s: {workload: w}
"""


def _series() -> Series:
    """Steps recorded in an order unlike the declared one; zeta's iterations take 1.5 s."""
    rec = Recorder()
    for step, ms in (("aa-last", 40.0), ("mm-middle", 20.0), ("zz-first", 10.0)):
        slot = rec.slot("zeta", step)
        for _ in range(10):
            slot.request(ms / 1000)
    for _ in range(10):
        rec.slot("zeta").iteration(1.5)
    rec.slot("common", "mm-middle").request(0.005)
    return Series([rec.snapshot(0)])


def _flows() -> dict[str, object]:
    suite = load_suite_text(SUITE)
    kinds = {name: flow.kind for name, flow in suite.flows.items()}
    return flows_dict(_series(), kinds, step_order(suite.flows))


def test_step_order_follows_the_flow_and_its_includes() -> None:
    suite = load_suite_text(SUITE)
    assert step_order(suite.flows) == {
        "zeta": ["zz-first", "mm-middle", "aa-last"],
        "common": ["mm-middle"],
    }


def test_result_json_lists_flows_and_steps_in_declared_order() -> None:
    flows = _flows()
    assert list(flows) == ["zeta", "common"]  # not alphabetical
    zeta = flows["zeta"]
    assert isinstance(zeta, dict)
    assert list(zeta["steps"]) == ["zz-first", "mm-middle", "aa-last"]


def _console_rows(scenario: dict[str, object]) -> list[list[str]]:
    console = Console(file=io.StringIO(), width=200, no_color=True)
    console.print(flows_table(scenario))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return [
        [c.strip() for c in line.strip("│").split("│")]
        for line in text.splitlines()
        if line.startswith("│")
    ]


def test_console_and_html_show_the_same_rows_in_the_same_order() -> None:
    scenario: dict[str, object] = {"name": "s", "flows": _flows()}
    rows = _console_rows(scenario)
    assert [r[0] for r in rows] == [
        "zeta (10 iterations, user)",
        "zz-first",
        "mm-middle",
        "aa-last",
        "common (0 iterations, user)",
        "mm-middle",
    ]
    page = flows_html(scenario)
    names = re.findall(r"<b>([^<]+)</b>|↳ ([^<]+)</span>", page)
    expected = ["zeta", "zz-first", "mm-middle", "aa-last", "common", "mm-middle"]
    assert [a or b for a, b in names] == expected


def test_a_flow_row_is_its_request_latency_in_both_and_the_iteration_is_apart() -> None:
    flows = _flows()
    zeta = flows["zeta"]
    assert isinstance(zeta, dict)
    latency_p95 = zeta["latency"]["p95"]  # all zeta's requests: 40 ms is the top 33 %
    assert 39.9 <= latency_p95 <= 40.1
    console = _console_rows({"name": "s", "flows": flows})[0]
    headers = ["p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms", "iteration p95 ms"]
    cells = dict(zip(headers, console[5:], strict=True))
    assert cells["p95 ms"] == "40.0"
    assert cells["iteration p95 ms"] == "1500"
    page = flows_html({"name": "s", "flows": flows})
    zeta_row = page[page.index("<b>zeta</b>") : page.index("</tr>", page.index("<b>zeta</b>"))]
    cells_html = re.findall(r"<td[^>]*>([^<]*)</td>", zeta_row)
    assert cells_html[-5:] == ["20.0 ms", "40.0 ms", "40.0 ms", "40.0 ms", "1500 ms"]


def test_per_flow_series_for_the_charts_follow_the_same_order() -> None:
    series = FlowSeries()
    for snapshot in _series().snapshots():
        series.add(snapshot)
    assert list(series.to_dict(["zeta", "common"])) == ["zeta", "common"]
