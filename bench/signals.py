"""Scrape cost: a 200-series exposition read every second costs under 2 % of one core.

Serves a real Prometheus text exposition (a prometheus_client registry: 40 counters with their
_created, 60 gauges, a histogram of 4 routes with buckets, _sum, _count, _created: 212 samples)
from a threaded HTTP server on loopback, runs contval's Scraper on its own thread, and reports the
scraper thread's CPU per scrape (`time.thread_time`), i.e. the fraction of one core at 1 scrape/s.

Then the controller's cost of turning scrapes into per-second series: deriving a rate and a
histogram quantile over an hour of scrapes once after the run (result.json, thresholds), and what
an `abort` threshold on a signal costs each second late in that hour (only the seconds that can
still change are derived).

    .venv/bin/python bench/signals.py [--scrapes 60] [--every 0.05] [--hour 3600]
"""

from __future__ import annotations

import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from contval.signals.derive import Kind, Scrape, per_second
from contval.signals.scrape import Scraper, parse
from contval.signals.selector import parse_selector
from contval.signals.series import LiveValues
from contval.spec.signals import Signal


def registry() -> CollectorRegistry:
    """About 200 samples, shaped like a web shop's."""
    r = CollectorRegistry()
    requests = Counter("app_requests", "requests", ["route", "status"], registry=r)
    for i in range(40):
        requests.labels(f"/route/{i}", "200").inc(i + 1)
    queues = Gauge("app_queue_depth", "depth", ["queue"], registry=r)
    for i in range(60):
        queues.labels(f"q{i}").set(i)
    latency = Histogram("app_latency_seconds", "latency", ["route"], registry=r)
    for i in range(4):
        latency.labels(f"/r{i}").observe(0.01 * i)
    return r


def serve(body: bytes) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scrapes", type=int, default=60)
    parser.add_argument("--every", type=float, default=0.05, help="seconds between scrapes")
    parser.add_argument("--hour", type=int, default=3600, help="seconds of scrapes to derive")
    args = parser.parse_args()
    body = generate_latest(registry())
    series = len(parse(body.decode()))
    server = serve(body)
    url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    scraper = Scraper(url, every=args.every)
    scraper.start(origin=scraper.clock())
    done = threading.Event()
    while len(scraper.scrapes) < args.scrapes:
        done.wait(args.every)
    scraper.stop()
    server.shutdown()
    per_scrape = scraper.cpu_seconds / len(scraper.scrapes)
    print(f"series: {series}, exposition: {len(body)} bytes, scrapes: {len(scraper.scrapes)}")
    print(f"scraper CPU per scrape: {per_scrape * 1e3:.2f} ms")
    print(f"at one scrape per second: {per_scrape * 100:.2f} % of one core (limit 2 %)")
    print(f"failed: {scraper.failed}, malformed: {scraper.malformed}")
    derive_cost(parse(body.decode()), args.hour)


def derive_cost(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], n: int) -> None:
    """Per-second series from `n` one-second scrapes of the same exposition (counters grow)."""
    scrapes = [
        Scrape(
            i + 0.5,
            {k: v + i if "_bucket" in k[0] or "_total" in k[0] else v for k, v in samples.items()},
        )
        for i in range(n)
    ]
    rate, p95 = parse_selector("app_requests_total"), parse_selector("app_latency_seconds_bucket")
    began = time.process_time()
    per_second(Kind("rate"), rate, scrapes, n)
    per_second(Kind("histogram_quantile", 0.95), p95, scrapes, n)
    after = time.process_time() - began
    print(f"after a {n}s run: a rate and a p95 derived in {after * 1e3:.0f} ms of CPU")
    live = LiveValues(Signal.model_validate({"source": "s", "rate": "app_requests_total"}))
    holder = Scraper("http://127.0.0.1:9/", 1.0)
    holder.scrapes = scrapes[: n - 60]
    live(holder, n - 60, 0.0)  # the hour so far, settled
    began = time.process_time()
    for second in range(n - 60, n):
        holder.scrapes = scrapes[: second + 1]
        live(holder, second + 1, 0.0)
    each = (time.process_time() - began) / 60
    print(f"an abort check on a rate at the end of that run: {each * 1e3:.2f} ms per second")


if __name__ == "__main__":
    main()
