"""The control API: contract shapes, errors, leases, renewal and DELETE all."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from tests.chaos.proxy.peers import (
    Http,
    HttpClient,
    HttpStats,
    add_toxic,
    control,
    listen_of,
    running_proxy,
    upstream,
)

pytestmark = pytest.mark.anyio


async def test_health_and_links() -> None:
    async with upstream(lambda: Http(HttpStats())) as up, running_proxy(up, "pay") as proxy:
        health = await control(proxy, "GET", "/health")
        links = await control(proxy, "GET", "/links")
    assert health == (200, {"status": "ok", "pid": os.getpid()})
    assert links[0] == 200
    link = links[1]["links"]["pay"]
    assert link["upstream"] == f"{up[0]}:{up[1]}"
    assert link["listen"] == f"127.0.0.1:{proxy.links['pay'].listen[1]}"
    assert (link["connections"], link["active"], link["toxics"]) == (0, 0, [])


async def test_created_toxic_echoes_the_contract_fields() -> None:
    async with upstream(lambda: Http(HttpStats())) as up, running_proxy(up) as proxy:
        status, toxic = await control(
            proxy,
            "POST",
            "/links/l/toxics",
            {
                "id": "slow",
                "type": "latency",
                "params": {"delay": 0.2, "jitter": 0.05},
                "direction": "both",
                "fraction": 0.5,
                "lease": 10,
            },
        )
    assert status == 201
    assert 9.0 < toxic.pop("expires_in") <= 10.0  # counts down from the lease as time passes
    assert toxic == {
        "id": "slow",
        "type": "latency",
        "params": {"delay": 0.2, "jitter": 0.05},
        "direction": "both",
        "fraction": 0.5,
        "lease": 10.0,
        "hits": 0,
    }


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "needle"),
    [
        ("POST", "/links/nope/toxics", {"id": "a", "type": "reset"}, 404, "unknown link"),
        ("POST", "/links/l/toxics", {"id": "a", "type": "warp"}, 400, "unknown type"),
        ("POST", "/links/l/toxics", {"id": "a", "type": "latency"}, 400, "delay"),
        (
            "POST",
            "/links/l/toxics",
            {"id": "a", "type": "latency", "params": {"delay": -1}},
            400,
            "between",
        ),
        (
            "POST",
            "/links/l/toxics",
            {"id": "a", "type": "reset", "params": {"x": 1}},
            400,
            "unknown param",
        ),
        ("POST", "/links/l/toxics", {"id": "a", "type": "reset", "fraction": 2}, 400, "fraction"),
        ("POST", "/links/l/toxics", {"id": "a", "type": "reset", "lease": 0}, 400, "lease"),
        (
            "POST",
            "/links/l/toxics",
            {"id": "a", "type": "reset", "direction": "up"},
            400,
            "direction",
        ),
        (
            "POST",
            "/links/l/toxics",
            {"id": "a", "type": "http-error", "params": {"status": 200}},
            400,
            "status",
        ),
        (
            "POST",
            "/links/l/toxics",
            {"id": "a", "type": "bandwidth", "params": {"rate": True}},
            400,
            "number",
        ),
        ("POST", "/links/l/toxics", [1], 400, "object"),
        ("POST", "/links/l/toxics/a/renew", {"lease": 5}, 404, "expired"),
        ("DELETE", "/links/l/toxics/a", None, 404, "no toxic"),
        ("GET", "/nowhere", None, 404, "no route"),
        ("PUT", "/links", None, 405, "not allowed"),
    ],
)
async def test_control_errors(
    method: str, path: str, body: object, status: int, needle: str
) -> None:
    async with upstream(lambda: Http(HttpStats())) as up, running_proxy(up) as proxy:
        got, payload = await control(proxy, method, path, body)
    assert got == status
    assert needle in payload["error"]


async def test_duplicate_id_is_a_conflict() -> None:
    async with upstream(lambda: Http(HttpStats())) as up, running_proxy(up) as proxy:
        await add_toxic(proxy, "reset", id="down")
        status, payload = await control(
            proxy, "POST", "/links/l/toxics", {"id": "down", "type": "refuse", "lease": 5}
        )
    assert status == 409
    assert "already exists" in payload["error"]


async def test_invalid_json_is_400() -> None:
    async with upstream(lambda: Http(HttpStats())) as up, running_proxy(up) as proxy:
        reader, writer = await asyncio.open_connection(*proxy.control)
        writer.write(b"POST /links/l/toxics HTTP/1.1\r\nContent-Length: 3\r\n\r\n{x}")
        head = await reader.readuntil(b"\r\n\r\n")
        writer.close()
    assert head.startswith(b"HTTP/1.1 400 ")


async def test_renew_extends_and_delete_all_clears() -> None:
    async with upstream(lambda: Http(HttpStats())) as up, running_proxy(up) as proxy:
        await add_toxic(proxy, "latency", params={"delay": 0.01}, lease=1)
        await add_toxic(proxy, "http-delay", params={"delay": 0.01}, lease=1)
        status, renewed = await control(
            proxy, "POST", "/links/l/toxics/latency/renew", {"lease": 60}
        )
        cleared = await control(proxy, "DELETE", "/toxics")
        _, links = await control(proxy, "GET", "/links")
    assert status == 200
    assert renewed["lease"] == 60.0
    assert renewed["expires_in"] > 59
    assert cleared == (204, None)
    assert links["links"]["l"]["toxics"] == []


async def test_lease_lapses_and_the_link_is_clean_again() -> None:
    async with upstream(lambda: Http(HttpStats())) as up, running_proxy(up) as proxy:
        client = await HttpClient.connect(listen_of(proxy))
        await add_toxic(proxy, "latency", params={"delay": 0.3}, lease=1)
        added = time.monotonic()
        assert await client.timed_get() >= 0.3
        while True:  # no event to wait on from outside: watch the API as a controller would
            _, links = await control(proxy, "GET", "/links")
            if not links["links"]["l"]["toxics"]:
                break
            await asyncio.sleep(0.05)
        gone = time.monotonic() - added
        clean = [await client.timed_get() for _ in range(5)]
        client.close()
    assert 1.0 <= gone <= 1.0 + 0.5 + 0.2
    assert max(clean) < 0.05
