"""One real `contval run` over every hostile route, in the open and the closed model.

Each run completes with every request classified as the route table says, the worker's memory
stays bounded, and no byte a server sent (ANSI escapes, `<script>`, NUL) reaches the console or a
report unescaped.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tests.hostile.conftest import STATUS_ONLY, route_flows
from tests.hostile.server import ROUTES, HostileServer

CLOSED_MIX = ("ok", "json-deep-array", "json-deep-object", "json-huge-int", "body-ansi")
"""The closed model's flows: the bodies that killed its worker, and one that passes."""

HOSTILE_BYTES = ("\x1b", "\x00", "<script>alert", "pwned", "\ufffd")


def _suite(url: str) -> str:
    open_mix = ", ".join(f"{route}: 1" for route in ROUTES)
    closed_mix = ", ".join(f"{route}: 1" for route in CLOSED_MIX)
    return f"""version: 1
name: hostile
targets:
  app: {url}
flows:
{route_flows(ROUTES, status_only=STATUS_ONLY)}
workloads:
  open:
    executor: constant-arrival-rate
    rate: 100/s
    duration: 2s
    max_vus: 200
    mix: {{{open_mix}}}
  closed:
    executor: constant-vus
    vus: 4
    duration: 1s
    mix: {{{closed_mix}}}
pipeline: {{cooldown: 0s}}
scenarios:
  open-model: {{workload: open, thresholds: ["ok/get: error_rate == 0%"]}}
  closed-model: {{workload: closed, thresholds: ["ok/get: error_rate == 0%"]}}
"""


def _classified(scenario: dict[str, Any]) -> None:
    """Every request of every route counted under the route's class, and nowhere else."""
    expected: Counter[str] = Counter()
    for route, (_, kind) in ROUTES.items():
        flow = scenario["flows"].get(route)
        if flow is None:
            continue
        errors = flow["steps"]["get"]["errors"]
        requests = flow["steps"]["get"]["requests"]
        assert errors == (0 if kind is None else requests), (route, flow)
        if kind is not None:
            expected[kind.name.lower()] += requests
    # Arrivals dropped because every virtual user was busy are the schedule's, not a route's.
    totals = scenario["totals"]["errors_by_class"]
    by_class = {k: n for k, n in totals.items() if n and k != "dropped"}
    assert by_class == dict(expected)


def test_hostile_routes_in_a_real_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with HostileServer() as server:
        suite = tmp_path / "suite.yaml"
        suite.write_text(_suite(server.url))
        proc = subprocess.run(
            [sys.executable, "-m", "contval", "run", str(suite), "--out", str(out),
             "--workers", "1", "--no-history"],
            capture_output=True, text=True, timeout=180, errors="replace",
        )  # fmt: skip
    console = proc.stdout + proc.stderr
    assert proc.returncode == 0, console
    assert "Traceback" not in console and "never retrieved" not in console
    result = json.loads((out / "result.json").read_text())
    open_model, closed_model = result["scenarios"]
    for scenario in (open_model, closed_model):
        assert scenario["complete"] is True
        _classified(scenario)
        rss = [row["worker_rss_mb"] for row in scenario["series"]]
        assert rss and max(rss) < 200, rss
    routes_hit = {r for r in ROUTES if open_model["flows"][r]["steps"]["get"]["requests"]}
    assert len(routes_hit) >= 40
    closed = closed_model["totals"]["errors_by_class"]
    assert closed["check_error"] > 0 and closed_model["flows"]["ok"]["errors"] == 0
    for name, text in [
        ("console", console),
        *(
            (f, (out / f).read_text(errors="replace"))
            for f in ("report.html", "junit.xml", "summary.md")
        ),
    ]:
        for hostile in HOSTILE_BYTES:
            if hostile == "pwned":
                # a failed check's actual value may show the escape that would set a terminal's
                # title as escaped text (`\\x1b]0;pwned`); the escape itself never (ESC is checked)
                assert "\x1b" not in text, name
                continue
            if name == "console" and hostile == "<script>alert":
                continue  # an actual value shown as text: a terminal runs no HTML
            assert hostile not in text, (name, hostile)
