"""The controller interface: a local run never imports Ray (it is an optional extra), and the
local controller is what the pipeline's interface describes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from contval.engine import messages as msg
from contval.engine.controller import Controller
from contval.engine.local import LocalController
from contval.spec import load_suite
from tests.engine.target import Target
from tests.engine.test_run import constant_rate, one_step, write_suite

PROBE = """
import runpy, sys
sys.argv = {argv!r}
try:
    runpy.run_module("contval", run_name="__main__")
except SystemExit as exit:
    code = exit.code
loaded = sorted(m for m in sys.modules if m == "ray" or m.startswith("ray."))
print("RAY-MODULES", loaded, "EXIT", code)
"""


def test_a_local_run_never_imports_ray(tmp_path: Path, target: Target) -> None:
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("20/s", "1s"))
    argv = ["contval", "run", str(suite), "--out", str(tmp_path / "out"), "--workers", "1"]
    probe = PROBE.format(argv=argv)
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert "RAY-MODULES [] EXIT" in proc.stdout, proc.stdout + proc.stderr
    assert target.seen.paths["/ok"] == 20
    engine = json.loads((tmp_path / "out" / "result.json").read_text())["scenarios"][0]["engine"]
    assert engine["kind"] == "local" and engine["address"] is None
    assert [(n["node_id"], n["host"], n["workers"]) for n in engine["nodes"]] == [
        ("local", socket.gethostname(), 1)
    ]
    for command in (["validate", str(suite)], ["plan", str(suite)]):
        probe = PROBE.format(argv=["contval", *command])
        proc = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
        )
        assert "RAY-MODULES [] EXIT 0" in proc.stdout, proc.stdout + proc.stderr


def test_the_local_controller_is_a_controller(tmp_path: Path, target: Target) -> None:
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("10/s", "1s"))
    controller: Controller = LocalController(msg.jobs_for(load_suite(suite), "main", 1))
    controller.start()
    try:
        outcome = controller.run(lambda series, snapshot, stats: None)
    finally:
        controller.close()
    assert controller.start_time > 0
    assert outcome is controller.outcome
    assert target.seen.paths["/ok"] == 10
