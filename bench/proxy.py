"""Benchmark: what the idle fault proxy costs, direct to nginx vs through the proxy.

Not a test. Needs `nginx` on PATH (started on a free loopback port with a temporary config,
answering a 2-byte body) and starts the proxy as a real process (`python -m contval.chaos.proxy`)
with one link in front of it and no toxic. Two figures, each measured both ways in the same run:

- added latency: many sequential small requests on one keep-alive connection; p50/p99 through
  the proxy minus direct (target: p50 added < 0.2 ms);
- throughput: N keep-alive connections, each sending its next request as soon as the previous
  answer arrives, for `--duration` seconds (target: proxy ≥ 0.5 × direct);
- CPU per request of each process during the throughput runs (Linux /proc): the proxy relays
  two chunks per request, each one read and one write syscall, so it pays twice the kernel work
  nginx does; on a machine with fewer cores than busy processes (client, nginx, proxy) the ratio
  is bounded by that. The machine's busy share is printed too: when the three processes account
  for much less, something else shares the cores and the ratio is not the proxy's alone.

The client is a bare uvloop + asyncio.Protocol + httptools loop, so it is not the bottleneck.

    .venv/bin/python bench/proxy.py [--requests 20000] [--connections 50] [--duration 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httptools
import uvloop

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
        listen 127.0.0.1:{port};
        location / {{ return 200 "ok"; }}
    }}
}}
"""
REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
Address = tuple[str, int]
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process and its children's tasks; (0, 0) without /proc."""
    total_user = total_sys = 0.0
    try:
        pids = [pid]
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
        for one in pids:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
            total_user += int(fields[11]) / TICK
            total_sys += int(fields[12]) / TICK
    except (OSError, ValueError, IndexError):
        return 0.0, 0.0
    return total_user, total_sys


def machine_ticks() -> tuple[int, int, int]:
    """(busy, steal, total) jiffies over all cores from /proc/stat (zeros without it)."""
    try:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    steal = fields[7] if len(fields) > 7 else 0  # taken by the hypervisor for other guests
    return sum(fields) - idle, steal, sum(fields)


class Cpu:
    """CPU seconds spent by the client (this process), nginx and the proxy over a window."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start: dict[str, tuple[float, float]] = {}
        self.spent: dict[str, tuple[float, float]] = {}
        self.ticks = (0, 0, 0)
        self.busy = 0.0  # share of all cores busy over the window (any process, irq, steal)
        self.steal = 0.0  # of which stolen by the hypervisor

    def _read(self) -> dict[str, tuple[float, float]]:
        times = os.times()
        now = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        now["client"] = (times.user, times.system)
        return now

    def begin(self) -> None:
        self.start = self._read()
        self.ticks = machine_ticks()

    def end(self) -> None:
        now = self._read()
        busy, steal, total = machine_ticks()
        if total > self.ticks[2]:
            self.busy = (busy - self.ticks[0]) / (total - self.ticks[2])
            self.steal = (steal - self.ticks[1]) / (total - self.ticks[2])
        self.spent = {k: (now[k][0] - self.start[k][0], now[k][1] - self.start[k][1]) for k in now}


def free_port() -> int:
    """A free loopback port for nginx."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(address: Address, timeout: float = 10.0) -> None:
    """nginx gives no readiness signal: try to connect until it answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(address, timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


@contextmanager
def nginx(tmp: Path) -> Iterator[tuple[Address, int]]:
    """nginx on a free port, stopped afterwards."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(tmp=tmp, port=port))
    proc = subprocess.Popen([binary, "-c", str(conf), "-e", str(tmp / "error.log")])
    try:
        wait_listening(("127.0.0.1", port))
        yield ("127.0.0.1", port), proc.pid
    finally:
        proc.terminate()
        proc.wait()


@contextmanager
def proxy(tmp: Path, upstream: Address) -> Iterator[tuple[Address, int]]:
    """The fault proxy in its own process, one link, no toxic; yields the link's address, PID."""
    state = tmp / "proxy.json"
    link = f"bench=127.0.0.1:0={upstream[0]}:{upstream[1]}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contval.chaos.proxy",
            "--control",
            "127.0.0.1:0",
            "--link",
            link,
            "--state",
            str(state),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # printed once listening
        host, port = json.loads(state.read_text())["links"]["bench"]["listen"].rsplit(":", 1)
        yield (host, int(port)), proc.pid
    finally:
        proc.terminate()
        proc.wait()


class Client(asyncio.Protocol):
    """Keep-alive connection sending the next request as soon as an answer is complete."""

    def __init__(self, done: asyncio.Future[None] | None, samples: list[int] | None) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.samples = samples
        self.done = done
        self.count = 0
        self.sent = 0
        self.running = True
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.send()

    def send(self) -> None:
        self.sent = time.perf_counter_ns()
        assert self.transport is not None
        self.transport.write(REQUEST)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        self.count += 1
        if self.samples is not None:
            self.samples.append(time.perf_counter_ns() - self.sent)
        if self.running:
            self.send()
        elif self.done is not None and not self.done.done():
            self.done.set_result(None)


async def latencies(address: Address, count: int) -> list[int]:
    """`count` sequential requests on one connection (after a warm-up); ns per round trip."""
    loop = asyncio.get_running_loop()
    samples: list[int] = []
    done: asyncio.Future[None] = loop.create_future()
    client = Client(done, samples)
    transport, _ = await loop.create_connection(lambda: client, *address)
    while client.count < count + 500:
        await asyncio.sleep(0.01)
    client.running = False
    await done
    transport.close()
    return samples[500 : 500 + count]


async def throughput(address: Address, connections: int, duration: float, cpu: Cpu) -> float:
    """Requests per second over `connections` keep-alive connections (CPU spent into `cpu`)."""
    loop = asyncio.get_running_loop()
    clients = [Client(None, None) for _ in range(connections)]
    transports = [
        (await loop.create_connection(lambda c=c: c, *address))[0]  # type: ignore[misc]
        for c in clients
    ]
    await asyncio.sleep(0.5)  # warm-up
    cpu.begin()
    start, before = time.perf_counter(), sum(c.count for c in clients)
    await asyncio.sleep(duration)
    done = sum(c.count for c in clients) - before
    rate = done / (time.perf_counter() - start)
    cpu.end()
    cpu.spent = {k: (u * 1e6 / done, s * 1e6 / done) for k, (u, s) in cpu.spent.items()}
    for client, transport in zip(clients, transports, strict=True):
        client.running = False
        transport.close()
    return rate


def percentile(samples: list[int], share: float) -> float:
    """In milliseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] / 1e6


async def measure(
    direct: Address, proxied: Address, pids: dict[str, int], args: argparse.Namespace
) -> None:
    """Alternate direct and proxied runs so drift hits both alike."""
    lat: dict[str, list[int]] = {"direct": [], "proxy": []}
    for _ in range(2):
        lat["direct"] += await latencies(direct, args.requests // 2)
        lat["proxy"] += await latencies(proxied, args.requests // 2)
    cpus = {"direct": Cpu({"nginx": pids["nginx"]}), "proxy": Cpu(pids)}
    rates = {
        "direct": await throughput(direct, args.connections, args.duration, cpus["direct"]),
        "proxy": await throughput(proxied, args.connections, args.duration, cpus["proxy"]),
    }
    p50 = {k: percentile(v, 0.5) for k, v in lat.items()}
    p99 = {k: percentile(v, 0.99) for k, v in lat.items()}
    added50, added99 = p50["proxy"] - p50["direct"], p99["proxy"] - p99["direct"]
    ratio = rates["proxy"] / rates["direct"]
    print(f"sequential requests: {args.requests} each way (one keep-alive connection)")
    for key in lat:
        print(f"  {key:6}  p50 {p50[key]:.3f} ms   p99 {p99[key]:.3f} ms")
    verdict50 = "OK" if added50 < 0.2 else "MISSED"
    print(f"  added   p50 {added50:.3f} ms (target < 0.2 ms: {verdict50})   p99 {added99:.3f} ms")
    print(f"throughput: {args.connections} connections, {args.duration:g} s each way")
    for key, rate in rates.items():
        print(f"  {key:6}  {rate:,.0f} req/s")
    print(f"  ratio   {ratio:.2f} x direct (target >= 0.5: {'OK' if ratio >= 0.5 else 'MISSED'})")
    print_cpu(cpus, rates)


def print_cpu(cpus: dict[str, Cpu], rates: dict[str, float]) -> None:
    """CPU µs per request (user + sys) per process, and what bounds the proxied rate."""
    spent = cpus["proxy"].spent
    if not spent.get("proxy", (0.0, 0.0))[0] + spent.get("proxy", (0.0, 0.0))[1]:
        return  # no /proc: nothing measured
    cores = os.cpu_count() or 1
    print(f"cpu per request during throughput (us, user + sys; {cores} cores)")
    for key, cpu in cpus.items():
        parts = "   ".join(
            f"{name} {u + s:5.1f} ({u:.1f} + {s:.1f})" for name, (u, s) in cpu.spent.items()
        )
        print(f"  {key:6}  {parts}   machine busy {cpu.busy:.0%} (steal {cpu.steal:.0%})")
    proxy_us, nginx_us = sum(spent["proxy"]), sum(spent["nginx"])
    cpu = cpus["proxy"]
    accounted = sum(u + s for u, s in spent.values()) * rates["proxy"] / 1e6 / cores
    print(
        f"  proxy   {proxy_us / nginx_us:.1f} x nginx's CPU per request;"
        f" these three account for {accounted:.0%} of the machine, busy {cpu.busy:.0%}"
        " (the rest: other load or kernel work charged to no process: figures are noisy)"
    )


def main() -> None:
    """Parse, start nginx and the proxy, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        with nginx(tmp) as (direct, nginx_pid), proxy(tmp, direct) as (proxied, proxy_pid):
            pids = {"nginx": nginx_pid, "proxy": proxy_pid}
            uvloop.run(measure(direct, proxied, pids, args))


if __name__ == "__main__":
    main()
