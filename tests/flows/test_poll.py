"""Polls: attempts are requests, time-to-condition is the step's duration, timeouts fail once."""

from __future__ import annotations

from pathlib import Path

import pytest

from contval.flows import compile_program
from contval.http import Client, now
from contval.metrics import Histogram
from tests.flows.conftest import SEEN, counts, harness, make_suite, options
from tests.flows.test_runner import free_port

pytestmark = pytest.mark.anyio


async def test_poll_until_condition_then_extract(app_url: str, tmp_path: Path) -> None:
    flows = """
    f:
      target: app
      steps:
        - name: wait
          poll:
            request: GET /poll/a?after=3
            until: {status: 200, json: {"$.status": done}}
            every: 20ms
            timeout: 5s
            extract: {ref: {json: "$.ref"}}
        - {name: use, request: "GET /record/{{ ref }}", check: {status: 201}}
    """
    async with Client(options()) as client:
        h = harness(compile_program(make_suite(flows, app_url, tmp_path)), client)
        start = now()
        assert await h.runner.run("f", start)
        elapsed = now() - start
    assert SEEN.polls == {"a": 3}
    assert SEEN.requests[0][1] == "/record/r3"
    wait = h.slot("f", "wait")
    assert counts(wait) == {"requests": 3, "errors": {}, "checks": (1, 0)}
    snapshot = wait.take()
    assert snapshot is not None
    duration = Histogram.decode(snapshot.duration or "")
    assert duration.count == 1
    assert 40_000 <= (duration.max() or 0) <= elapsed * 1e6 + 1_000  # two waits of `every`
    assert Histogram.decode(snapshot.latency or "").count == 3


async def test_poll_timeout_is_one_check_failure(app_url: str, tmp_path: Path) -> None:
    flows = """
    f:
      target: app
      steps:
        - name: wait
          poll: {request: "GET /poll/b?after=1000", until: {json: {"$.status": done}},
                 every: 50ms, timeout: 200ms}
        - {name: after, request: GET /items}
    """
    async with Client(options()) as client:
        h = harness(compile_program(make_suite(flows, app_url, tmp_path)), client)
        assert await h.runner.run("f", now()) is False
    wait = h.slot("f", "wait")
    assert wait.errors[5] == 1 and sum(wait.errors) == 1  # CHECK_FAILED, once
    assert wait.requests == SEEN.polls["b"] and 2 <= wait.requests <= 5
    assert (wait.checks_passed, wait.checks_failed) == (0, 1)
    assert h.slot("f", "after").requests == 0
    snapshot = wait.take()
    assert snapshot is not None
    assert (Histogram.decode(snapshot.duration or "").max() or 0) >= 150_000


async def test_poll_retries_network_errors_until_timeout(tmp_path: Path) -> None:
    flows = """
    f:
      target: app
      steps:
        - name: wait
          poll: {request: GET /x, until: {status: 200}, every: 20ms, timeout: 100ms}
    """
    suite = make_suite(flows, f"http://127.0.0.1:{free_port()}", tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        assert await h.runner.run("f", now()) is False
    wait = h.slot("f", "wait")
    assert counts(wait)["errors"] == {"REFUSED": 1}
    assert wait.requests >= 3  # every attempt counted, only the last as an error
