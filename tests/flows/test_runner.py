"""The runner against a real uvicorn app: what is sent, what is recorded, how errors count."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
from pathlib import Path

import pytest

from contval.flows import compile_program
from contval.flows.ops import ThinkOp
from contval.flows.steps import RequestStepRunner, ThinkStepRunner
from contval.http import Client, now
from contval.metrics import Histogram, Recorder
from tests.flows.conftest import SEEN, counts, harness, make_suite, options

pytestmark = pytest.mark.anyio

OK = {"requests": 1, "errors": {}, "checks": (1, 0)}


async def test_extract_then_render_path_headers_and_typed_json(
    app_url: str, tmp_path: Path
) -> None:
    (tmp_path / "people.csv").write_text("email,name\nann@x.test,Ann\nbob@x.test,Bob\n")
    flows = """
    f:
      target: app
      steps:
        - name: list
          request: GET /items
          check: {status: 200, json: {"$.items": {min_length: 3}, "$.name": shoes}}
          extract:
            count: {json: "$.count"}
            ids: {json: "$.items[*].id", pick: all}
            one: {json: "$.items[*].id", pick: random}
        - name: text
          request: GET /text
          extract:
            order: {regex: "order ([0-9]+)"}
            orders: {regex: "order [0-9]+", pick: all}
            token: {header: x-token}
        - name: send
          request: POST /record/{{ token }}/{{ vars.q }}?who={{ data.people.name }}&o={{ order }}
          headers: {X-Token: "{{ token }}", X-Fixed: "1"}
          json: {n: "{{ count }}", ids: "{{ ids }}", one: "{{ one }}", s: "n={{ count }}",
                 email: "{{ data.people.email }}", q: "{{ vars.q }}"}
          check: {status: 201}
    """
    suite = make_suite(
        flows, app_url, tmp_path, variables="q: a b/c", data="people: {csv: people.csv}"
    )
    async with Client(options()) as client:
        h = harness(compile_program(suite, seed=3), client)
        assert await h.runner.run("f", now()) is True
        assert await h.runner.run("f", now()) is True
    assert counts(h.slot("f", "list")) == {"requests": 2, "errors": {}, "checks": (6, 0)}
    assert counts(h.slot("f", "text")) == {"requests": 2, "errors": {}, "checks": (0, 0)}
    assert counts(h.slot("f", "send")) == {"requests": 2, "errors": {}, "checks": (2, 0)}
    assert h.slot("f").iterations == 2
    (m1, p1, headers, body), (_, p2, _, body2) = SEEN.requests
    assert m1 == "POST"
    assert p1 == "/record/tok-9/a%20b%2Fc?who=Ann&o=17"
    assert p2 == "/record/tok-9/a%20b%2Fc?who=Bob&o=17"
    assert headers["x-token"] == "tok-9" and headers["x-fixed"] == "1"
    assert headers["content-type"] == "application/json"
    sent = json.loads(body)
    assert sent["n"] == 3 and sent["s"] == "n=3" and sent["ids"] == [1, 2, 3]
    assert sent["one"] in (1, 2, 3) and sent["email"] == "ann@x.test" and sent["q"] == "a b/c"
    assert json.loads(body2)["email"] == "bob@x.test"


class Capture:
    """A raw HTTP server that keeps the exact bytes of each request."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                self.received.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        writer.close()


async def test_static_request_sends_the_template_wire_unchanged(tmp_path: Path) -> None:
    capture = Capture()
    server = await asyncio.start_server(capture.handle, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    flows = """
    f:
      target: app
      steps:
        - {name: get, request: "GET /a?limit={{ vars.n }}", check: {status: 200}}
    """
    suite = make_suite(flows, url, tmp_path, variables="n: 5")
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        step = h.runner._flows["f"].steps[0]
        assert isinstance(step, RequestStepRunner)
        assert step.bound.static
        for _ in range(3):
            assert await h.runner.run("f", now())
    server.close()
    await server.wait_closed()
    wire = step.bound.template.wire
    assert wire.startswith(b"GET /a?limit=5 HTTP/1.1\r\n")
    assert capture.received == [wire] * 3
    assert counts(h.slot("f", "get")) == {"requests": 3, "errors": {}, "checks": (3, 0)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("{name: s, request: GET /status/500}", {"HTTP_STATUS": 1}),
        ("{name: s, request: GET /status/404, check: {status: [200, 201]}}", {"HTTP_STATUS": 1}),
        (
            "{name: s, request: GET /text, check: {json: {'$.a': {exists: false}}}}",
            {"CHECK_FAILED": 1},
        ),
        ("{name: s, request: GET /items, check: {json: {'$.count': 4}}}", {"CHECK_FAILED": 1}),
        ("{name: s, request: GET /items, extract: {v: {json: '$.nope'}}}", {"CHECK_FAILED": 1}),
        ("{name: s, request: GET /text, extract: {v: {regex: 'nope (x)'}}}", {"CHECK_FAILED": 1}),
        ("{name: s, request: GET /text, extract: {v: {header: x-nope}}}", {"CHECK_FAILED": 1}),
    ],
)
async def test_failures_are_classified_and_stop_the_iteration(
    app_url: str, tmp_path: Path, step: str, expected: dict[str, int]
) -> None:
    flows = f"""
    f:
      target: app
      steps:
        - {step}
        - {{name: after, request: GET /items}}
    """
    async with Client(options()) as client:
        h = harness(compile_program(make_suite(flows, app_url, tmp_path)), client)
        assert await h.runner.run("f", now()) is False
    assert counts(h.slot("f", "s"))["errors"] == expected
    assert h.slot("f", "s").requests == 1
    assert h.slot("f", "after").requests == 0
    assert h.slot("f").iterations == 1
    snapshot = h.slot("f", "s").take()
    assert snapshot is not None and Histogram.decode(snapshot.latency or "").count == 1


async def test_refused_connection_is_counted_without_latency(tmp_path: Path) -> None:
    flows = "f: {target: app, steps: [{name: s, request: GET /x}]}"
    suite = make_suite(flows, f"http://127.0.0.1:{free_port()}", tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        assert await h.runner.run("f", now()) is False
    assert counts(h.slot("f", "s")) == {"requests": 1, "errors": {"REFUSED": 1}, "checks": (0, 0)}
    snapshot = h.slot("f", "s").take()
    assert snapshot is not None and snapshot.latency is None


async def test_a_refused_first_request_leaves_the_later_steps_not_reached(tmp_path: Path) -> None:
    """The runner's direct path (a static, status-only step) fails like any other step: the
    steps after it are counted as not reached, never dropped."""
    flows = """
    f:
      target: app
      steps:
        - {name: s, request: GET /x}
        - {name: then, request: GET /y}
        - {name: last, request: GET /z, check: {json: {"$.ok": {equals: true}}}}
    """
    suite = make_suite(flows, f"http://127.0.0.1:{free_port()}", tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        for _ in range(3):
            assert await h.runner.run("f", now()) is False
    assert counts(h.slot("f", "s"))["errors"] == {"REFUSED": 3}
    assert (h.slot("f", "then").requests, h.slot("f", "then").not_reached) == (0, 3)
    assert (h.slot("f", "last").requests, h.slot("f", "last").not_reached) == (0, 3)
    assert h.slot("f", "s").not_reached == 0


async def test_latency_is_timed_from_when_the_request_was_due(app_url: str, tmp_path: Path) -> None:
    flows = "f: {target: app, steps: [{name: s, request: GET /items}]}"
    async with Client(options()) as client:
        h = harness(compile_program(make_suite(flows, app_url, tmp_path)), client)
        assert await h.runner.run("f", now() - 0.5)  # scheduled half a second ago
    snapshot = h.slot("f", "s").take()
    assert snapshot is not None
    assert (Histogram.decode(snapshot.latency or "").min() or 0) >= 500_000


async def test_include_records_under_the_including_flow(app_url: str, tmp_path: Path) -> None:
    flows = """
    outer:
      target: app
      steps:
        - include: inner
        - name: use
          request: GET /record/{{ order }}
          check: {status: 201}
    inner:
      target: app
      steps:
        - name: read
          request: GET /text
          extract: {order: {regex: "order ([0-9]+)", pick: all}}
    """
    async with Client(options()) as client:
        h = harness(compile_program(make_suite(flows, app_url, tmp_path)), client)
        assert await h.runner.run("outer", now())
    assert counts(h.slot("outer", "read"))["requests"] == 1
    assert counts(h.slot("outer", "use")) == OK
    assert counts(h.slot("inner", "read"))["requests"] == 0
    assert SEEN.requests[0][1] == "/record/%5B%2217%22%2C%2223%22%5D"  # a list, as JSON


async def test_think_time_is_planned_within_bounds(app_url: str, tmp_path: Path) -> None:
    runner = ThinkStepRunner(ThinkOp(0.5, 2.0), random.Random(1), _never)
    pauses = [runner.pause() for _ in range(500)]
    assert all(0.5 <= p <= 2.0 for p in pauses)
    assert min(pauses) < 0.6 and max(pauses) > 1.9
    assert ThinkStepRunner(ThinkOp(1.0, 1.0), random.Random(1), _never).pause() == 1.0

    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    flows = "f: {target: app, steps: [{think: 200ms..300ms}, {name: s, request: GET /items}]}"
    async with Client(options()) as client:
        program = compile_program(make_suite(flows, app_url, tmp_path), seed=5)
        recorder = Recorder()
        runner2 = program.bind(client, recorder, think_sleep=record)
        for _ in range(5):
            assert await runner2.run("f", now())
    assert len(slept) == 5 and all(0.15 < s <= 0.3 for s in slept)
    assert len(set(slept)) == 5
    assert recorder.slot("f").iterations == 5


async def _never(seconds: float) -> None:
    raise AssertionError("not called")


async def test_unique_feeder_exhausted_drops_iterations(app_url: str, tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("email\na@x\nb@x\nc@x\n")
    flows = "f: {target: app, steps: [{name: s, request: 'GET /record/{{ data.p.email }}'}]}"
    suite = make_suite(flows, app_url, tmp_path, data="p: {csv: p.csv, order: unique}")
    async with Client(options()) as client:
        h = harness(compile_program(suite, worker=0, workers=2), client)
        results = [await h.runner.run("f", now()) for _ in range(4)]
    assert results == [True, True, False, False]
    assert [r[1] for r in SEEN.requests] == ["/record/a%40x", "/record/c%40x"]
    assert h.slot("f").iterations == 2 and h.slot("f").dropped_iterations == 2
    assert h.slot("f", "s").requests == 2
