"""The `prometheus:` source against a real Prometheus server (Debian's `prometheus`, installed by
`make test` through scripts/sysdeps.sh) scraping the real shop: range queries over exactly the
load's window agree with contval's own scrape of the same metrics within 10 %."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contval.signals.promql import substitute
from tests.contoso_shoes.conftest import wait_for
from tests.pipeline.test_chaos_run import Stage, free_port, stage  # noqa: F401

BINARY = shutil.which("prometheus")
pytestmark = pytest.mark.skipif(
    BINARY is None, reason="Debian's prometheus is not installed (make test installs it)"
)


class Server:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, text: str) -> Any:
        address = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': text})}"
        with urllib.request.urlopen(address, timeout=5) as response:
            return json.loads(response.read())["data"]["result"]


@pytest.fixture
def prometheus(stage: Stage, tmp_path: Path) -> Iterator[Server]:  # noqa: F811
    port = free_port()
    shop = stage.system.url.split("//", 1)[1]
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - {{job_name: shop, static_configs: [{{targets: ['{shop}']}}]}}\n"
    )
    log = (tmp_path / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            str(BINARY),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(f"http://127.0.0.1:{port}")

    def scraped() -> bool:
        assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()
        try:
            return any(r["value"][1] == "1" for r in server.query('up{job="shop"}'))
        except OSError:
            return False

    try:
        wait_for(scraped, 60, "Prometheus to scrape the shop", every=0.2)
        yield server
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_range_queries_agree_with_the_scrape_source(
    stage: Stage,  # noqa: F811
    prometheus: Server,
) -> None:
    sources = f"""metrics_sources:
  shop: {{scrape: {{target: shop, every: 1s}}}}
  prom: {{prometheus: {{url: "{prometheus.url}", step: 1s}}}}
signals:
  depth: {{source: shop, gauge: shop_queue_depth}}
  orders: {{source: shop, rate: shop_orders_total}}
  depth_prom: {{source: prom, query: 'sum(shop_queue_depth{{job="shop"}})'}}
  orders_prom: {{source: prom, query: 'sum(rate(shop_orders_total{{job="shop"}}[5s]))'}}
  peak_prom: {{source: prom, query: 'max_over_time(shop_queue_depth[$__range] @ $__end)'}}
"""
    suite = stage.suite(
        "  down: {type: reset, target: payments-link}",
        """  payments-down:
    workload: load
    chaos: [{fault: down, at: 3s, for: 6s}]
    thresholds:
      - signal(depth) max < 3 during down
      - signal(depth_prom) max < 3 during down
      - signal(depth_prom) max < 100000 during down""",
        duration="14s",
        targets=sources,
    )
    proc = stage.run(suite)
    output, _ = proc.communicate(timeout=180)
    assert proc.returncode == 1, output
    scenario = stage.result()["scenarios"][0]
    verdicts = {t["expression"]: t["verdict"] for t in scenario["thresholds"]}
    assert verdicts == {
        "signal(depth) max < 3 during down": "fail",
        "signal(depth_prom) max < 3 during down": "fail",  # Prometheus sees the queue grow too
        "signal(depth_prom) max < 100000 during down": "pass",
    }
    signals = scenario["signals"]
    prom = signals["depth_prom"]
    assert prom["kind"] == "query" and prom["failed"] == 0 and prom["step_s"] == 1.0
    assert prom["query"] == 'sum(shop_queue_depth{job="shop"})'
    for ours, theirs in (("depth", "depth_prom"), ("orders", "orders_prom")):
        a, b = signals[ours]["series"], signals[theirs]["series"]
        pairs = list(zip(a, b, strict=True))[5:]  # after the 5s rate window's warm-up
        both = [(x, y) for x, y in pairs if x is not None and y is not None]
        assert len(both) >= 6, (a, b)
        mean_a = sum(x for x, _ in both) / len(both)
        mean_b = sum(y for _, y in both) / len(both)
        assert abs(mean_a - mean_b) <= 0.1 * max(mean_a, mean_b), (ours, a, b)
    peak = signals["peak_prom"]
    assert "[14s] @ " in peak["query"] and "$__" not in peak["query"]
    top = max(v for v in signals["depth"]["series"] if v is not None)
    peaks = [v for v in peak["series"] if v is not None]
    assert peaks and abs(max(peaks) - top) <= 0.1 * top, (peaks, top)


def test_substitution_names_the_load_window() -> None:
    text = substitute("rate(x[$__step]) @ $__end + $__range - $__start", 5, 1000.0, 1040.25)
    assert text == "rate(x[5s]) @ 1040.250 + 40s - 1000.000"


def test_a_refused_query_or_an_unknown_metric_is_exit_3_naming_the_signal(
    stage: Stage,  # noqa: F811
    prometheus: Server,
) -> None:
    def probe(signals: str) -> str:
        suite = stage.suite(
            "  f: {type: latency, target: payments-link, delay: 1ms}",
            """  s:
    workload: load""",
            targets=f"""metrics_sources:
  prom: {{prometheus: {{url: "{prometheus.url}"}}}}
signals:
{signals}""",
        )
        proc = stage.run(suite)
        output, _ = proc.communicate(timeout=60)
        assert proc.returncode == 3, output
        return output

    output = probe("  broken: {source: prom, query: 'sum(rate(shop_orders_total[$__step])'}\n")
    assert "signal 'broken': Prometheus ('prom') refused the query" in output
    # valid PromQL that Prometheus would answer with nothing: refused before the load with
    # the names the server does offer (a declared counter without samples yet is known)
    output = probe(
        "  orders: {source: prom, query: 'sum(rate(shop_orders_total{result=\"failed\"}[5s]))'}\n"
        "  depth: {source: prom, query: 'max by (job) (shop_queue_dept{job=\"shop\"}) > bool 0'}\n"
    )
    flat = " ".join(output.split())  # the console wraps long lines
    assert (
        "signal 'depth': Prometheus ('prom') has no metric 'shop_queue_dept' (in the query "
        "'max by (job) (shop_queue_dept{job=\"shop\"}) > bool 0'); did you mean shop_queue_depth"
    ) in flat, output
    scenario = stage.result()["scenarios"][0]
    assert scenario["verdict"] == "error" and stage.result()["exit_code"] == 3
