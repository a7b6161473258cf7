"""One owner of the verdict: typed stops, the final verdict recorded once, failed runs kept out
of the baseline, windows planned from the schedule, outages, open-model throughput, not gated."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from rich.console import Console

from contval.baseline.store import HistoryStore
from contval.chaos.timeline import timeline
from contval.engine.local import RunOutcome
from contval.exitcodes import ExitCode
from contval.metrics import Recorder, Series
from contval.pipeline.gate import (
    GateOptions,
    gate_blind_spot,
    gate_warnings,
    plan_gate,
    run_gate,
    window_size,
)
from contval.pipeline.options import RunOptions
from contval.pipeline.scenario import ScenarioRun
from contval.pipeline.verdict import Stop, StopCause, decide, note, stop_cause, suite_code
from contval.spec import Suite, load_suite_text
from contval.thresholds import evaluate_all, parse_threshold
from tests.pipeline.test_gate import SUITE, synthetic_run


def store_of(tmp_path: Path) -> str:
    return str(tmp_path / "history.db")


def scenario_run(
    tmp_path: Path, suite: Suite, series: Series, thresholds: list[str], **gate: Any
) -> tuple[ScenarioRun, RunOutcome]:
    """A finished scenario as `run_scenario` leaves it for the verdict, from a synthetic series."""
    options = RunOptions(
        tmp_path / "suite.yaml",
        suite,
        ("main",),
        tmp_path / "out",
        1,
        gate=GateOptions(store=store_of(tmp_path), env="test", label="v1", **gate),
    )
    parsed = [parse_threshold(t) for t in thresholds]
    entry: dict[str, Any] = {
        "name": "main",
        "duration_s": series.end,
        "thresholds": [r.to_dict() for r in evaluate_all(parsed, series)],
    }
    run = ScenarioRun(options, "main", entry, parsed, timeline(suite.scenarios["main"], suite))
    return run, RunOutcome(series, started_at=1_000.0)


def fill(tmp_path: Path, suite: Suite, runs: int, **kwargs: Any) -> list[str]:
    options = GateOptions(store=store_of(tmp_path), env="test")
    return [
        run_gate(
            options, suite, "main", synthetic_run(s, **kwargs), {}, [], "pass", 0.0, 60.0
        ).run_id
        or ""
        for s in range(runs)
    ]


def stored(tmp_path: Path, run_id: str) -> tuple[str, bool]:
    with HistoryStore(store_of(tmp_path)) as history:
        meta = history.run(run_id)
    return meta.verdict, meta.accepted


def test_a_run_failed_by_a_baseline_threshold_is_recorded_as_failed(tmp_path: Path) -> None:
    """6 % slower: inside the gate's 10 % tolerance (no regression), beyond the threshold's 3 %.
    Before: the run was recorded as accepted and joined the next rolling baseline."""
    suite = load_suite_text(SUITE)
    base = fill(tmp_path, suite, 8)
    series = synthetic_run(77, slow_factor=1.06)
    run, outcome = scenario_run(tmp_path, suite, series, ["slow: p50(latency) < baseline + 3%"])
    code = decide(run, outcome, {}, Console())
    gate = run.entry["baseline"]
    assert gate["verdict"] != "regression"
    assert (run.entry["verdict"], code) == ("fail", ExitCode.THRESHOLD_FAILED)
    assert run.entry["thresholds"][0]["verdict"] == "fail"
    assert stored(tmp_path, gate["run_id"]) == ("fail", False) and gate["accepted"] is False
    with HistoryStore(store_of(tmp_path)) as history:
        rolling = history.baseline(suite.name, "main", "test", gate["fingerprint"])
    assert gate["run_id"] not in rolling.run_ids and set(rolling.run_ids) == set(base)


def test_stops_are_typed_and_the_first_cause_wins(tmp_path: Path) -> None:
    suite = load_suite_text(SUITE)
    run, outcome = scenario_run(tmp_path, suite, synthetic_run(1), [])
    assert stop_cause(run, outcome, None) == StopCause(Stop.COMPLETED, None)
    assert stop_cause(run, outcome, "interrupted by SIGINT").kind == Stop.INTERRUPTED
    outcome.stop_reason = "interrupted"  # the controller stopped, and nothing says why
    assert stop_cause(run, outcome, None) == StopCause(Stop.INTERRUPTED, "interrupted")
    outcome.stop_reason = None
    note(run, Stop.ABORTED, "aborted: `error_rate < 1%` failed")
    note(run, Stop.CHAOS_FAILED, "chaos failed: later, an echo")
    assert stop_cause(run, outcome, "interrupted by SIGTERM") == StopCause(
        Stop.ABORTED, "aborted: `error_rate < 1%` failed"
    )
    outcome.failures.append("worker 0 died")
    assert stop_cause(run, outcome, None).kind == Stop.WORKER_FAILED


def test_an_aborted_run_fails_is_incomplete_and_never_joins(tmp_path: Path) -> None:
    suite = load_suite_text(SUITE)
    fill(tmp_path, suite, 3)
    run, outcome = scenario_run(tmp_path, suite, synthetic_run(5), ["error_rate < 50%"])
    note(run, Stop.ABORTED, "aborted: `error_rate < 50%` failed (observed 60 %)")
    code = decide(run, outcome, {}, Console())
    assert code == ExitCode.THRESHOLD_FAILED
    assert (run.entry["verdict"], run.entry["complete"], run.entry["stop"]) == (
        "fail",
        False,
        "aborted",
    )
    assert stored(tmp_path, run.entry["baseline"]["run_id"]) == ("fail", False)


def test_nothing_judged_is_not_gated_and_the_suite_exits_6(tmp_path: Path) -> None:
    suite = load_suite_text(SUITE)
    run, outcome = scenario_run(tmp_path, suite, synthetic_run(1), [])
    code = decide(run, outcome, {}, Console())
    assert (run.entry["verdict"], code) == ("not_gated", ExitCode.OK)
    assert run.entry["baseline"]["accepted"] is True  # the first runs build the baseline
    assert suite_code(ExitCode.OK, [run.entry], allow_ungated=False) == ExitCode.NOT_GATED
    assert suite_code(ExitCode.OK, [run.entry], allow_ungated=True) == ExitCode.OK
    judged = {"verdict": "pass"}
    assert suite_code(ExitCode.OK, [run.entry, judged], allow_ungated=False) == ExitCode.OK
    fill(tmp_path, suite, 3)
    again, outcome = scenario_run(tmp_path, suite, synthetic_run(9), [])
    decide(again, outcome, {}, Console())
    assert again.entry["verdict"] == "pass"  # a baseline judged it


SHORT = SUITE.replace("duration: 60s", "duration: 15s")


def test_a_15s_scenario_is_gated(tmp_path: Path) -> None:
    suite = load_suite_text(SHORT)
    plan = plan_gate(suite, "main")
    assert (plan.duration, plan.size, plan.open_model) == (15, 3, True)
    options = GateOptions(store=store_of(tmp_path), env="test")
    for seed in range(4):
        series = synthetic_run(seed, seconds=17)  # two seconds of drain: not on the grid
        first = run_gate(options, suite, "main", series, {}, [], "pass", 0.0, 15.0)
    assert first.outcome != "no_baseline", first.detail
    with HistoryStore(store_of(tmp_path)) as history:
        grid = {(w.t0, w.t1) for w in history.windows(first.run_id or "")}
    assert grid == {(0, 3), (3, 6), (6, 9), (9, 12), (12, 15)}


def test_window_sizes_adapt_to_the_plan() -> None:
    assert [window_size(d, {}) for d in (3, 9, 15, 40, 60, 600)] == [1, 1, 3, 8, 10, 10]
    assert window_size(60, {"f": (20, 40)}) == 6  # 20 s phases: 3 windows of 6 s at least
    assert window_size(60, {"f": (5, 55)}) == 1  # a 5 s phase: 1 s windows


def test_no_baseline_states_its_real_reason_and_validate_warns(tmp_path: Path) -> None:
    suite = load_suite_text(SUITE.replace("duration: 60s", "duration: 2s"))
    assert "its load lasts 2s" in (gate_blind_spot(suite, "main") or "")
    assert gate_warnings(suite) == [
        "scenario `main` cannot be gated against a baseline: its load lasts 2s: the baseline "
        "gate needs 3 windows of at least 1s, so it can never compare it (make the workload 3s "
        "or longer)"
    ]
    assert gate_warnings(load_suite_text(SHORT)) == []
    options = GateOptions(store=store_of(tmp_path), env="test")
    for seed in range(4):
        result = run_gate(
            options, suite, "main", synthetic_run(seed, seconds=2), {}, [], "pass", 0.0, 2.0
        )
    assert result.outcome == "no_baseline"
    assert result.detail == ("cannot compare with 3 baseline run(s): 2 windows, 3 needed to gate")


def test_validate_prints_the_warning(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from contval.cli import app

    path = tmp_path / "suite.yaml"
    path.write_text(SUITE.replace("duration: 60s", "duration: 2s"))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning: scenario `main` cannot be gated against a baseline" in result.output


def outage_run(seed: int, dark: tuple[int, int]) -> Series:
    """Like `synthetic_run`, but nothing at all is answered during `dark`: a hung system."""
    rng = random.Random(seed)
    recorder = Recorder()
    fast, slow = recorder.slot("fast", "get"), recorder.slot("slow", "get")
    series = Series()
    for second in range(60):
        if not dark[0] <= second < dark[1]:
            for _ in range(50):
                fast.request(0.010 * rng.lognormvariate(0, 0.1))
                slow.request(0.050 * rng.lognormvariate(0, 0.1))
        series.add(recorder.snapshot(second))
    return series


def test_a_run_with_a_10s_outage_is_flagged(tmp_path: Path) -> None:
    suite = load_suite_text(SUITE)
    fill(tmp_path, suite, 4)
    options = GateOptions(store=store_of(tmp_path), env="test")
    result = run_gate(options, suite, "main", outage_run(9, (25, 35)), {}, [], "pass", 0.0, 60.0)
    assert result.outcome == "regression"
    outages = [c for c in result.comparisons if c["metric"] == "outage"]
    assert {c["flow"] for c in outages} == {"*", "fast", "slow"}
    assert "served nothing in 10s (25-35s) where every baseline run" in outages[0]["detail"]
    # the medians alone would not have seen it: every other comparison is no regression
    others = [c for c in result.comparisons if c["metric"] != "outage"]
    assert not any(c["verdict"] == "regression" for c in others)


def test_open_model_throughput_is_not_compared(tmp_path: Path) -> None:
    open_suite = load_suite_text(SUITE)
    fill(tmp_path, open_suite, 3)
    options = GateOptions(store=store_of(tmp_path), env="test")
    result = run_gate(options, open_suite, "main", synthetic_run(7), {}, [], "pass", 0.0, 60.0)
    assert not any(c["metric"] == "rps" for c in result.comparisons)
    named = [parse_threshold("regression(rps) < 10%")]  # unless a threshold reads it
    again = run_gate(options, open_suite, "main", synthetic_run(8), {}, named, "pass", 0.0, 60.0)
    assert [c["flow"] for c in again.comparisons if c["metric"] == "rps"] == ["*"]
    closed = load_suite_text(
        SUITE.replace(
            "{executor: constant-arrival-rate, rate: 20/s, duration: 60s,",
            "{executor: constant-vus, vus: 2, duration: 60s,",
        )
    )
    assert plan_gate(closed, "main").open_model is False
    other = GateOptions(store=str(tmp_path / "closed.db"), env="test")
    for seed in range(4):
        result = run_gate(other, closed, "main", synthetic_run(seed), {}, [], "pass", 0.0, 60.0)
    assert any(c["metric"] == "rps" for c in result.comparisons)


def test_dropped_iterations_are_compared_for_open_model_runs(tmp_path: Path) -> None:
    def run(seed: int, dropped: int) -> Series:
        rng = random.Random(seed)
        recorder = Recorder()
        flow, fast, slow = recorder.slot("fast"), recorder.slot("fast", "get"), None
        slow = recorder.slot("slow", "get")
        series = Series()
        for second in range(60):
            for _ in range(50):
                fast.request(0.010 * rng.lognormvariate(0, 0.1))
                slow.request(0.050 * rng.lognormvariate(0, 0.1))
                flow.iteration(0.01)
            for _ in range(dropped):
                flow.dropped()
            series.add(recorder.snapshot(second))
        return series

    suite = load_suite_text(SUITE)
    options = GateOptions(store=store_of(tmp_path), env="test")
    for seed in range(4):
        run_gate(options, suite, "main", run(seed, 0), {}, [], "pass", 0.0, 60.0)
    worse = run_gate(options, suite, "main", run(9, 5), {}, [], "pass", 0.0, 60.0)
    dropped = {c["flow"]: c["verdict"] for c in worse.comparisons if c["metric"] == "dropped"}
    assert dropped == {"*": "regression", "fast": "regression"}


def test_whole_scenario_latency_only_for_one_flow_or_when_named(tmp_path: Path) -> None:
    suite = load_suite_text(SUITE)
    fill(tmp_path, suite, 3)
    options = GateOptions(store=store_of(tmp_path), env="test")
    mixed = run_gate(options, suite, "main", synthetic_run(5), {}, [], "pass", 0.0, 60.0)
    whole = {c["metric"] for c in mixed.comparisons if c["flow"] == "*"}
    assert whole == {"error_rate"}
    named = [parse_threshold("p95(latency) < baseline + 50%")]
    again = run_gate(options, suite, "main", synthetic_run(6), {}, named, "pass", 0.0, 60.0)
    assert {c["metric"] for c in again.comparisons if c["flow"] == "*"} == {"p95", "error_rate"}
    single = load_suite_text(SUITE.replace("mix: {fast: 1, slow: 1}", "mix: {fast: 1}"))
    one = GateOptions(store=str(tmp_path / "one.db"), env="test")
    result = run_gate(one, single, "main", synthetic_run(5), {}, [], "pass", 0.0, 60.0)
    assert {"p50", "p95", "p99"} <= {c["metric"] for c in result.comparisons if c["flow"] == "*"}
    entry = load_suite_text(
        SUITE.replace(
            "main: {workload: load}", "main: {workload: load, baseline: {scenario_latency: [p99]}}"
        )
    )
    (tmp_path / "entry").mkdir()
    fill(tmp_path / "entry", entry, 3)
    by_entry = GateOptions(store=store_of(tmp_path / "entry"), env="test")
    result = run_gate(by_entry, entry, "main", synthetic_run(7), {}, [], "pass", 0.0, 60.0)
    assert {c["metric"] for c in result.comparisons if c["flow"] == "*"} == {"p99", "error_rate"}


def test_a_comparison_inconclusive_in_most_recent_runs_is_called_noisy(tmp_path: Path) -> None:
    from io import StringIO

    from contval.report.console import print_baseline
    from contval.report.markdown import _baseline_section
    from tests.baseline.test_policy import ONE_FLOW, noisy_run

    suite = load_suite_text(ONE_FLOW)
    options = GateOptions(store=store_of(tmp_path), env="test")
    for seed in range(3):
        run_gate(options, suite, "main", noisy_run(seed, run_sd=0.08), {}, [], "pass", 0.0, 60.0)
    entries = []
    for seed in range(10, 16):
        run, outcome = scenario_run(tmp_path, suite, noisy_run(seed, run_sd=0.08), [])
        decide(run, outcome, {}, Console())
        entries.append(run.entry)
    last = entries[-1]["baseline"]
    noisy = {(n["flow"], n["metric"]): n for n in last["noise"]}
    assert noisy, [e["baseline"]["verdict"] for e in entries]
    note = next(iter(noisy.values()))
    assert note["inconclusive"] * 2 > note["of"] and note["of"] == 9
    assert note["suggested_tolerance"] is not None and note["suggested_tolerance"] > 0.10
    assert "inconclusive in" in note["detail"] and "would suggest a tolerance of" in note["detail"]
    out = StringIO()
    print_baseline(Console(file=out, width=300), last)
    assert "noisy: " + note["detail"] in out.getvalue()
    assert any(line.startswith("> noisy: ") for line in _baseline_section(entries[-1]))


CHAOS = SUITE.replace(
    "workloads:",
    "chaos_targets: {link: {proxy: {listen: 127.0.0.1:9101, upstream: 127.0.0.1:9100}}}\n"
    "faults: {down: {type: reset, target: link}}\nworkloads:",
).replace(
    "  main: {workload: load}", "  main: {workload: load, chaos: [{fault: down, at: AT, for: FOR}]}"
)


def test_a_fault_phase_too_short_to_gate_is_warned_about() -> None:
    fine = load_suite_text(CHAOS.replace("AT", "20s").replace("FOR", "20s"))
    plan = plan_gate(fine, "main")
    assert (plan.faults, plan.size) == ({"down": (20, 40)}, 6)
    assert gate_blind_spot(fine, "main") is None
    short = load_suite_text(CHAOS.replace("AT", "20s").replace("FOR", "2s"))
    assert gate_blind_spot(short, "main") == (
        "the `during` phase of fault `down` lasts 2s: the baseline gate needs 3s or more in each "
        "phase to compare it"
    )
    late = load_suite_text(CHAOS.replace("AT", "50s").replace("FOR", "8s"))
    assert "the `after` phase of fault `down` lasts 2s" in (gate_blind_spot(late, "main") or "")
    assert [p for _, p in plan_gate(late, "main").phases] == ["before", "during", "after"]


def test_a_tail_too_thin_to_measure_is_not_compared_unless_named(tmp_path: Path) -> None:
    suite = load_suite_text(SUITE)  # 50 requests/s per flow: 500 per 10 s window
    fill(tmp_path, suite, 3)
    options = GateOptions(store=store_of(tmp_path), env="test")
    result = run_gate(options, suite, "main", synthetic_run(5), {}, [], "pass", 0.0, 60.0)
    compared = {(c["flow"], c["metric"]) for c in result.comparisons}
    assert ("slow", "p95") in compared and ("slow", "p99") not in compared
    assert (
        "slow p99: about 500 requests per window, 1000 needed for a p99"
        in (result.to_dict()["not_compared"])
    )
    named = [parse_threshold("slow: p99(latency) < baseline + 50%")]
    again = run_gate(options, suite, "main", synthetic_run(6), {}, named, "pass", 0.0, 60.0)
    assert ("slow", "p99") in {(c["flow"], c["metric"]) for c in again.comparisons}
