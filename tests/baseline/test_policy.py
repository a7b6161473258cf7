"""The rolling baseline's refresh rule (`contval.baseline.policy`): unit cases, and two histories
through the real gate and store: a noisy unchanged build keeps refreshing its baseline (it does
not freeze), and a slow creep is kept out once beyond the tolerance and then flagged."""

from __future__ import annotations

import random
from pathlib import Path

from contval.baseline.policy import admits
from contval.baseline.store import HistoryStore
from contval.metrics import Recorder, Series
from contval.pipeline.gate import GateOptions, GateResult, run_gate
from contval.spec import load_suite_text
from tests.pipeline.test_gate import SUITE

ONE_FLOW = SUITE.replace("mix: {fast: 1, slow: 1}", "mix: {slow: 1}")


def row(verdict: str, shift: float | None, metric: str = "p95", tol: float = 0.1) -> dict:  # type: ignore[type-arg]
    return {"metric": metric, "verdict": verdict, "shift": shift, "tolerance": tol}


def test_the_rule() -> None:
    assert admits("pass", "pass", [row("pass", 0.02)])
    assert admits("pass", "no_baseline", [])  # how a baseline starts
    assert admits("pass", "improvement", [row("improvement", -0.3)])
    assert not admits("fail", "pass", [row("pass", 0.0)])  # a failed threshold
    assert not admits("pass", "regression", [row("regression", 0.3)])
    assert admits("pass", "inconclusive", [row("inconclusive", 0.07), row("pass", 0.0)])
    assert not admits("pass", "inconclusive", [row("inconclusive", 0.12)])  # beyond: kept out
    assert admits("pass", "inconclusive", [row("inconclusive", -0.4)])  # better is inside
    assert admits("pass", "inconclusive", [row("inconclusive", 0.3, "rps", -0.1)]) is not False
    assert not admits("pass", "inconclusive", [row("inconclusive", -0.3, "rps", -0.1)])
    assert not admits("pass", "inconclusive", [row("inconclusive", None)])


def noisy_run(seed: int, factor: float = 1.0, run_sd: float = 0.02) -> Series:
    """One flow, 20 requests/s for 60 s; lognormal latency with a run effect of `run_sd`."""
    rng = random.Random(seed)
    effect = rng.lognormvariate(0, run_sd)
    recorder = Recorder()
    slot = recorder.slot("slow", "get")
    series = Series()
    for second in range(60):
        for _ in range(20):
            slot.request(0.050 * factor * effect * rng.lognormvariate(0, 0.15))
        series.add(recorder.snapshot(second))
    return series


def gated(tmp_path: Path, series: Series, started: float) -> GateResult:
    options = GateOptions(store=str(tmp_path / "history.db"), env="test")
    suite = load_suite_text(ONE_FLOW)
    return run_gate(options, suite, "main", series, {}, [], "pass", started, 60.0)


def p50_shift(result: GateResult) -> float:
    return float(
        next(c["shift"] for c in result.comparisons if c["flow"] == "slow" and c["metric"] == "p50")
    )


def test_a_noisy_unchanged_build_keeps_refreshing_its_baseline(tmp_path: Path) -> None:
    results = [gated(tmp_path, noisy_run(s, run_sd=0.06), 1000.0 * s) for s in range(24)]
    judged = results[3:]
    inconclusive = [r for r in judged if r.outcome == "inconclusive"]
    assert not any(r.outcome == "regression" for r in judged)
    assert inconclusive, [r.outcome for r in judged]  # the noise is beyond what 10 % resolves
    joined = [r for r in inconclusive if r.accepted]
    assert joined, "inconclusive runs inside the tolerance join: the baseline does not freeze"
    for r in inconclusive:
        assert r.accepted == all(
            c["shift"] is not None
            and c["shift"] * (-1 if c["metric"] == "rps" else 1) <= abs(c["tolerance"])
            for c in r.comparisons
            if c["verdict"] == "inconclusive"
        )
    newest = {results[-1].run_id, results[-2].run_id} - {None}
    with HistoryStore(tmp_path / "history.db") as store:
        accepted = [r.id for r in store.runs() if r.accepted]
    assert len(accepted) >= 10 and newest & set(accepted), "recent runs keep joining"


def test_a_slow_creep_is_kept_out_and_flagged(tmp_path: Path) -> None:
    for s in range(5):
        gated(tmp_path, noisy_run(s), 1000.0 * s)
    creeping = []
    for i in range(1, 21):
        creeping.append(gated(tmp_path, noisy_run(100 + i, factor=1.02**i), 1000.0 * (5 + i)))
    for r in creeping:
        if r.outcome != "regression" and p50_shift(r) > 0.10:
            assert r.accepted is False, "an estimate beyond the tolerance never joins"
    flagged = [i for i, r in enumerate(creeping, 1) if r.outcome == "regression"]
    assert flagged and flagged[0] <= 12, [(r.outcome, round(p50_shift(r), 3)) for r in creeping]
    assert all(r.accepted is False for r in creeping[flagged[0] - 1 :])
