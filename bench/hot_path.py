"""Benchmark: the Python cost of one request on the closed-loop hot path, with no sockets.

Not a test. The real suite loader, compiler, flow runner, pool, connection, httptools parser and
recorder run the single-GET flow of `bench/generators.py` (`GET /`, check status 200) for 50
virtual users on uvloop, but each connection's transport is in memory: a write schedules the
canned response nginx sends (`call_soon`, one loop turn later, as a socket read would come). No
kernel, no second process: what is left is contval's own CPU per request, the figure that issue
15's hot-path budget (no more than 5 % loss) is about, free of the noise a shared 2-core machine
puts on `bench/generators.py`.

Prints CPU µs per request (process CPU time over `--requests` requests, best of `--repeat`).
Point PYTHONPATH at another tree's `src` to compare trees:

    .venv/bin/python bench/hot_path.py [--requests 200000] [--repeat 5]
    PYTHONPATH=/tmp/old/src .venv/bin/python bench/hot_path.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop

from contval.flows import compile_program
from contval.http import Client
from contval.metrics import Recorder
from contval.spec import load_suite
from generators import SUITE as GENERATORS_SUITE
from http_client import PRODUCT, PRODUCTS
from open_model import FLOWS

SUITE = GENERATORS_SUITE.format(port=9, vus=50, seconds=10)
"""`bench/generators.py`'s suite: nothing listens on port 9, the transport is in memory."""

BROWSE_SUITE = f"""\
version: 1
name: bench-hot-path-browse
targets:
  nginx: http://127.0.0.1:9
flows:
{FLOWS["browse"]}workloads:
  closed:
    executor: constant-vus
    vus: 50
    duration: 10s
    mix: {{browse: 1}}
scenarios:
  bench:
    workload: closed
"""
"""`bench/open_model.py`'s browse flow shape (2 steps, JSON check, extract), as a closed loop."""


def nginx_answer(content_type: bytes, body: bytes) -> bytes:
    """What nginx 1.22 answers a `return 200 '...'` location with (five headers)."""
    return (
        b"HTTP/1.1 200 OK\r\n"
        b"Server: nginx/1.22.1\r\n"
        b"Date: Sat, 05 Dec 2026 15:00:00 GMT\r\n"
        b"Content-Type: " + content_type + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n"
        b"Connection: keep-alive\r\n"
        b"\r\n" + body
    )


RESPONSE = nginx_answer(b"application/octet-stream", b"ok")
"""What nginx answers `location / { return 200 "ok"; }` with."""
LIST_RESPONSE = nginx_answer(b"application/json", PRODUCTS.encode())
PRODUCT_RESPONSE = nginx_answer(b"application/json", PRODUCT.encode())


def answer(request: bytes) -> bytes:
    """nginx's answer to `request`, by its path (bench/http_client.py's locations)."""
    if request.startswith(b"GET /api/products?"):
        return LIST_RESPONSE
    if request.startswith(b"GET /api/products/"):
        return PRODUCT_RESPONSE
    return RESPONSE


class MemoryTransport(asyncio.Transport):
    """A transport whose peer answers every write with RESPONSE on the next loop turn."""

    def __init__(self, loop: asyncio.AbstractEventLoop, protocol: Any) -> None:
        super().__init__()
        self._loop = loop
        self._protocol = protocol
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._loop.call_soon(self._protocol.data_received, answer(bytes(data)))

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    def abort(self) -> None:
        self._closing = True


def _connect_in_memory(pool: Any, loop: asyncio.AbstractEventLoop, count: int) -> None:
    """Put `count` open in-memory connections into `pool`'s idle list."""
    from contval.http.connection import Connection

    for _ in range(count):
        # the pool's own Writes: one flush per loop pass for all its connections, as in a run
        conn = Connection(pool, loop, pool._options.max_body, pool._writes)
        conn.connection_made(MemoryTransport(loop, conn))
        pool._conns.add(conn)
        pool._open += 1
        conn.idle = True
        pool._idle.append(conn)


async def measure(requests: int, vus: int, flow: str = "get") -> float:
    """CPU µs per iteration of `flow` for `requests` iterations over `vus` virtual users."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "suite.yaml"
        path.write_text(SUITE if flow == "get" else BROWSE_SUITE)
        suite = load_suite(path)
    program = compile_program(suite)
    client = Client()
    recorder = Recorder()
    runner = program.bind(client, recorder)
    loop = asyncio.get_running_loop()
    _connect_in_memory(client.pool("http://127.0.0.1:9"), loop, vus)
    per_user = requests // vus
    clock = time.monotonic

    async def user() -> None:
        run = runner.run
        for _ in range(per_user):
            await run(flow, clock())

    for _ in range(2):  # warm up: allocate the histograms, fill caches
        await asyncio.gather(*(user() for _ in range(vus)))
        recorder.snapshot(0)
    began = time.process_time()
    await asyncio.gather(*(user() for _ in range(vus)))
    spent = time.process_time() - began
    took = recorder.snapshot(1)
    steps = 1 if flow == "get" else 2
    done = sum(s.requests for s in took.slots)
    failed = sum(sum(s.errors) + s.checks_failed for s in took.slots)
    expected = per_user * vus * steps
    if done != expected or failed:
        sys.exit(f"expected {expected} requests recorded, found {done} ({failed} failed)")
    return spent / (done / steps) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--vus", type=int, default=50)
    parser.add_argument("--flow", choices=["get", "browse"], default="get")
    args = parser.parse_args()
    import contval

    print(f"tree: {Path(contval.__file__).resolve().parent.parent}")
    figures = []
    for _ in range(args.repeat):
        figures.append(uvloop.run(measure(args.requests, args.vus, args.flow)))
    shown = " ".join(f"{f:.2f}" for f in figures)
    unit = "request" if args.flow == "get" else "iteration"
    print(f"CPU µs per {unit}: best {min(figures):.2f} (runs: {shown})")


if __name__ == "__main__":
    main()
