"""`up` / `down`: state.json, restarts, clean stops on SIGTERM, Ctrl-C and even SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.contoso_shoes.conftest import CLI, System, pid_alive, wait_for

SERVICES = ("shop", "payments", "worker")


def all_pids(system: System) -> list[int]:
    state = system.state
    return [state["supervisor"]["pid"], *(state[name]["pid"] for name in SERVICES)]


def test_state_file_names_every_process(make_system: Any) -> None:
    system: System = make_system()
    state = system.state
    assert state["status"] == "healthy"
    assert Path(state["db"]).is_file()
    for name in SERVICES:
        entry = state[name]
        assert pid_alive(entry["pid"]), name
        assert Path(entry["pidfile"]).read_text().strip() == str(entry["pid"])
    for name in ("shop", "payments"):
        assert state[name]["url"] == f"http://127.0.0.1:{state[name]['port']}"
    assert state["payments_url"] == state["payments"]["url"]
    assert state["restart_delay_s"] == 2.0


def test_down_stops_everything(make_system: Any) -> None:
    system: System = make_system()
    pids = all_pids(system)
    result = subprocess.run(
        [*CLI, "down", "--dir", str(system.dir)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert f"supervisor {pids[0]} stopped" in result.stdout
    assert [p for p in pids if pid_alive(p)] == []
    assert system.state["status"] == "stopped"
    assert not any((system.dir / f"{name}.pid").exists() for name in SERVICES)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_supervisor_signal_leaves_no_process(make_system: Any, sig: signal.Signals) -> None:
    system: System = make_system()
    pids = all_pids(system)
    os.kill(pids[0], sig)
    wait_for(
        lambda: not any(pid_alive(p) for p in pids),
        15,
        f"every process to exit after {sig.name} to the supervisor",
    )


def test_foreground_ctrl_c_stops_the_process_group(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*CLI, "up", "--dir", str(tmp_path), "--port", "0", "--payments-port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once healthy
        assert line.startswith("contoso shoes is up: shop http://127.0.0.1:")
        state = json.loads((tmp_path / "state.json").read_text())
        pids = [state[name]["pid"] for name in SERVICES]
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        assert proc.wait(timeout=15) == 0
        wait_for(lambda: not any(pid_alive(p) for p in pids), 10, "the services to exit")
    finally:
        if proc.poll() is None:
            proc.kill()


def test_second_up_in_same_dir_is_refused(make_system: Any) -> None:
    system: System = make_system()
    result = subprocess.run(
        [*CLI, "up", "--dir", str(system.dir), "--port", "0", "--detach"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert f"already running in {system.dir}" in result.stderr


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [
                *CLI,
                "up",
                "--dir",
                str(tmp_path),
                "--port",
                str(port),
                "--payments-port",
                "0",
                "--detach",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert "cannot listen on 127.0.0.1" in result.stderr and "in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_delay_knob_is_rejected_before_starting(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "up", "--dir", str(tmp_path), "--delay", "/api/products=fast"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "invalid duration 'fast'" in result.stderr
    assert not (tmp_path / "state.json").exists()


def test_route_delay_knob_slows_only_the_chosen_route(make_system: Any) -> None:
    system: System = make_system("--delay", "GET /api/products=120ms")

    def timed(path: str) -> float:
        start = time.perf_counter()
        status, _ = system.get(path)
        assert status == 200
        return time.perf_counter() - start

    slow = min(timed("/api/products?limit=5") for _ in range(3))
    fast = min(timed("/api/products/5") for _ in range(3))
    assert 0.120 <= slow < 0.5
    assert fast < 0.060
    text = system.metrics()
    assert (
        'shop_http_request_duration_seconds_bucket{le="0.1",method="GET",route="/api/products"} 0.0'
        in text
    )
