"""The baseline gate on synthetic runs: no baseline is never green, an unchanged build passes,
a 30 % slower flow is a regression on that flow only, and every verdict names its baseline."""

from __future__ import annotations

import random
from pathlib import Path

from contval.metrics import Recorder, Series
from contval.pipeline.gate import GateOptions, run_gate
from contval.spec import load_suite_text
from tests.engine.target import Target

SUITE = """version: 1
name: gate-test
targets: {app: "http://127.0.0.1:9"}
flows:
  fast:
    target: app
    steps: [{name: get, request: GET /fast, check: {status: 200}}]
  slow:
    target: app
    steps: [{name: get, request: GET /slow, check: {status: 200}}]
workloads:
  load: {executor: constant-arrival-rate, rate: 20/s, duration: 60s, mix: {fast: 1, slow: 1}}
scenarios:
  main: {workload: load}
"""


def synthetic_run(
    seed: int, slow_factor: float = 1.0, seconds: int = 60, slow_during: tuple[int, int] = (0, 60)
) -> Series:
    """Two flows, 50 requests/s each; latencies lognormal with a per-run effect. `slow` is
    `slow_factor` times slower during the seconds [slow_during)."""
    rng = random.Random(seed)
    run_effect = rng.lognormvariate(0, 0.02)
    recorder = Recorder()
    fast, slow = recorder.slot("fast", "get"), recorder.slot("slow", "get")
    series = Series()
    for second in range(seconds):
        for _ in range(50):
            fast.request(0.010 * run_effect * rng.lognormvariate(0, 0.1))
            factor = slow_factor if slow_during[0] <= second < slow_during[1] else 1.0
            slow.request(0.050 * factor * run_effect * rng.lognormvariate(0, 0.1))
        series.add(recorder.snapshot(second))
    return series


def gate(tmp_path: Path, series: Series, verdict: str = "pass") -> dict:  # type: ignore[type-arg]
    suite = load_suite_text(SUITE)
    options = GateOptions(store=str(tmp_path / "history.db"), env="test", label="v1")
    result = run_gate(options, suite, "main", series, {}, [], verdict, 0.0, 60.0)
    return result.to_dict()


def test_no_baseline_is_never_a_pass(tmp_path: Path) -> None:
    first = gate(tmp_path, synthetic_run(1))
    assert first["verdict"] == "no_baseline"
    assert first["baseline_runs"] == [] and first["run_id"]
    assert "no baseline yet: 0 comparable passing run(s), 3 needed" in first["detail"]


def test_unchanged_build_passes_and_a_slower_flow_is_flagged(tmp_path: Path) -> None:
    ids = [gate(tmp_path, synthetic_run(seed))["run_id"] for seed in range(8)]
    same = gate(tmp_path, synthetic_run(100))
    assert same["verdict"] in ("pass", "improvement"), [
        (c["flow"], c["metric"], c["verdict"], c["detail"]) for c in same["comparisons"]
    ]
    assert set(same["baseline_runs"]) == set(ids) and same["mode"] == "rolling"
    slower = gate(tmp_path, synthetic_run(101, slow_factor=1.3))
    assert slower["verdict"] == "regression"
    flagged = {
        (c["flow"], c["metric"]) for c in slower["comparisons"] if c["verdict"] == "regression"
    }
    assert ("slow", "p50") in flagged and ("slow", "p95") in flagged
    assert not any(flow == "fast" for flow, _ in flagged)


def test_failed_runs_never_enter_the_rolling_baseline(tmp_path: Path) -> None:
    for seed in range(3):
        gate(tmp_path, synthetic_run(seed), verdict="fail")
    assert gate(tmp_path, synthetic_run(9))["verdict"] == "no_baseline"


def test_run_records_history_and_require_baseline_fails_without_one(
    tmp_path: Path, target: Target
) -> None:
    import json
    import subprocess
    import sys

    from tests.engine.test_run import constant_rate, one_step, write_suite

    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("20/s", "2s"))
    store = tmp_path / "h.db"
    base = [
        sys.executable,
        "-m",
        "contval",
        "run",
        str(suite),
        "--workers",
        "1",
        "--store",
        str(store),
        "--env",
        "ci",
        "--label",
        "build-1",
    ]
    first = subprocess.run(
        [*base, "--out", str(tmp_path / "a")], capture_output=True, text=True, timeout=120
    )
    strict = subprocess.run(
        [*base, "--out", str(tmp_path / "b"), "--require-baseline"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 6, first.stdout  # no thresholds, no baseline: nothing judged
    assert "baseline (rolling): NO BASELINE YET" in first.stdout
    assert "scenario main: NOT GATED" in first.stdout
    result = json.loads((tmp_path / "a" / "result.json").read_text())
    assert (result["verdict"], result["exit_code"]) == ("not_gated", 6)
    assert result["scenarios"][0]["verdict"] == "not_gated"
    baseline = result["scenarios"][0]["baseline"]
    assert baseline["verdict"] == "no_baseline" and baseline["run_id"].startswith("r-")
    assert baseline["accepted"] is True  # a baseline has to start somewhere
    allowed = subprocess.run(
        [*base, "--out", str(tmp_path / "c"), "--allow-ungated"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert allowed.returncode == 0, allowed.stdout
    assert strict.returncode == 5, strict.stdout
    strict_result = json.loads((tmp_path / "b" / "result.json").read_text())
    assert strict_result["exit_code"] == 5 and strict_result["verdict"] == "fail"

    from contval.baseline.store import HistoryStore

    history = HistoryStore(store)
    runs = history.runs(env="ci")
    history.close()
    assert len(runs) == 3 and {r.label for r in runs} == {"build-1"}


def test_thresholds_that_name_the_baseline(tmp_path: Path) -> None:
    from contval.pipeline.verdict import baseline_figures
    from contval.thresholds import evaluate, parse_threshold

    for seed in range(8):
        gate(tmp_path, synthetic_run(seed))
    slower = synthetic_run(200, slow_factor=1.3)
    figures = baseline_figures(gate(tmp_path, slower, verdict="fail"))
    within = parse_threshold("fast: p95(latency) < baseline + 10%")
    beyond = parse_threshold("slow: p95(latency) < baseline + 10%")
    shift = parse_threshold("slow: regression(p95) < 15%")
    assert evaluate(within, slower, baseline=figures).verdict == "pass"
    failed = evaluate(beyond, slower, baseline=figures)
    assert failed.verdict == "fail" and len(failed.baseline_runs) == 8
    assert evaluate(shift, slower, baseline=figures).verdict == "fail"


def test_a_baseline_threshold_without_a_baseline_fails_the_run(
    tmp_path: Path, target: Target
) -> None:
    import json
    import subprocess
    import sys

    from tests.engine.test_run import constant_rate, one_step, write_suite

    suite = write_suite(
        tmp_path,
        target.url,
        one_step("/ok"),
        constant_rate("20/s", "2s"),
        "'p95(latency) < baseline + 50%', 'error_rate < 1%'",
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "contval",
            "run",
            str(suite),
            "--workers",
            "1",
            "--store",
            str(tmp_path / "h.db"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout
    scenario = json.loads((tmp_path / "out" / "result.json").read_text())["scenarios"][0]
    first, second = scenario["thresholds"]
    assert (first["verdict"], first["detail"]) == ("no_data", "no baseline yet")
    assert second["verdict"] == "pass" and scenario["verdict"] == "fail"


def test_tolerances_are_settable_per_scenario(tmp_path: Path) -> None:
    text = SUITE.replace(
        "  main: {workload: load}",
        "  main: {workload: load, baseline: {p50: 50%, p95: 50%, p99: 50%, min_runs: 4}}",
    )
    suite = load_suite_text(text)
    policy = suite.scenarios["main"].baseline
    assert policy.tolerances() == {"p50": 0.5, "p95": 0.5, "p99": 0.5} and policy.min_runs == 4
    assert policy.latency_floor == 0.002  # the default: 2 ms
    floored = load_suite_text(text.replace("min_runs: 4", "min_runs: 4, latency_floor: 0s"))
    assert floored.scenarios["main"].baseline.latency_floor == 0.0
    options = GateOptions(store=str(tmp_path / "history.db"), env="test")
    for seed in range(3):
        run_gate(options, suite, "main", synthetic_run(seed), {}, [], "pass", 0.0, 60.0)
    early = run_gate(options, suite, "main", synthetic_run(3), {}, [], "pass", 0.0, 60.0)
    assert early.outcome == "no_baseline" and "4 needed" in early.detail
    for seed in range(4, 9):
        run_gate(options, suite, "main", synthetic_run(seed), {}, [], "pass", 0.0, 60.0)
    slower = run_gate(
        options, suite, "main", synthetic_run(99, slow_factor=1.3), {}, [], "pass", 0.0, 60.0
    )
    assert slower.outcome != "regression"  # +30 % is inside a 50 % tolerance
    assert {c["tolerance"] for c in slower.comparisons if c["metric"] == "p95"} == {0.5}


def test_bad_policy_is_a_suite_error() -> None:
    import pytest

    from contval.spec import SuiteInvalid

    text = SUITE.replace("  main: {workload: load}", "  main: {workload: load, baseline: {p95: x}}")
    with pytest.raises(SuiteInvalid) as info:
        load_suite_text(text)
    assert "invalid percentage 'x'" in str(info.value.errors[0])


def test_chaos_scenarios_compare_each_phase_with_the_same_phase(tmp_path: Path) -> None:
    suite = load_suite_text(SUITE)
    options = GateOptions(store=str(tmp_path / "history.db"), env="test")
    faults = {"f": (20, 40)}

    for seed in range(6):
        run_gate(options, suite, "main", synthetic_run(seed), faults, [], "pass", 0.0, 60.0)
    worse = run_gate(
        options,
        suite,
        "main",
        synthetic_run(50, slow_factor=1.4, slow_during=(20, 40)),
        faults,
        [],
        "pass",
        0.0,
        60.0,
    )
    flagged = {
        (c["flow"], c["phase"]["phase"])
        for c in worse.comparisons
        if c["verdict"] == "regression" and c["phase"]
    }
    assert ("slow", "during") in flagged
    assert not any(phase in ("before", "after") for _, phase in flagged)
    phases = {c["phase"]["phase"] for c in worse.comparisons if c["phase"]}
    assert phases == {"before", "during", "after"}
