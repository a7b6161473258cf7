"""Whole-suite runs (issue 6): order, stop_on_failure, cool-downs with a health probe, health
and per-flow series in result.json, the suite run kept in the history, and the exit code of
every combination of scenario outcomes."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from contval.exitcodes import SEVERITY, ExitCode, worst
from contval.pipeline.cooldown import Clock, ask, cool_down
from contval.spec import load_suite
from tests.engine.target import Target

CLI = [sys.executable, "-m", "contval"]


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds

    def clock(self) -> Clock:
        return Clock(self.now, self.sleep)


def suite_text(url: str, pipeline: str, scenarios: dict[str, str]) -> str:
    """Scenarios by name → threshold; each runs 2 s of one flow against the test target."""
    body = "".join(
        f"  {name}:\n    workload: load\n    thresholds: ['{threshold}']\n"
        for name, threshold in scenarios.items()
    )
    return f"""version: 1
name: suite-run-test
targets:
  app: {url}
flows:
  browse:
    target: app
    steps:
      - name: get
        request: GET /ok
        check: {{status: 200}}
  buy:
    target: app
    steps:
      - name: pay
        request: GET /ok
workloads:
  load:
    executor: constant-arrival-rate
    rate: 40/s
    duration: 2s
    max_vus: 20
    mix: {{browse: 3, buy: 1}}
scenarios:
{body}pipeline:
{pipeline}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    return path


def run(
    suite: Path, out: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [*CLI, "run", str(suite), "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**_env(), "NO_COLOR": "1", **(env or {})},
    )
    return proc.returncode, json.loads((out / "result.json").read_text()), proc.stdout + proc.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}


# -- the cool-down, on a fake clock against a real HTTP server -------------------------------


def cooldown_suite(tmp_path: Path, url: str, pipeline: str) -> Any:
    return load_suite(write(tmp_path, suite_text(url, pipeline, {"a": "error_rate < 1%"})))


def test_cooldown_waits_and_reports_a_healthy_probe(tmp_path: Path, target: Target) -> None:
    suite = cooldown_suite(
        tmp_path, target.url, "  cooldown: 5s\n  health: {target: app, path: /ok}"
    )
    fake = FakeClock()
    entry = cool_down(suite, lambda: False, fake.clock())
    assert entry == {
        "seconds": 5.0,
        "settled": True,
        "probe": f"GET {target.url}/ok",
        "detail": "200 since 0.0s",
    }
    assert target.seen.paths["/ok"] == 6  # asked every second, at 0 … 5 s


def test_cooldown_reports_a_system_that_did_not_settle(tmp_path: Path, target: Target) -> None:
    suite = cooldown_suite(
        tmp_path, target.url, "  cooldown: 3s\n  health: {target: app, path: /error}"
    )
    fake = FakeClock()
    entry = cool_down(suite, lambda: False, fake.clock())
    # 3 s of cool-down, then up to max(3 s, 5 s) more for the probe to turn healthy.
    assert entry["settled"] is False and entry["seconds"] == 8.0
    assert entry["detail"] == "not healthy after 8.0s: last answer 500"


def test_cooldown_ends_once_the_probe_turns_healthy(tmp_path: Path, target: Target) -> None:
    suite = cooldown_suite(tmp_path, target.url, "  cooldown: 2s\n  health: {target: app}")
    fake = FakeClock()

    def recovering(url: str) -> tuple[int | None, str]:
        # the real server answers /health with 404 (unhealthy) until 6 s, then /ok
        late = fake.t - 1000.0 >= 6
        return ask(url.replace("/health", "/ok") if late else url)

    entry = cool_down(suite, lambda: False, fake.clock(), recovering)
    assert entry["settled"] is True and entry["seconds"] == 6.0
    assert entry["detail"] == "200 since 6.0s"


def test_cooldown_without_probe_and_when_stopped(tmp_path: Path, target: Target) -> None:
    suite = cooldown_suite(tmp_path, target.url, "  cooldown: 4s")
    fake = FakeClock()
    entry = cool_down(suite, lambda: False, fake.clock())
    assert (entry["seconds"], entry["settled"], entry["probe"]) == (4.0, None, None)
    stopped = cool_down(suite, lambda: True, FakeClock().clock())
    assert stopped["seconds"] == 0.0


def test_probe_of_nothing_listening_is_unhealthy() -> None:
    status, text = ask("http://127.0.0.1:9/health", timeout=1)
    assert status is None and text


# -- whole-suite runs ---------------------------------------------------------------------------


def test_suite_runs_in_pipeline_order_and_stops_on_failure(tmp_path: Path, target: Target) -> None:
    text = suite_text(
        target.url,
        "  order: [second, first, third]\n  stop_on_failure: true\n  cooldown: 1s\n"
        "  health: {target: app, path: /ok}",
        {
            "first": "browse: p95(latency) < 1ms",  # fails: loopback is not that fast
            "second": "browse: p95(latency) < 2s warn 1us",  # passes, degraded
            "third": "error_rate < 1%",
        },
    )
    out = tmp_path / "out"
    code, result, output = run(write(tmp_path, text), out, "--store", str(tmp_path / "h.db"))
    assert code == ExitCode.THRESHOLD_FAILED, output
    assert [s["name"] for s in result["scenarios"]] == ["second", "first"]
    assert result["pipeline"] == {
        "order": ["second", "first", "third"],
        "stop_on_failure": True,
        "skipped": ["third"],
        "stopped_after": "first",
    }
    assert "stop_on_failure: skipping third" in output
    second, first = result["scenarios"]
    assert second["cooldown"] is None
    assert first["cooldown"]["settled"] is True
    assert first["cooldown"]["probe"] == f"GET {target.url}/ok"
    assert 1.0 <= first["cooldown"]["seconds"] <= 3.0
    # health: `second` passes its limit but not its warning level in every window
    assert second["thresholds"][0]["state"] == "degraded"
    assert second["thresholds"][0]["warn"] == 0.001
    assert second["health"]["worst"] == "degraded"
    assert set(second["health"]["flows"]) == {"browse", "buy"}
    assert second["health"]["flows"]["buy"]["worst"] == "healthy"  # browse-only threshold
    assert first["health"]["flows"]["browse"]["worst"] == "unhealthy"
    assert result["health"] == "unhealthy"
    # per-flow series: one value per second, adding up to the flow's requests
    for scenario in result["scenarios"]:
        for flow, columns in scenario["flow_series"].items():
            assert len(columns["t"]) == len(columns["p95_ms"]) == len(scenario["series"])
            assert sum(columns["requests"]) == scenario["flows"][flow]["requests"]
    assert result["run_id"].startswith("s-") and result["env"] == "local"
    for name in ("report.html", "junit.xml", "summary.md"):
        assert (out / name).stat().st_size > 0, name


def test_reports_remade_from_the_store_equal_the_run_time_ones(
    tmp_path: Path, target: Target
) -> None:
    text = suite_text(target.url, "  cooldown: 0s", {"only": "error_rate < 1%"})
    out, store = tmp_path / "out", str(tmp_path / "h.db")
    step_summary = tmp_path / "step-summary.md"
    step_summary.write_text("earlier step\n")
    env = {"GITHUB_STEP_SUMMARY": str(step_summary)}
    code, result, output = run(write(tmp_path, text), out, "--store", store, env=env)
    assert code == ExitCode.OK, output
    assert "\x1b[" not in output  # no TTY, NO_COLOR: a CI log without escape codes
    appended = step_summary.read_text()
    assert appended.startswith("earlier step\n")
    assert appended.endswith((out / "summary.md").read_text())
    assert f"job summary: appended to {step_summary}" in output
    assert f"contval report {result['run_id']}" in output
    scenario_run = result["scenarios"][0]["baseline"]["run_id"]
    for ref in (result["run_id"], scenario_run):
        again = tmp_path / f"again-{ref}"
        proc = subprocess.run(
            [*CLI, "report", ref, "--store", store, "--out", str(again)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        for name in ("report.html", "junit.xml", "summary.md"):
            assert (again / name).read_bytes() == (out / name).read_bytes(), name
    only_junit = tmp_path / "junit-only"
    subprocess.run(
        [*CLI, "report", str(out), "--junit", "--out", str(only_junit)], check=True, timeout=60
    )
    assert sorted(p.name for p in only_junit.iterdir()) == ["junit.xml"]
    missing = subprocess.run(
        [*CLI, "report", "s-nope", "--store", store], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == ExitCode.INVALID_INPUT
    assert "no suite run or scenario run s-nope" in missing.stderr


# -- exit codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), list(itertools.product(ExitCode, repeat=2)))
def test_every_pair_of_outcomes_exits_with_the_more_urgent(a: ExitCode, b: ExitCode) -> None:
    expected = a if SEVERITY.index(a) <= SEVERITY.index(b) else b
    assert worst(a, b) is expected is worst(b, a)
    assert worst(a, b, ExitCode.OK) is expected


@pytest.mark.parametrize(
    ("thresholds", "args", "expected"),
    [
        (("error_rate < 1%", "error_rate < 1%"), (), ExitCode.OK),
        (("error_rate < 1%", "p95(latency) < 1us"), (), ExitCode.THRESHOLD_FAILED),
        (("error_rate < 1%", "error_rate < 1%"), ("--require-baseline",), ExitCode.REGRESSION),
        (("p95(latency) < 1us", "error_rate < 1%"), ("--require-baseline",), 1),
    ],
    ids=["pass+pass", "pass+fail", "no-baseline+no-baseline", "fail+no-baseline"],
)
def test_suite_exit_code_is_the_worst_scenarios(
    tmp_path: Path,
    target: Target,
    thresholds: tuple[str, str],
    args: tuple[str, ...],
    expected: int,
) -> None:
    text = suite_text(target.url, "  cooldown: 0s", dict(zip(("a", "b"), thresholds, strict=True)))
    out = tmp_path / "out"
    code, result, output = run(write(tmp_path, text), out, "--store", str(tmp_path / "h.db"), *args)
    assert code == expected, output
    assert result["exit_code"] == expected
    assert result["verdict"] == ("pass" if expected == 0 else "fail")
    assert len(result["scenarios"]) == 2  # no stop_on_failure: both ran
