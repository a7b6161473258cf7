"""Issue 10 §2: a server that closes keep-alive connections right after reading a request.

A POST whose bytes were written may have been processed, so it is never sent again: each order
id reaches the server once, and each lost one is a counted `reset`. A GET in the same race is
replayed once on a new connection and succeeds.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from contval.http import Client, ClientOptions, ErrorClass, HttpError
from tests.hostile.server import HostileServer

pytestmark = pytest.mark.anyio


async def _drive(server: HostileServer, method: str, total: int, users: int = 50) -> list[str]:
    """`total` requests with unique ids from `users` concurrent callers; the outcome of each."""
    outcomes: list[str] = []
    async with Client(ClientOptions(max_connections=users, timeout=10)) as client:
        pool = client.pool(server.url)
        post = pool.template("POST", "/orders")

        async def user(first: int) -> None:
            for n in range(first, total, users):
                if method == "POST":
                    template, wire = post, post.encode(body=b"order-%d" % n)
                else:
                    template, wire = pool.template("GET", f"/orders?id=get-{n}"), None
                try:
                    response = await pool.request(template, wire)
                    outcomes.append(str(response.status))
                except HttpError as exc:
                    outcomes.append(exc.kind.name)

        await asyncio.gather(*(user(i) for i in range(users)))
    return outcomes


async def test_ten_thousand_posts_each_reach_the_server_once() -> None:
    with HostileServer(drop_nth=3) as server:
        outcomes = await _drive(server, "POST", 10_000)
    assert len(outcomes) == 10_000
    assert server.twice() == []
    assert len(server.orders) == 10_000  # every order arrived, exactly once
    assert server.dropped > 1_000  # the race really happened, many times
    assert outcomes.count(ErrorClass.RESET.name) == server.dropped
    assert outcomes.count("201") == 10_000 - server.dropped


async def test_gets_in_the_same_race_are_replayed_once() -> None:
    with HostileServer(drop_nth=3) as server:
        outcomes = await _drive(server, "GET", 2_000)
    assert outcomes == ["201"] * 2_000  # every dropped GET was replayed and answered
    assert server.dropped > 200
    assert len(server.twice()) == server.dropped  # each dropped one arrived twice, no more
    assert set(server.orders.values()) == {1, 2}


def test_contval_run_never_sends_an_order_twice(tmp_path: Path) -> None:
    rows = 4_000
    (tmp_path / "ids.csv").write_text("id\n" + "".join(f"order-{i}\n" for i in range(rows)))
    with HostileServer(drop_nth=3) as server:
        suite = tmp_path / "suite.yaml"
        suite.write_text(f"""version: 1
name: replay
targets:
  shop: {server.url}
data:
  ids: {{csv: ids.csv, order: unique}}
flows:
  order:
    target: shop
    steps:
      - name: place
        request: POST /orders
        body: "{{{{ data.ids.id }}}}"
        check: {{status: 201}}
  look:
    target: shop
    steps:
      - name: get
        request: GET /orders?id=get-{{{{ data.ids.id }}}}
        check: {{status: 201}}
workloads:
  load:
    executor: constant-arrival-rate
    rate: 600/s
    duration: 2s
    max_vus: 200
    mix: {{order: 3, look: 1}}
scenarios:
  main: {{workload: load, thresholds: ["look/get: error_rate == 0%"]}}
""")
        proc = subprocess.run(
            [sys.executable, "-m", "contval", "run", str(suite), "--out", str(tmp_path / "out"),
             "--workers", "2", "--no-history"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    scenario = json.loads((tmp_path / "out" / "result.json").read_text())["scenarios"][0]
    posts = {k: n for k, n in server.orders.items() if not k.startswith("get-")}
    gets = {k: n for k, n in server.orders.items() if k.startswith("get-")}
    place = scenario["flows"]["order"]["steps"]["place"]
    look = scenario["flows"]["look"]["steps"]["get"]
    assert max(posts.values()) == 1  # zero orders received twice
    assert place["requests"] == len(posts) > 600
    assert place["errors"] == scenario["totals"]["errors_by_class"]["reset"] > 50
    assert look["errors"] == 0 and look["requests"] == len(gets) > 200
    assert sum(n - 1 for n in gets.values()) > 20  # dropped GETs were replayed, and answered
    assert server.dropped == place["errors"] + sum(n - 1 for n in gets.values())
