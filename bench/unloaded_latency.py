"""Benchmark: the latency contval.http reports for one request at a time against nginx.

Not a test. What a generator adds to an unloaded request is what it reports on a fast server
that is not busy: here a keep-alive connection to nginx answering 2 bytes on loopback, one
request in flight, a 0.2 ms pause between requests (the loop goes idle, as at a low arrival
rate). Prints the p50, p90 and p99 of the latency the client reports (`completed_at` minus the
clock read just before `request`), and of its "waiting" (written to first byte), in µs. Point
PYTHONPATH at another tree's `src` to compare trees (the held writes of `contval.http.writes`
must not show here):

    .venv/bin/python bench/unloaded_latency.py [--requests 5000] [--cpu 0]
    PYTHONPATH=/tmp/old/src .venv/bin/python bench/unloaded_latency.py

Needs `nginx` on PATH (Debian: `apt-get install nginx-light`); nginx runs on the other core.
"""

from __future__ import annotations

import argparse
import asyncio
import os

import uvloop

from contval.http import Client, now
from http_client import free_port, nginx


def percentiles(values: list[float]) -> str:
    values = sorted(values)
    n = len(values)
    return "  ".join(f"p{q} {values[min(n - 1, n * q // 100)] * 1e6:6.1f}" for q in (50, 90, 99))


async def measure(port: int, requests: int) -> None:
    async with Client() as client:
        pool = client.pool(f"http://127.0.0.1:{port}")
        template = pool.template("GET", "/")
        for _ in range(200):  # warm: the connection, the parser, the code paths
            await pool.request(template)
        latency: list[float] = []
        waiting: list[float] = []
        for _ in range(requests):
            start = now()
            response = await pool.request(template)
            latency.append(response.completed_at - start)
            waiting.append(response.first_byte_at - response.sent_at)
            await asyncio.sleep(0.0002)
    print(f"latency µs  {percentiles(latency)}")
    print(f"waiting µs  {percentiles(waiting)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--cpu", type=int, default=0)
    args = parser.parse_args()
    port = free_port()
    cores = os.cpu_count() or 1
    with nginx(port, (args.cpu + 1) % cores if cores > 1 else None):
        os.sched_setaffinity(0, {args.cpu})
        uvloop.run(measure(port, args.requests))


if __name__ == "__main__":
    main()
