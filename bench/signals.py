"""Scrape cost: a 200-series exposition read every second costs under 2 % of one core.

Serves a real Prometheus text exposition (a prometheus_client registry: 40 counters with their
_created, 60 gauges, a histogram of 4 routes with buckets, _sum, _count, _created: 212 samples)
from a threaded HTTP server on loopback, runs contval's Scraper on its own thread, and reports the
scraper thread's CPU per scrape (`time.thread_time`), i.e. the fraction of one core at 1 scrape/s.

    .venv/bin/python bench/signals.py [--scrapes 60] [--every 0.05]
"""

from __future__ import annotations

import argparse
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from contval.signals.scrape import Scraper, parse


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


if __name__ == "__main__":
    main()
