"""The hostile server for every test here, and suites with one flow per hostile route."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest

from contval.metrics import ErrorClass
from tests.hostile.server import ROUTES, HostileServer

CHECK = '{status: 200, json: {"$.v": {exists: true}}}'


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


STATUS_ONLY = frozenset({"body-endless-cl", "body-endless-eof", "chunk-endless", "gzip-endless"})
"""Endless bodies no JSON check could read: a status-only step never stores them (memory stays
flat) and they still end, MALFORMED, at max_body."""


def route_flows(routes: Iterable[str], status_only: Iterable[str] = ()) -> str:
    """A `flows:` block (2-space indented) with one flow per route: `GET /<route>`, checked
    with CHECK, or only its status for the routes in `status_only`.

    Routes meant to time out get 300ms; the others 20s, so an endless body still ends at the
    client's limits (MALFORMED), not at a timeout, on a busy machine.
    """
    plain = frozenset(status_only)
    return "".join(
        f"""  {route}:
    target: app
    steps:
      - name: get
        request: GET /{route}
        timeout: {"300ms" if ROUTES[route][1] is ErrorClass.TIMEOUT else "20s"}
        check: {"{status: 200}" if route in plain else CHECK}
"""
        for route in routes
    )
