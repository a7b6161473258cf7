"""The hostile server for every test here, and suites with one flow per hostile route."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest

from tests.hostile.server import HostileServer

CHECK = '{status: 200, json: {"$.v": {exists: true}}}'


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def route_flows(routes: Iterable[str], timeout: str = "300ms") -> str:
    """A `flows:` block (2-space indented) with one flow per route: `GET /<route>`, checked."""
    return "".join(
        f"""  {route}:
    target: app
    steps:
      - name: get
        request: GET /{route}
        timeout: {timeout}
        check: {CHECK}
"""
        for route in routes
    )
