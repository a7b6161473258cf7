"""`contval baseline|history|compare` address a workload run alongside a scenario as
`SCENARIO/WORKLOAD`, on a real history database: its runs and baseline are listed, shown,
promoted, exported and imported apart from the scenario's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from contval.baseline.records import RunMeta
from contval.baseline.store import HistoryStore
from contval.baseline.windows import windows_of
from contval.cli import app
from tests.pipeline.test_gate import synthetic_run

runner = CliRunner()
FP = "0123456789abcdef"


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def fill(path: Path) -> dict[str, list[str]]:
    """Three runs of scenario `main` as a whole and of its workload `buyers`, recorded as
    `contval run` records them (one transaction per suite run)."""
    ids: dict[str, list[str]] = {"main": [], "main/buyers": []}
    with HistoryStore(path) as store:
        for seed in range(3):
            windows = windows_of(synthetic_run(seed, seconds=30), 10)
            started = f"2026-12-05T10:0{seed}:00+00:00"

            def meta(workload: str | None, at: str = started) -> RunMeta:
                return RunMeta("gate-test", "main", FP, at, env="test", workload=workload)

            whole, buyers = store.record_runs(
                [(meta(None), windows, []), (meta("buyers"), windows[:6], [])]
            )
            ids["main"].append(whole)
            ids["main/buyers"].append(buyers)
    return ids


def test_a_workloads_baseline_by_its_key(tmp_path: Path) -> None:
    store = str(tmp_path / "history.db")
    ids = fill(tmp_path / "history.db")
    code, out = cli("baseline", "list", "--store", store)
    assert code == 0, out
    rows = [line for line in out.splitlines() if "gate-test" in line]
    assert [r.split("│")[2].strip() for r in rows] == ["main", "main/buyers"]

    code, out = cli("baseline", "show", "main/buyers", "--store", store, "--env", "test")
    assert code == 0 and "baseline of gate-test/main/buyers in test (rolling, 3 runs)" in out
    assert all(i in out for i in ids["main/buyers"]) and not any(i in out for i in ids["main"])
    code, out = cli("baseline", "show", "main/nobody", "--store", store, "--env", "test")
    assert code == 2 and "no runs of scenario `main/nobody`" in out

    code, out = cli("baseline", "promote", *ids["main/buyers"][:2], "--store", store)
    assert code == 0 and "as the baseline of gate-test/main/buyers in test" in out
    code, out = cli("baseline", "show", "main/buyers", "--store", store, "--env", "test")
    assert "(pinned, 2 runs)" in out
    code, out = cli("baseline", "show", "main", "--store", store, "--env", "test")
    assert "(rolling, 3 runs)" in out  # the scenario's own is untouched
    code, out = cli("baseline", "promote", ids["main"][0], ids["main/buyers"][2], "--store", store)
    assert code == 2 and "must share suite, scenario (and workload)" in out

    exported = tmp_path / "buyers.json"
    args = ("--store", store, "--env", "test", "-o", str(exported))
    code, out = cli("baseline", "export", "main/buyers", *args)
    assert code == 0 and "wrote 2 baseline run(s)" in out
    doc: dict[str, Any] = json.loads(exported.read_text())
    assert (doc["scenario"], doc["workload"]) == ("main", "buyers")
    fresh = str(tmp_path / "fresh.db")
    code, out = cli("baseline", "import", str(exported), "--store", fresh)
    assert code == 0 and "imported and pinned 2 run(s)" in out
    code, out = cli("baseline", "show", "main/buyers", "--store", fresh, "--env", "test")
    assert code == 0 and "(pinned, 2 runs)" in out

    code, out = cli("history", "main/buyers", "--store", store, "--env", "test")
    assert code == 0 and all(i in out for i in ids["main/buyers"])
    assert not any(i in out for i in ids["main"])
    one, other = ids["main/buyers"][:2]
    code, out = cli("compare", one, other, "--store", store)
    assert code == 0 and f"{other} against {one}" in out
    code, out = cli("compare", ids["main"][0], other, "--store", store)
    assert code == 2 and "compared only with runs of the same workload" in out
