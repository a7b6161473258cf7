"""How many catalog requests per second the reference shop serves on one core.

Starts the shop (`python -m contoso_shoes up`) in a temporary directory, pins the shop process to
one core and the load client to the other, drives `GET /api/products?limit=20` over keep-alive
connections for a fixed time, and prints requests/s and the shop's CPU µs per request. Repeats
and reports the median. With wrk installed (`apt-get install wrk`) it also measures with wrk in
the same run, as a cross-check of the simple client.

    .venv/bin/python bench/shop_catalog.py [--seconds 10] [--connections 16] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PATH = "/api/products?limit=20"


async def _client(host: str, port: int, stop_at: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    ok = 0
    try:
        while time.monotonic() < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            match = re.search(rb"(?i)content-length:\s*(\d+)", head)
            await reader.readexactly(int(match.group(1)) if match else 0)
            ok += head.startswith(b"HTTP/1.1 200")
    finally:
        counts.append(ok)
        writer.close()


async def _load(host: str, port: int, seconds: float, connections: int) -> int:
    counts: list[int] = []
    stop_at = time.monotonic() + seconds
    await asyncio.gather(*(_client(host, port, stop_at, counts) for _ in range(connections)))
    return sum(counts)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_load_child(port: int, seconds: float, connections: int) -> int:
    """The client runs in its own process on its own core, so it does not share the shop's."""
    here = str(Path(__file__).parent)
    code = (
        f"import asyncio, sys, os; sys.path.insert(0, {here!r}); os.sched_setaffinity(0, {{1}});"
        f"import shop_catalog as b; print(asyncio.run(b._load('127.0.0.1', {port}, {seconds}, "
        f"{connections})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def run_wrk(port: int, seconds: float, connections: int) -> float | None:
    if shutil.which("wrk") is None:
        return None
    out = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            f"http://127.0.0.1:{port}{PATH}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    match = re.search(r"Requests/sec:\s*([\d.]+)", out)
    return float(match.group(1)) if match else None


def measure(pid: int, port: int, args: argparse.Namespace, use_wrk: bool) -> tuple[float, float]:
    cpu0 = cpu_seconds(pid)
    start = time.monotonic()
    if use_wrk:
        rate = run_wrk(port, args.seconds, args.connections) or 0.0
        requests = rate * args.seconds
    else:
        requests = run_load_child(port, args.seconds, args.connections)
    elapsed = time.monotonic() - start
    cpu = cpu_seconds(pid) - cpu0
    return requests / min(elapsed, args.seconds + 0.5), cpu / max(requests, 1) * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="contoso-bench-"))
    cli = [sys.executable, "-m", "contoso_shoes"]
    subprocess.run(
        [*cli, "up", "--dir", str(run_dir), "--port", "0", "--payments-port", "0", "--detach"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        state = json.loads((run_dir / "state.json").read_text())
        pid, port = state["shop"]["pid"], state["shop"]["port"]
        os.sched_setaffinity(pid, {0})
        run_load_child(port, 1.0, args.connections)  # warm-up
        tools = ["python client"] + (["wrk"] if shutil.which("wrk") else [])
        print(
            f"shop pinned to core 0, load on core 1, {args.connections} connections, "
            f"{args.seconds:g}s x {args.repeat}, GET {PATH}"
        )
        for tool in tools:
            runs = [measure(pid, port, args, tool == "wrk") for _ in range(args.repeat)]
            rps = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            print(
                f"{tool:>14}: {rps:8,.0f} req/s (median)   shop CPU {cpu:6.0f} µs/request   "
                f"runs: {', '.join(f'{r[0]:,.0f}' for r in runs)}"
            )
    finally:
        subprocess.run(
            [*cli, "down", "--dir", str(run_dir)], check=False, stdout=subprocess.DEVNULL
        )
        shutil.rmtree(run_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
