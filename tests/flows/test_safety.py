"""What the runner must never do: replay a request that may not be replayed, call a redirect a
success, join Set-Cookie values, or send a header value a server's bytes made unsafe."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from contval.flows import Program, compile_program
from contval.flows.ops import Op, RequestOp
from contval.http import Client, now
from tests.flows.conftest import counts, harness, make_suite, options
from tests.http.servers import RawServer

pytestmark = pytest.mark.anyio


def _post_after_stale(idempotent: str = "", headers: str = "") -> str:
    return f"""
    f:
      target: app
      steps:
        - name: arm
          request: GET /arm-drop
        - name: order
          request: POST /echo
          body: order-1{idempotent}{headers}
          check: {{status: 201}}
    """


@pytest.mark.parametrize(
    ("extra", "sent", "outcome"),
    [
        ({}, 1, {"requests": 1, "errors": {"RESET": 1}, "checks": (0, 0)}),
        (
            {"idempotent": "\n          idempotent: true"},
            2,
            {"requests": 1, "errors": {}, "checks": (1, 0)},
        ),
        (
            {"headers": "\n          headers: {Idempotency-Key: 'k-{{ vars.n }}'}"},
            2,
            {"requests": 1, "errors": {}, "checks": (1, 0)},
        ),
        (
            {"headers": "\n          headers: {X-Idempotency-Key: 'k-1'}"},
            2,
            {"requests": 1, "errors": {}, "checks": (1, 0)},
        ),
    ],
    ids=["plain-post-never-replayed", "idempotent-step", "templated-key", "static-key"],
)
async def test_a_post_on_a_stale_connection_is_replayed_only_when_it_may_be(
    tmp_path: Path, extra: dict[str, str], sent: int, outcome: dict[str, object]
) -> None:
    async with RawServer() as server:
        suite = make_suite(_post_after_stale(**extra), server.url, tmp_path, variables="n: 7")
        async with Client(options()) as client:
            h = harness(compile_program(suite), client)
            ok = await h.runner.run("f", now())
    assert ok is (sent == 2)
    assert server.stats.requests == ["/arm-drop"] + ["/echo"] * sent
    assert counts(h.slot("f", "order")) == outcome


@pytest.mark.parametrize(
    ("check", "outcome"),
    [
        ("", {"requests": 1, "errors": {}, "checks": (0, 0)}),
        (
            "\n          follow_redirects: false",
            {"requests": 1, "errors": {"HTTP_STATUS": 1}, "checks": (0, 0)},
        ),
        (
            "\n          follow_redirects: false\n          extract: {to: {header: location}}",
            {"requests": 1, "errors": {"HTTP_STATUS": 1}, "checks": (0, 0)},
        ),
        ("\n          check: {status: 302}", {"requests": 1, "errors": {}, "checks": (1, 0)}),
    ],
    ids=["followed", "not-followed", "not-followed-with-extraction", "declared-302"],
)
async def test_a_redirect_is_followed_and_a_declared_3xx_is_the_answer(
    tmp_path: Path, check: str, outcome: dict[str, object]
) -> None:
    flows = f"""
    f:
      target: app
      steps:
        - name: go
          request: GET /redirect{check}
    """
    async with RawServer() as server:
        suite = make_suite(flows, server.url, tmp_path)
        async with Client(options()) as client:
            h = harness(compile_program(suite), client)
            await h.runner.run("f", now())
    assert counts(h.slot("f", "go")) == outcome


async def test_set_cookie_values_are_extracted_apart(tmp_path: Path) -> None:
    flows = """
    f:
      target: app
      steps:
        - name: login
          request: GET /cookies
          extract:
            cookies: {header: set-cookie, pick: all}
            first: {header: Set-Cookie}
            many: {header: x-many, pick: all}
        - name: use
          request: POST /echo
          json: {cookies: "{{ cookies }}", first: "{{ first }}", many: "{{ many }}"}
          check: {status: 201}
    """
    async with RawServer() as server:
        suite = make_suite(flows, server.url, tmp_path)
        async with Client(options()) as client:
            h = harness(compile_program(suite), client)
            assert await h.runner.run("f", now()) is True
    assert json.loads(server.stats.bodies[-1]) == {
        "cookies": ["a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT", "b=2; Path=/"],
        "first": "a=1; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
        "many": ["x", "y"],
    }


@pytest.mark.parametrize("variable", ["crlf", "nul", "esc", "snow"])
async def test_a_templated_header_value_with_control_bytes_is_an_error_never_sent(
    tmp_path: Path, variable: str
) -> None:
    flows = f"""
    f:
      target: app
      steps:
        - name: read
          request: GET /controls
          extract: {{v: {{json: "$.{variable}"}}}}
        - name: send
          request: GET /ok
          headers: {{X-V: "{{{{ v }}}}"}}
    """
    async with RawServer() as server:
        suite = make_suite(flows, server.url, tmp_path)
        async with Client(options()) as client:
            h = harness(compile_program(suite), client)
            assert await h.runner.run("f", now()) is False
            assert await h.runner.run("f", now()) is False
    assert server.stats.requests == ["/controls", "/controls"]  # /ok never sent
    assert counts(h.slot("f", "send")) == {
        "requests": 2,
        "errors": {"CHECK_ERROR": 2},
        "checks": (0, 0),
    }
    assert h.slot("f").iterations == 2


def _rename_header(program: Program, flow: str, step: str, name: str) -> Program:
    """The program with one templated header renamed: a suite validation would refuse."""
    ops: list[Op] = []
    for op in program.flows[flow].steps:
        if isinstance(op, RequestOp) and op.name == step:
            ((_, text),) = op.call.dynamic_headers
            call = dataclasses.replace(op.call, dynamic_headers=((name, text),))
            ops.append(dataclasses.replace(op, call=call))
        else:
            ops.append(op)
    flows = dict(program.flows)
    flows[flow] = dataclasses.replace(program.flows[flow], steps=tuple(ops))
    return dataclasses.replace(program, flows=flows)


@pytest.mark.parametrize("name", ["Host", "content-length", "Transfer-Encoding", "Connection"])
async def test_a_templated_header_the_client_owns_is_an_error_never_sent(
    tmp_path: Path, name: str
) -> None:
    flows = """
    f:
      target: app
      steps:
        - name: read
          request: GET /controls
          extract: {v: {json: "$.ok"}}
        - name: send
          request: GET /ok
          headers: {X-V: "{{ v }}"}
    """
    async with RawServer() as server:
        suite = make_suite(flows, server.url, tmp_path)
        program = _rename_header(compile_program(suite), "f", "send", name)
        async with Client(options()) as client:
            h = harness(program, client)
            for _ in range(3):
                assert await h.runner.run("f", now()) is False
    assert server.stats.requests == ["/controls"] * 3
    assert counts(h.slot("f", "send"))["errors"] == {"CHECK_ERROR": 3}
