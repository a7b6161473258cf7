"""`contval run` end to end over mutual TLS through an HTTPS_PROXY tunnel, two workers: the
timing breakdown merged into result.json matches what the server and the proxy saw, and the
console, summary.md and report.html show it."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import pytest

from tests.http.connect_proxy import ConnectProxy
from tests.http.pki import Pki
from tests.http.servers import OK, RawServer

pytestmark = pytest.mark.anyio

SUITE = """\
version: 1
name: tls-run
targets:
  shop: https://shop.test:{port}
target_options:
  shop:
    tls: {{ca_file: ca.pem, client_cert: client.pem, client_key: client.key}}
flows:
  f:
    target: shop
    steps:
      - {{name: get, request: GET /ok, check: {{status: 200}}}}
workloads:
  w: {{executor: constant-arrival-rate, rate: 100/s, duration: 2s, max_vus: 4, mix: {{f: 1}}}}
scenarios:
  s: {{workload: w, thresholds: ["error_rate == 0%"]}}
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # servers on the test's loop, `contval run` as a subprocess


async def test_a_run_over_mutual_tls_through_a_proxy_reports_its_breakdown(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    pki = Pki.create(tmp_path_factory.mktemp("pki"))
    out = pki.root / "out"
    context = pki.server_context(require_client_cert=True)
    async with RawServer(tls=context) as server, ConnectProxy({"shop.test": "127.0.0.1"}) as proxy:
        port = server.port
        suite = pki.root / "suite.yaml"
        suite.write_text(SUITE.format(port=port))
        env = {**os.environ, "HTTPS_PROXY": proxy.url, "NO_PROXY": ""}
        command = [sys.executable, "-m", "contval", "run", str(suite), "--out", str(out)]
        process = await asyncio.create_subprocess_exec(
            *command, "--workers", "2", "--no-history", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    text = output.decode(errors="replace")
    assert process.returncode == 0, text
    step = json.loads((out / "result.json").read_text())["scenarios"][0]["flows"]["f"]
    step = step["steps"]["get"]
    timing = step["timing"]
    requests = step["requests"]
    assert requests == 200 and step["errors"] == 0
    assert timing["responses"] == requests
    new, reused = timing["connections"]["new"], timing["connections"]["reused"]
    assert new + reused == requests
    assert 2 <= new == len(proxy.tunnels) == server.stats.connections <= 8  # ≤ 4 VUs per worker
    assert timing["connect"]["count"] == timing["tls"]["count"] == new
    assert timing["tls"]["p50"] > 0 and timing["waiting_ms"] > 0
    assert timing["bytes_received"] == requests * len(OK)
    assert timing["bytes_sent"] == sum(len(head) for head in server.stats.heads)
    assert set(proxy.tunnels) == {f"shop.test:{port}"}
    assert "timing breakdown" in text
    assert "Timing breakdown" in (out / "summary.md").read_text()
    assert "Timing breakdown" in (out / "report.html").read_text()
