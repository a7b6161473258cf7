"""`contval baseline|compare|history` on a real history database filled with synthetic runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from contval.cli import app
from tests.engine.target import Target
from tests.pipeline.test_gate import gate, synthetic_run

runner = CliRunner()


def fill(tmp_path: Path, runs: int = 4) -> list[str]:
    return [gate(tmp_path, synthetic_run(seed))["run_id"] for seed in range(runs)]


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_baseline_list_show_promote(tmp_path: Path) -> None:
    ids = fill(tmp_path)
    store = str(tmp_path / "history.db")
    code, out = cli("baseline", "list", "--store", store)
    assert code == 0 and "gate-test" in out and "rolling" in out and "yes" in out
    code, out = cli("baseline", "show", "main", "--store", store, "--env", "test")
    assert code == 0 and "(rolling, 4 runs)" in out and all(i in out for i in ids)
    code, out = cli("baseline", "promote", ids[0], ids[1], "--store", store)
    assert code == 0 and "pinned 2 run(s) as the baseline of gate-test/main in test" in out
    code, out = cli("baseline", "show", "main", "--store", store, "--env", "test")
    assert "(pinned, 2 runs)" in out and ids[2] not in out
    code, out = cli("baseline", "show", "nope", "--store", store)
    assert code == 2 and "no runs of scenario `nope`" in out


def test_export_import_round_trip(tmp_path: Path) -> None:
    fill(tmp_path)
    store = str(tmp_path / "history.db")
    exported = tmp_path / "baseline.json"
    code, out = cli(
        "baseline", "export", "main", "--store", store, "--env", "test", "-o", str(exported)
    )
    assert code == 0 and "wrote 4 baseline run(s)" in out
    assert len(json.loads(exported.read_text())["runs"]) == 4
    other = str(tmp_path / "fresh.db")
    code, out = cli("baseline", "import", str(exported), "--store", other)
    assert code == 0 and "imported and pinned 4 run(s)" in out
    code, out = cli("baseline", "show", "main", "--store", other, "--env", "test")
    assert "(pinned, 4 runs)" in out


def test_compare_and_history(tmp_path: Path) -> None:
    ids = fill(tmp_path, 2)
    slower = gate(tmp_path, synthetic_run(50, slow_factor=1.5))["run_id"]
    store = str(tmp_path / "history.db")
    code, out = cli("compare", ids[0], slower, "--store", store)
    assert code == 0 and f"{slower} against {ids[0]}" in out
    slow_p95 = next(line for line in out.splitlines() if "│ slow" in line and "p95" in line)
    assert "different" in slow_p95 and "+5" in slow_p95  # about +50 %
    fast_p95 = next(line for line in out.splitlines() if "│ fast" in line and "p95" in line)
    assert "+5" not in fast_p95
    code, out = cli("history", "main", "--store", store, "--env", "test")
    assert code == 0 and all(i in out for i in [*ids, slower])
    code, out = cli("compare", ids[0], "r-missing", "--store", store)
    assert code == 2


def test_calibrate_measures_the_noise_floor(tmp_path: Path, target: Target) -> None:
    import subprocess
    import sys

    from tests.engine.test_run import constant_rate, one_step, write_suite

    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("50/s", "2s"))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "contval",
            "calibrate",
            str(suite),
            "-s",
            "main",
            "--runs",
            "3",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "calibration run 3 of 3" in proc.stdout
    assert "noise floor of an unchanged build" in proc.stdout
    rps = next(line for line in proc.stdout.splitlines() if line.startswith("│ rps"))
    assert "50.0/s" in rps and "+10.0%" in rps  # steady rate: the default tolerance suffices
    assert target.seen.requests == 300


def test_compare_accepts_the_suite_run_ids_that_run_prints(tmp_path: Path) -> None:
    from contval.baseline.store import HistoryStore

    ids = fill(tmp_path, 2)
    slower = gate(tmp_path, synthetic_run(50, slow_factor=1.5))["run_id"]
    store = str(tmp_path / "history.db")
    with HistoryStore(store) as history:
        for suite_run, run_id in (("s-20261204-100000-aaaa", ids[0]), ("s-2-b", slower)):
            doc: dict[str, Any] = {"suite": "gate-test", "started_at": suite_run}
            doc["scenarios"] = [{"name": "main", "baseline": {"run_id": run_id}}]
            history.save_document(suite_run, doc, [run_id])
    code, out = cli("compare", "s-20261204-100000-aaaa", "s-2-b", "--store", store)
    assert code == 0, out
    assert f"{slower} against {ids[0]}" in out
    slow_p95 = next(line for line in out.splitlines() if "│ slow" in line and "p95" in line)
    assert "different" in slow_p95 and "+5" in slow_p95
    code, out = cli("compare", "s-20261204-100000-aaaa", ids[1], "--store", store)
    assert code == 0 and f"{ids[1]} against {ids[0]}" in out  # a suite run and a scenario run
    code, out = cli("compare", "s-nope", slower, "--store", store)
    assert code == 2 and "no suite run or scenario run s-nope" in out


def test_baseline_list_says_a_too_short_scenario_never_gates(tmp_path: Path) -> None:
    from contval.pipeline.gate import GateOptions, run_gate
    from contval.spec import load_suite_text
    from tests.pipeline.test_gate import SUITE

    suite = load_suite_text(SUITE.replace("duration: 60s", "duration: 2s"))
    options = GateOptions(store=str(tmp_path / "history.db"), env="test")
    for seed in range(4):
        run_gate(options, suite, "main", synthetic_run(seed, seconds=2), {}, [], "pass", 0.0, 2.0)
    code, out = cli("baseline", "list", "--store", str(tmp_path / "history.db"))
    assert code == 0 and "no (2 window(s) per run, 3 needed)" in out, out
