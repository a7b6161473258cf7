"""Generator saturation (issue 10 §4): when the load generator itself falls behind its
schedule while virtual users were free, the measurement failed, not the system: the engine
says so on its outcome (`RunOutcome.saturated`), result.json and the console say
`generator_saturated`, and the run exits 3. The generator is starved of CPU for real: its
worker process is stopped (SIGSTOP) for over a second, then continued."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

from contval.engine import messages as msg
from contval.engine.local import SATURATION_LAG_MS, LocalController, RunOutcome
from contval.spec import load_suite
from tests.engine.target import Target
from tests.engine.test_run import CLI, constant_rate, load_started, one_step, write_suite

STARVED_S = 1.2  # longer than the bound, so every arrival in it starts that late


def _starve(pid: int, at: float) -> tuple[Callable[[float], None], list[str]]:
    """An `on_tick` that stops `pid` at offset `at` and continues it STARVED_S later."""
    done: list[str] = []

    def on_tick(offset: float) -> None:
        if not done and offset >= at:
            os.kill(pid, signal.SIGSTOP)
            done.append("stopped")
        elif done == ["stopped"] and offset >= at + STARVED_S:
            os.kill(pid, signal.SIGCONT)
            done.append("continued")

    return on_tick, done


def _run(suite: Path, starve: bool) -> RunOutcome:
    controller = LocalController([msg.jobs_for(load_suite(suite), "main", 1)[0]])
    controller.start()
    pid = controller.peers[0].process.pid
    on_tick, done = _starve(pid, 0.5) if starve else (None, [])
    try:
        return controller.run(lambda series, snapshot, stats: None, on_tick)
    finally:
        if done == ["stopped"]:
            os.kill(pid, signal.SIGCONT)
        controller.close()


def test_a_starved_generator_is_saturated_and_a_normal_one_is_not(
    tmp_path: Path, target: Target
) -> None:
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("200/s", "3s"))
    normal = _run(suite, starve=False)
    assert normal.saturated is None
    assert normal.stop_reason is None
    assert max(s.lag_ms for s in normal.stats) < SATURATION_LAG_MS
    starved = _run(suite, starve=True)
    assert starved.saturated is not None
    assert starved.saturated.lag_ms > SATURATION_LAG_MS
    assert starved.stop_reason == starved.saturated.reason()
    assert starved.stop_reason.startswith("generator saturated: arrivals started")


def _workers(parent: int) -> list[int]:
    """The worker processes `contval run` spawned (not its resource tracker)."""
    found = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        for pid in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"spawn_main" in cmdline:
                found.append(int(pid))
    return found


def test_a_saturated_run_is_marked_and_exits_3(tmp_path: Path, target: Target) -> None:
    suite = write_suite(
        tmp_path, target.url, one_step("/ok"), constant_rate("200/s", "4s"), "'error_rate < 1%'"
    )
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*CLI, "run", str(suite), "--out", str(out), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    load_started(out, proc)
    workers = _workers(proc.pid)
    assert len(workers) == 1
    os.kill(workers[0], signal.SIGSTOP)
    try:
        proc.wait(timeout=STARVED_S)
    except subprocess.TimeoutExpired:
        pass
    finally:
        os.kill(workers[0], signal.SIGCONT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3, output
    scenario = json.loads((out / "result.json").read_text())["scenarios"][0]
    assert scenario["generator_saturated"] is True
    assert scenario["generator"]["saturated"] is True
    assert scenario["generator"]["lag_max_ms"] > SATURATION_LAG_MS
    assert "generator saturated (busiest worker" in output
    assert scenario["verdict"] == "error" and scenario["complete"] is False
    assert scenario["stop_reason"].startswith("generator saturated")
    assert "GENERATOR SATURATED" in output
