"""Real Contoso Shoes systems on free loopback ports, started and stopped through its CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CLI = [sys.executable, "-m", "contoso_shoes"]


@dataclass
class System:
    dir: Path

    @property
    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.dir / "state.json").read_text())
        return data

    @property
    def url(self) -> str:
        return str(self.state["shop"]["url"])

    def pid(self, name: str) -> int:
        pid = self.state[name]["pid"]
        assert isinstance(pid, int), f"{name} is not running: {self.state[name]}"
        return pid

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def get(self, path: str) -> tuple[int, Any]:
        return self.call("GET", path)

    def checkout(
        self, product_id: int = 1, quantity: int = 1, email: str = "test@contoso.test"
    ) -> tuple[int, Any]:
        status, cart = self.call("POST", "/api/carts")
        assert status == 201, cart
        status, body = self.call(
            "POST",
            f"/api/carts/{cart['id']}/items",
            {"product_id": product_id, "quantity": quantity},
        )
        assert status == 201, body
        return self.call("POST", "/api/orders", {"cart_id": cart["id"], "email": email})

    def metrics(self) -> str:
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as response:
            return str(response.read().decode())


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll an external process's observable state until it holds, or fail saying what."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(every)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] != "Z"


def start_system(directory: Path, *args: str, env: dict[str, str] | None = None) -> System:
    cmd = [
        *CLI,
        "up",
        "--dir",
        str(directory),
        "--port",
        "0",
        "--payments-port",
        "0",
        "--detach",
        *args,
    ]
    result = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return System(directory)


def stop_system(system: System) -> None:
    state = system.state
    subprocess.run([*CLI, "down", "--dir", str(system.dir)], capture_output=True, timeout=30)
    for name in ("supervisor", "shop", "payments", "worker"):
        pid = state.get(name, {}).get("pid")
        if (
            isinstance(pid, int)
            and pid_alive(pid)
            and b"contoso_shoes" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def make_system(tmp_path: Path) -> Iterator[Callable[..., System]]:
    started: list[System] = []

    def make(*args: str, env: dict[str, str] | None = None, name: str = "run") -> System:
        system = start_system(tmp_path / name, *args, env=env)
        started.append(system)
        return system

    yield make
    for system in started:
        stop_system(system)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """One shared system for tests that only read or add their own orders."""
    system = start_system(tmp_path_factory.mktemp("shop"))
    yield system
    stop_system(system)
