"""The supervisor behind `python -m contoso_shoes up`: starts shop, payments and worker, waits
until the shop reports healthy, writes DIR/state.json, and restarts any service that dies
after a delay (so chaos experiments can measure recovery). SIGTERM or Ctrl-C stops everything.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from contoso_shoes.services import PARENT_ENV, listening_socket


class StartupError(Exception):
    """The system could not be brought up; the message says why and where the logs are."""


@dataclass(frozen=True)
class UpOptions:
    dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    payments_port: int = 9100
    payments_url: str | None = None  # what the shop dials; set it to a fault proxy's address
    restart_delay: float = 2.0
    ready_timeout: float = 30.0
    route_delays: str = ""
    payments_delay: str = "20ms"
    fulfil_time: str = "20ms"
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass
class Child:
    name: str
    argv: list[str]
    sock: socket.socket | None = None
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    restart_at: float | None = None
    last_exit: int | None = None
    log: TextIO | None = None
    port: int | None = None

    def __post_init__(self) -> None:
        if self.sock is not None:
            self.port = self.sock.getsockname()[1]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "contoso_shoes", *args]


class Supervisor:
    def __init__(self, options: UpOptions) -> None:
        self.options = options
        self.dir = options.dir.resolve()
        self.stopping = threading.Event()
        self.status = "starting"
        self.children: dict[str, Child] = {}
        self.payments_url = ""

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        o = self.options
        (self.dir / "logs").mkdir(parents=True, exist_ok=True)
        try:
            shop_sock = listening_socket(o.host, o.port)
            pay_sock = listening_socket(o.host, o.payments_port)
        except OSError as exc:
            raise StartupError(f"cannot listen on {o.host}: {exc.strerror} ({exc})") from exc
        pay_url = f"http://{o.host}:{pay_sock.getsockname()[1]}"
        self.payments_url = o.payments_url or pay_url
        db = str(self.dir / "shop.db")
        self.children = {
            "payments": Child(
                "payments",
                _cli("payments", "--fd", str(pay_sock.fileno()), "--delay", o.payments_delay),
                pay_sock,
            ),
            "shop": Child(
                "shop",
                _cli(
                    "shop",
                    "--fd",
                    str(shop_sock.fileno()),
                    "--db",
                    db,
                    "--payments-url",
                    self.payments_url,
                    "--delay",
                    o.route_delays,
                ),
                shop_sock,
            ),
            "worker": Child(
                "worker",
                _cli(
                    "worker",
                    "--db",
                    db,
                    "--payments-url",
                    self.payments_url,
                    "--fulfil-time",
                    o.fulfil_time,
                ),
            ),
        }
        from contoso_shoes.db import init_db

        init_db(db)  # before the shop and worker race to create it
        for child in self.children.values():
            self._spawn(child)
        self.write_state()
        self._wait_healthy()
        self.status = "healthy"
        self.write_state()

    def _spawn(self, child: Child) -> None:
        env = {**os.environ, **self.options.extra_env, PARENT_ENV: str(os.getpid())}
        if child.log is None:
            child.log = open(self.dir / "logs" / f"{child.name}.log", "a")  # noqa: SIM115
        child.proc = subprocess.Popen(
            child.argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=child.log,
            stderr=subprocess.STDOUT,
            pass_fds=(child.sock.fileno(),) if child.sock else (),
        )
        (self.dir / f"{child.name}.pid").write_text(f"{child.proc.pid}\n")
        child.restart_at = None

    def _wait_healthy(self) -> None:
        url = f"{self.shop_url}/health"
        deadline = time.monotonic() + self.options.ready_timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            for child in self.children.values():
                if child.proc is not None and child.proc.poll() is not None:
                    raise StartupError(
                        f"{child.name} exited with code {child.proc.returncode} during startup; "
                        f"see {self.dir / 'logs' / (child.name + '.log')}"
                    )
            last = _health_status(url)
            if last == "healthy" or self.stopping.wait(0.1):
                return
        raise StartupError(
            f"the shop was not healthy within {self.options.ready_timeout:g}s: {last}"
        )

    def supervise(self) -> None:
        """Restart services that die, after the restart delay, until asked to stop."""
        while not self.stopping.wait(0.05):
            changed = False
            now = time.monotonic()
            for child in self.children.values():
                if child.proc is not None and child.restart_at is None:
                    code = child.proc.poll()
                    if code is not None:
                        child.last_exit = code
                        child.restart_at = now + self.options.restart_delay
                        changed = True
                elif child.restart_at is not None and now >= child.restart_at:
                    child.restarts += 1
                    self._spawn(child)
                    changed = True
            if changed:
                self.write_state()

    def shutdown(self, timeout: float = 10.0) -> None:
        self.status = "stopping"
        procs = [c.proc for c in self.children.values() if c.proc and c.proc.poll() is None]
        for proc in procs:
            proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for child in self.children.values():
            (self.dir / f"{child.name}.pid").unlink(missing_ok=True)
            if child.sock:
                child.sock.close()
            if child.log:
                child.log.close()
        self.status = "stopped"
        self.write_state()

    # -- state ---------------------------------------------------------------------------
    @property
    def shop_url(self) -> str:
        return f"http://{self.options.host}:{self.children['shop'].port}"

    def state(self) -> dict[str, Any]:
        o = self.options
        procs: dict[str, Any] = {}
        for name, child in self.children.items():
            alive = (
                child.proc is not None and child.proc.poll() is None and child.restart_at is None
            )
            entry: dict[str, Any] = {
                "pid": child.proc.pid if alive and child.proc else None,
                "restarts": child.restarts,
                "last_exit": child.last_exit,
                "pidfile": str(self.dir / f"{name}.pid"),
                "log": str(self.dir / "logs" / f"{name}.log"),
            }
            if child.port is not None:
                entry["port"] = child.port
                entry["url"] = f"http://{o.host}:{child.port}"
            procs[name] = entry
        return {
            "version": 1,
            "status": self.status,
            "updated_at": datetime.now(UTC).isoformat(),
            "dir": str(self.dir),
            "db": str(self.dir / "shop.db"),
            "supervisor": {"pid": os.getpid()},
            **procs,
            "payments_url": self.payments_url,
            "restart_delay_s": o.restart_delay,
        }

    def write_state(self) -> None:
        path = self.dir / "state.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.state(), indent=2) + "\n")
        os.replace(tmp, path)


def _health_status(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(json.load(response).get("status"))
    except urllib.error.HTTPError as exc:
        try:
            return str(json.load(exc).get("status"))
        except ValueError:
            return f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"


def run_foreground(options: UpOptions, on_ready: Any = None) -> int:
    """Run the supervisor in this process until SIGTERM or SIGINT."""
    supervisor = Supervisor(options)

    def request_stop(signum: int, frame: object) -> None:
        supervisor.stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    (supervisor.dir).mkdir(parents=True, exist_ok=True)
    try:
        supervisor.start()
        if not supervisor.stopping.is_set():
            if on_ready is not None:
                on_ready(supervisor)
            supervisor.supervise()
    except StartupError as exc:
        print(f"contoso_shoes: {exc}", file=sys.stderr)
        return 1
    finally:
        supervisor.shutdown()
    return 0
