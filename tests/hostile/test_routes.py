"""Every hostile route through the real client and flow runner: each completes, and its one
request is recorded under the error class the route table names (or as a success)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from contval.flows import compile_program
from contval.http import Client, ClientOptions, HttpError, now
from contval.metrics import ErrorClass, Recorder
from contval.spec import load_suite_text
from tests.hostile.conftest import route_flows
from tests.hostile.server import GZIP_BOMB, ROUTES, HostileServer

pytestmark = pytest.mark.anyio


def _suite_text(url: str, routes: list[str]) -> str:
    return (
        f"version: 1\nname: hostile\ntargets:\n  app: {url}\nflows:\n{route_flows(routes)}"
        "workloads: {w: {executor: constant-vus, vus: 1, duration: 1s, mix: {ok: 1}}}\n"
        "scenarios: {s: {workload: w}}\n"
    )


async def test_every_hostile_route_completes_with_its_error_class(
    hostile: HostileServer, tmp_path: Path
) -> None:
    routes = list(ROUTES)
    suite = load_suite_text(_suite_text(hostile.url, routes), tmp_path / "s.yaml")
    recorder = Recorder()
    async with Client(ClientOptions(max_connections=len(routes), timeout=5)) as client:
        runner = compile_program(suite).bind(client, recorder)
        async with asyncio.timeout(20):
            results = await asyncio.gather(*(runner.run(route, now()) for route in routes))
    seen: dict[str, tuple[ErrorClass | None, int]] = {}
    for route, ok in zip(routes, results, strict=True):
        slot = recorder.slot(route, "get")
        classes = [kind for kind in ErrorClass if slot.errors[kind]]
        seen[route] = (classes[0] if len(classes) == 1 else None, slot.requests)
        assert ok is (ROUTES[route][1] is None), route
        assert sum(slot.errors) == (0 if ok else 1), (route, slot.errors)
    expected = {route: (kind, 1) for route, (_, kind) in ROUTES.items()}
    assert seen == expected
    assert len(ROUTES) >= 40


async def test_a_gzip_bomb_is_just_its_compressed_bytes_bounded_by_max_body(
    hostile: HostileServer,
) -> None:
    async with Client(ClientOptions(max_body=1024 * 1024, timeout=20)) as client:
        pool = client.pool(hostile.url)
        bomb = await pool.request(pool.template("GET", "/gzip-bomb"))
        with pytest.raises(HttpError) as caught:
            await pool.request(pool.template("GET", "/gzip-endless"))
    assert bomb.header("content-encoding") == "gzip"
    assert bomb.body == GZIP_BOMB  # 64 MiB of zeros stay 64 KiB: never inflated
    assert caught.value.kind is ErrorClass.MALFORMED
    assert f"exceeds {1024 * 1024} bytes" in str(caught.value)
