"""The proxy as a standing process: --detach, state file, SIGTERM, and clear start errors."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROXY = [sys.executable, "-m", "contval.chaos.proxy"]


def wait_gone(pid: int, timeout: float = 10.0) -> bool:
    """Wait for a process we are not the parent of to exit (pidfd: an event, not a poll)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


@pytest.fixture
def upstream_port() -> Iterator[int]:
    """A listening socket nobody serves: enough for the proxy to start in front of."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def control_get(control: str, path: str) -> dict[str, object]:
    import http.client

    host, port = control.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", path)
        return json.loads(conn.getresponse().read())  # type: ignore[no-any-return]
    finally:
        conn.close()


def test_detach_writes_state_and_sigterm_leaves_nothing(tmp_path: Path, upstream_port: int) -> None:
    state = tmp_path / "proxy.json"
    link = f"pay=127.0.0.1:0=127.0.0.1:{upstream_port}"
    run = subprocess.run(
        [*PROXY, "--control", "127.0.0.1:0", "--link", link, "--state", str(state), "--detach"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    info = json.loads(state.read_text())
    pid = info["pid"]
    try:
        assert f"pid {pid}" in run.stdout
        assert info["links"]["pay"]["upstream"] == f"127.0.0.1:{upstream_port}"
        assert info["control"] in run.stdout
        assert control_get(info["control"], "/health") == {"status": "ok", "pid": pid}
        assert os.getsid(pid) == pid  # its own session: Ctrl-C in our terminal does not reach it
    finally:
        os.kill(pid, signal.SIGTERM)
    assert wait_gone(pid)
    assert not state.exists()


def test_foreground_stops_cleanly_on_sigterm(tmp_path: Path, upstream_port: int) -> None:
    state = tmp_path / "proxy.json"
    link = f"pay=127.0.0.1:0=127.0.0.1:{upstream_port}"
    proc = subprocess.Popen(
        [*PROXY, "--control", "127.0.0.1:0", "--link", link, "--state", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed once listening and the state file is written
        assert first.startswith(f"contval proxy: pid {proc.pid}")
        assert json.loads(state.read_text())["pid"] == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not state.exists()
    assert "Traceback" not in proc.stderr.read()  # type: ignore[union-attr]


@pytest.mark.parametrize("detach", [False, True], ids=["foreground", "detach"])
def test_port_in_use_is_a_clear_error(tmp_path: Path, upstream_port: int, detach: bool) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = [
            *PROXY,
            "--control",
            "127.0.0.1:0",
            "--link",
            f"pay=127.0.0.1:{port}=127.0.0.1:{upstream_port}",
            "--state",
            str(tmp_path / "proxy.json"),
        ]
        run = subprocess.run(
            args + (["--detach"] if detach else []), capture_output=True, text=True, timeout=30
        )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert f"link pay: cannot listen on 127.0.0.1:{port}" in run.stderr
    assert "in use" in run.stderr
    assert not (tmp_path / "proxy.json").exists()


def test_bad_link_argument_is_a_usage_error() -> None:
    run = subprocess.run([*PROXY, "--link", "nonsense"], capture_output=True, text=True)
    assert run.returncode == 2
    assert "NAME=LISTEN=UPSTREAM" in run.stderr
    assert "Traceback" not in run.stderr
