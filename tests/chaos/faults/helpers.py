"""Real child processes and a stand-in proxy control server for the chaos fault tests."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from contval.chaos import proc

TICKER = """
import sys, time
path = sys.argv[1]
while True:
    with open(path, "a") as out:
        out.write(".")
    time.sleep(0.02)
"""


class Ticker:
    """A Python child that appends a byte to a file every 20 ms: its progress is observable."""

    def __init__(self, directory: Path, tag: str = "ticker") -> None:
        self.file = directory / f"{tag}.ticks"
        self.file.touch()
        self.process = subprocess.Popen([sys.executable, "-c", TICKER, str(self.file), tag])
        self.ref = proc.ref_of(self.process.pid)
        assert wait_for(lambda: self.ticks() > 0, 10, "the ticker to tick")

    @property
    def pid(self) -> int:
        return self.process.pid

    def ticks(self) -> int:
        return self.file.stat().st_size

    def advancing(self, within: float = 2.0) -> bool:
        start = self.ticks()
        return bool(proc.wait_until(lambda: self.ticks() > start, within))

    def stop(self) -> None:
        if proc.is_alive(self.ref):
            proc.signal_if_same(self.ref, signal.SIGCONT)
            proc.signal_if_same(self.ref, signal.SIGKILL)
        self.process.wait(timeout=5)


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    value = proc.wait_until(predicate, timeout)
    if not value:
        raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
    return value


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own ledger: CONTVAL_STATE_DIR points into tmp_path."""
    directory = tmp_path / "state"
    monkeypatch.setenv("CONTVAL_STATE_DIR", str(directory))
    return directory


@pytest.fixture
def ticker(tmp_path: Path) -> Iterator[Ticker]:
    child = Ticker(tmp_path)
    yield child
    child.stop()


@pytest.fixture
def stress_ng_installed() -> None:
    """CI installs stress-ng: a missing binary is a failure with the fix, never a skip."""
    if shutil.which("stress-ng") is None:
        pytest.fail("stress-ng is not installed: `apt-get install stress-ng` (see .ci/run)")


def dead_pid() -> proc.ProcessRef:
    """The identity of a process that has exited (a controller that died)."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    ref = proc.ref_of(child.pid)
    assert child.stdin is not None
    child.stdin.close()
    child.wait(timeout=10)
    return ref


class FakeProxyControl:
    """Test double for the proxy control API contract (docs/chaos-internals.md) only.

    Stands in where a test needs exact request bodies or a proxy that loses toxics; the
    real proxy is used for effects (see test_proxy_faults.py).
    """

    def __init__(self, links: tuple[str, ...] = ("l",)) -> None:
        self.toxics: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in links}
        self.requests: list[tuple[str, str, Any]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.control = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _expire(self) -> None:
        now = time.monotonic()
        for toxics in self.toxics.values():
            for toxic_id in [t for t, v in toxics.items() if v["_until"] < now]:
                del toxics[toxic_id]

    def _public(self, toxic: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in toxic.items() if not k.startswith("_")}
        shown["expires_in"] = round(toxic["_until"] - time.monotonic(), 3)
        return shown

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        with self.lock:
            self.requests.append((method, path, body))
            self._expire()
            parts = path.strip("/").split("/")
            if method == "GET" and parts == ["health"]:
                return 200, {"status": "ok", "pid": os.getpid()}
            if method == "GET" and parts == ["links"]:
                links = {
                    name: {"toxics": [self._public(t) for t in toxics.values()]}
                    for name, toxics in self.toxics.items()
                }
                return 200, {"links": links}
            if len(parts) >= 3 and parts[0] == "links" and parts[2] == "toxics":
                return self._toxic_route(method, parts, body)
            return 404, {"error": f"no route {method} {path}"}

    def _toxic_route(self, method: str, parts: list[str], body: Any) -> tuple[int, Any]:
        toxics = self.toxics.get(parts[1])
        if toxics is None:
            return 404, {"error": f"no link {parts[1]}"}
        if method == "POST" and len(parts) == 3:
            if body["id"] in toxics:
                return 409, {"error": "exists"}
            toxics[body["id"]] = {**body, "hits": 0, "_until": time.monotonic() + body["lease"]}
            return 201, self._public(toxics[body["id"]])
        toxic = toxics.get(parts[3]) if len(parts) > 3 else None
        if toxic is None:
            return 404, {"error": "no such toxic"}
        if method == "POST" and parts[4:] == ["renew"]:
            toxic["_until"] = time.monotonic() + body["lease"]
            return 200, self._public(toxic)
        if method == "DELETE":
            del toxics[parts[3]]
            return 204, None
        return 405, {"error": "method not allowed"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                status, payload = fake.handle(self.command, self.path, body)
                raw = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def fake_proxy() -> Iterator[FakeProxyControl]:
    fake = FakeProxyControl()
    yield fake
    fake.close()


class EchoServer:
    """A loopback TCP server that echoes every chunk back: the upstream behind a proxy link."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    @staticmethod
    def _echo(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    def close(self) -> None:
        self.sock.close()


class RealProxy:
    """`python -m contval.chaos.proxy` with one link `l` in front of an echo server."""

    def __init__(self, directory: Path) -> None:
        self.echo = EchoServer()
        state = directory / "proxy.json"
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "contval.chaos.proxy", "--control", "127.0.0.1:0"),
                *("--link", f"l=127.0.0.1:0=127.0.0.1:{self.echo.port}", "--state", str(state)),
            ]
        )
        wait_for(state.exists, 20, "the proxy's state file")
        info = json.loads(state.read_text())
        self.control: str = info["control"]
        host, port = info["links"]["l"]["listen"].rsplit(":", 1)
        self.listen = (host, int(port))

    def round_trip(self, payload: bytes = b"ping") -> float:
        """Seconds for one connect + echo exchange through the link."""
        start = time.monotonic()
        with socket.create_connection(self.listen, timeout=5) as conn:
            conn.sendall(payload)
            received = b""
            while len(received) < len(payload):
                chunk = conn.recv(4096)
                if not chunk:
                    raise ConnectionResetError("closed by the proxy")
                received += chunk
        assert received == payload
        return time.monotonic() - start

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.echo.close()


@pytest.fixture
def real_proxy(tmp_path: Path) -> Iterator[RealProxy]:
    proxy = RealProxy(tmp_path)
    yield proxy
    proxy.close()
