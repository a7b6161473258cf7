"""The per-second log beside result.json (issue 11 §9): appended and flushed every second at
a cost that does not grow with the run, and folded into the document by its readers."""

from __future__ import annotations

import json
from pathlib import Path

from contval.metrics import Recorder, Snapshot
from contval.report.result import ResultFile, second_row
from contval.report.seconds import SECONDS_NAME, SecondsLog, read_result


def _snapshot(second: int, requests: int = 100) -> Snapshot:
    rec = Recorder()
    slot = rec.slot("f", "get")
    for i in range(requests):
        slot.request(0.001 * (1 + i % 7))
    return rec.snapshot(second)


def _running(tmp_path: Path) -> ResultFile:
    result = ResultFile(tmp_path / "result.json", "suite", "suite.yaml", 1_700_000_000.0)
    result.scenarios.append({"name": "s", "verdict": "running", "complete": False})
    result.write()
    return result


def test_an_unfinished_run_reads_with_its_seconds_folded_in(tmp_path: Path) -> None:
    result = _running(tmp_path)
    log = SecondsLog(result.seconds_path, "s", 0, {"f": "user"}, {"f": ["get"]})
    log.start(1_700_000_001.0)
    for t in range(3):
        snapshot = _snapshot(t)
        log.second(second_row(snapshot, 1, 0.5, 60.0), snapshot)
    with open(result.seconds_path, "a") as handle:
        handle.write('{"row": {"t": 3, "requ')  # killed in the middle of a line
    doc = read_result(result.path)
    scenario = doc["scenarios"][0]
    assert doc["complete"] is False and scenario["verdict"] == "running"
    assert [row["t"] for row in scenario["series"]] == [0, 1, 2]
    assert scenario["duration_s"] == 3
    assert scenario["totals"]["requests"] == 300 and scenario["totals"]["rps"] == 100.0
    assert scenario["flows"]["f"]["steps"]["get"]["latency"]["count"] == 300
    assert scenario["flow_series"]["f"]["requests"] == [100, 100, 100]
    assert scenario["started_at"].startswith("2023-11-14T22:13:21")


def test_a_second_costs_the_same_at_the_start_and_much_later(tmp_path: Path) -> None:
    """Appending, never rewriting: the bytes written for a second do not depend on how many
    came before it (the old layout rewrote the whole growing document every 5 s)."""
    result = _running(tmp_path)
    log = SecondsLog(result.seconds_path, "s", 0, {"f": "user"}, {"f": ["get"]})
    sizes = []
    for t in range(1000):
        before = result.seconds_path.stat().st_size
        snapshot = _snapshot(t, requests=100)
        log.second(second_row(snapshot, 1, 0.5, 60.0), snapshot)
        if t in (1, 999):
            sizes.append(result.seconds_path.stat().st_size - before)
    log.close()
    assert sizes[1] - sizes[0] == 4  # only the digits of the second (twice) differ
    assert json.loads(result.path.read_text())["scenarios"][0].get("series") is None


def test_a_finished_document_ignores_and_removes_the_log(tmp_path: Path) -> None:
    result = _running(tmp_path)
    log = SecondsLog(result.seconds_path, "s", 0, {}, {})
    snapshot = _snapshot(0)
    log.second(second_row(snapshot, 1, 0.5, 60.0), snapshot)
    log.close()
    result.scenarios[0].update(verdict="pass", complete=True, series=[])
    result.complete, result.exit_code, result.verdict = True, 0, "pass"
    result.write()
    assert not (tmp_path / SECONDS_NAME).exists()
    assert read_result(result.path)["scenarios"][0]["series"] == []


def test_a_log_of_another_scenario_is_not_folded(tmp_path: Path) -> None:
    result = _running(tmp_path)
    log = SecondsLog(result.seconds_path, "other", 0, {}, {})
    snapshot = _snapshot(0)
    log.second(second_row(snapshot, 1, 0.5, 60.0), snapshot)
    log.close()
    assert "series" not in read_result(result.path)["scenarios"][0]
