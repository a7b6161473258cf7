"""Benchmark: contval.http against a bare uvloop + httptools loop, both hitting nginx on loopback.

Not a test. It installs nothing: it needs `nginx` on PATH (Debian: `apt-get install nginx-light`),
and starts it with a temporary config on a free loopback port answering a 2-byte body, and stops it
afterwards. Each generator runs in its own child process pinned to one core (nginx gets the other
core when there is one), drives 50 keep-alive connections for `--duration` seconds, and reports
requests/s and CPU µs per request from `resource.getrusage` of the child. The bare loop is the
ceiling a Python client can reach; the ratio says what our client's conveniences cost.

    .venv/bin/python bench/http_client.py [--duration 10] [--connections 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httptools
import uvloop

from contval.http import Client, ClientOptions

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    server {{
        listen 127.0.0.1:{port} reuseport;
        location / {{ return 200 "ok"; }}
        # the reference shop's browse flow shape (bench/open_model.py --flow browse), static
        location = /api/products {{
            default_type application/json;
            return 200 '{PRODUCTS}';
        }}
        location /api/products/ {{
            default_type application/json;
            return 200 '{PRODUCT}';
        }}
    }}
}}
"""

PRODUCTS = json.dumps(
    {"items": [{"id": f"p-{n}", "name": f"shoe {n}", "price": 50.0 + n} for n in range(20)]}
)
"""A page of 20 products, as the reference shop's `GET /api/products?limit=20` answers (about
1 KB)."""
PRODUCT = json.dumps({"id": "p-7", "name": "trail runner", "price": 89.0, "stock": 12})
"""One product, as `GET /api/products/ID` answers."""


def free_port() -> int:
    """A free loopback port for nginx to listen on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def nginx(port: int, cpu: int | None) -> Iterator[None]:
    """Run nginx on `port` (pinned to `cpu`) for the duration of the block."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        sys.exit("nginx not found: apt-get install -y nginx-light")
    with tempfile.TemporaryDirectory(prefix="contval-bench-") as tmp:
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=tmp, port=port, PRODUCTS=PRODUCTS, PRODUCT=PRODUCT))
        proc = subprocess.Popen([binary, "-c", str(conf), "-p", tmp, "-e", f"{tmp}/error.log"])
        try:
            wait_for_port(port, proc)
            if cpu is not None:
                for pid in [proc.pid, *children(proc.pid)]:
                    os.sched_setaffinity(pid, {cpu})
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def children(pid: int) -> list[int]:
    """Child pids of `pid` (nginx's worker), from /proc."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    """nginx has no readiness signal but its listening socket; poll it briefly."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"nginx exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("nginx did not start listening")


# --- the bare loop: the ceiling ------------------------------------------------------------------


class BareProtocol(asyncio.Protocol):
    """A request, its response parsed by httptools, the next request: nothing else."""

    def __init__(self, request: bytes, counter: list[int]) -> None:
        self.request = request
        self.counter = counter
        self.parser = httptools.HttpResponseParser(self)
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        if self.parser.get_status_code() == 200:
            self.counter[0] += 1
        self.transport.write(self.request)


async def run_bare(port: int, connections: int, duration: float) -> int:
    """Drive `connections` bare protocols for `duration`; return completed requests."""
    loop = asyncio.get_running_loop()
    counter = [0]
    request = f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    transports = []
    for _ in range(connections):
        transport, _proto = await loop.create_connection(
            lambda: BareProtocol(request, counter), "127.0.0.1", port
        )
        transports.append(transport)
    await asyncio.sleep(duration)
    for transport in transports:
        transport.abort()
    return counter[0]


# --- our client ----------------------------------------------------------------------------------


async def run_ours(port: int, connections: int, duration: float) -> int:
    """Drive `connections` closed-loop users through one pool; return completed requests."""
    async with Client(ClientOptions(max_connections=connections)) as client:
        pool = client.pool(f"http://127.0.0.1:{port}")
        template = pool.template("GET", "/")
        stop = False
        done = 0

        async def user() -> None:
            nonlocal done
            while not stop:
                response = await pool.request(template)
                if response.status == 200:
                    done += 1

        tasks = [asyncio.ensure_future(user()) for _ in range(connections)]
        await asyncio.sleep(duration)
        stop = True
        await asyncio.gather(*tasks)
        return done


RUNNERS: dict[str, Callable[[int, int, float], Any]] = {"bare": run_bare, "contval": run_ours}


def child(name: str, port: int, connections: int, duration: float, cpu: int) -> None:
    """Measure one generator in this (fresh) process and print a JSON line."""
    os.sched_setaffinity(0, {cpu})
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    count = uvloop.run(RUNNERS[name](port, connections, duration))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({"name": name, "requests": count, "wall": wall, "cpu": cpu_s}))


def measure(name: str, port: int, args: argparse.Namespace) -> tuple[float, float]:
    """Run one generator in a child process (so rusage covers exactly that run).

    Returns requests per second and CPU microseconds per request.
    """
    command = [sys.executable, __file__, "--child", name, "--port", str(port)]
    command += ["--duration", str(args.duration), "--connections", str(args.connections)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    row = json.loads(out.strip().splitlines()[-1])
    return row["requests"] / row["wall"], row["cpu"] / row["requests"] * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--child")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    if args.child:
        child(args.child, args.port, args.connections, args.duration, cores[0])
        return
    port = free_port()
    with nginx(port, cores[-1] if len(cores) > 1 else None):
        rows = {name: measure(name, port, args) for name in ("bare", "contval")}
    print(f"{'generator':<10} {'req/s':>10} {'CPU µs/req':>11}")
    for name, (rate, cpu_us) in rows.items():
        print(f"{name:<10} {rate:>10,.0f} {cpu_us:>11.1f}")
    print(f"contval / bare CPU per request: {rows['contval'][1] / rows['bare'][1]:.2f}x")
    print(f"contval / bare requests/s:      {rows['contval'][0] / rows['bare'][0]:.2f}x")


if __name__ == "__main__":
    main()
