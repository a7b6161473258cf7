"""Redirects against real apps: chains followed (latency covers every hop), loops stopped at
`follow_redirects`, hosts that are not declared targets never reached, methods and credentials
handled as browsers do, and request targets built from a response (`GET {{ next }}`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from contval.flows import compile_program
from contval.http import Client, now
from contval.metrics import Histogram
from contval.spec import load_suite_text
from contval.spec.errors import SuiteInvalid
from tests.flows.conftest import Harness, counts, harness, make_suite, options
from tests.flows.userapp import UserApp, serve

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def app() -> Iterator[UserApp]:
    with serve() as instance:
        yield instance


@pytest.fixture(scope="module")
def other() -> Iterator[UserApp]:
    """A second host (another port: another origin), declared or not as each test says."""
    with serve() as instance:
        yield instance


@pytest.fixture(autouse=True)
def _clean(app: UserApp, other: UserApp) -> None:
    app.seen.clear()
    other.seen.clear()


def _one(request: str, extra: str = "") -> str:
    return f"f:\n  target: app\n  steps:\n    - name: go\n      request: {request}\n{extra}"


async def _run(
    suite_flows: str, app: UserApp, tmp_path: Path, **targets: str
) -> tuple[bool, dict[str, Any], Harness]:
    suite = make_suite(suite_flows, app.url, tmp_path, targets=targets or None)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        ok = await h.runner.run("f", now())
    return ok, counts(h.slot("f", "go")), h


async def test_a_redirect_chain_is_followed_and_its_latency_covers_every_hop(
    app: UserApp, tmp_path: Path
) -> None:
    ok, seen, h = await _run(
        _one("GET /redirect/3?delay=0.05", "      check: {json: {'$.arrived': true}}"),
        app,
        tmp_path,
    )
    assert ok is True
    assert seen == {"requests": 1, "errors": {}, "checks": (1, 0)}
    assert app.seen.paths == ["/redirect/3", "/redirect/2", "/redirect/1", "/redirect/0"]
    snapshot = h.slot("f", "go").take()
    assert snapshot is not None
    assert (Histogram.decode(snapshot.latency or "").min() or 0) >= 4 * 50_000  # µs, 4 answers


async def test_a_status_only_step_follows_too(app: UserApp, tmp_path: Path) -> None:
    ok, seen, _ = await _run(_one("GET /redirect/2"), app, tmp_path)
    assert (ok, seen) == (True, {"requests": 1, "errors": {}, "checks": (0, 0)})
    assert app.seen.paths == ["/redirect/2", "/redirect/1", "/redirect/0"]


@pytest.mark.parametrize("hops", [0, 3, 10])
async def test_a_redirect_loop_stops_after_follow_redirects_hops(
    app: UserApp, tmp_path: Path, hops: int
) -> None:
    setting = "" if hops == 10 else f"      follow_redirects: {hops or 'false'}\n"
    ok, seen, _ = await _run(_one("GET /loop", setting), app, tmp_path)
    assert ok is False
    error = "TOO_MANY_REDIRECTS" if hops else "HTTP_STATUS"
    assert seen == {"requests": 1, "errors": {error: 1}, "checks": (0, 0)}
    assert app.seen.paths == ["/loop"] * (hops + 1)


async def test_a_redirect_to_a_host_that_is_not_a_target_is_refused_and_never_sent(
    app: UserApp, other: UserApp, tmp_path: Path
) -> None:
    request = f"GET /redirect-to?url={other.url}/cookies"
    ok, seen, _ = await _run(_one(request), app, tmp_path)
    assert ok is False
    assert seen == {"requests": 1, "errors": {"OFF_TARGET": 1}, "checks": (0, 0)}
    assert other.seen.paths == []
    # the same redirect once that host is declared: followed, credentials left behind
    ok, seen, _ = await _run(
        _one(request, "      auth: {bearer: t0k}\n"), app, tmp_path, other=other.url
    )
    assert (ok, seen["errors"]) == (True, {})
    assert other.seen.paths == ["/cookies"]
    assert app.seen.authorization[-1] == "Bearer t0k"
    assert other.seen.authorization == [""]


@pytest.mark.parametrize(
    ("status", "method", "body"),
    [
        ("302", "GET", ""),
        ("303", "GET", ""),
        ("307", "POST", "order-1"),
        ("308", "POST", "order-1"),
    ],
)
async def test_a_redirected_post_keeps_or_drops_its_method_and_body_as_browsers_do(
    app: UserApp, tmp_path: Path, status: str, method: str, body: str
) -> None:
    extra = "      body: order-1\n      check: {json: {'$.method': %s, '$.body': '%s'}}\n"
    ok, seen, _ = await _run(
        _one(f"POST /redirect-to?status={status}&url=/anything", extra % (method, body)),
        app,
        tmp_path,
    )
    assert ok is True, seen
    assert app.seen.methods == ["POST", method]


async def test_a_declared_3xx_is_the_answer_and_its_location_extractable(
    app: UserApp, tmp_path: Path
) -> None:
    flows = """\
f:
  target: app
  steps:
    - name: go
      request: GET /redirect/1
      check: {status: 302}
      extract: {where: {header: location}}
    - name: there
      request: GET {{ where }}
      check: {json: {"$.arrived": true}}
"""
    ok, _, h = await _run(flows, app, tmp_path)
    assert ok is True
    assert app.seen.paths == ["/redirect/1", "/redirect/0"]
    assert counts(h.slot("f", "there")) == {"requests": 1, "errors": {}, "checks": (1, 0)}


@pytest.mark.parametrize("declared", [True, False])
async def test_a_request_target_from_a_response_goes_only_to_declared_targets(
    app: UserApp, other: UserApp, tmp_path: Path, declared: bool
) -> None:
    flows = f"""\
f:
  target: app
  steps:
    - name: ask
      request: GET /next?url={other.url}/cookies%3Fx%3D1
      extract: {{next: {{json: "$.next"}}}}
    - name: go
      request: GET {{{{ next }}}}
"""
    targets = {"other": other.url} if declared else {}
    ok, seen, h = await _run(flows, app, tmp_path, **targets)
    snapshot = h.slot("f", "go").take()
    assert snapshot is not None
    if declared:
        assert (ok, seen["errors"]) == (True, {})
        assert other.seen.paths == ["/cookies"]
        assert snapshot.latency is not None
    else:
        assert (ok, seen["errors"]) == (False, {"OFF_TARGET": 1})
        assert other.seen.paths == []
        assert snapshot.latency is None  # nothing was sent: no latency, as for `refused`


def test_validation_takes_a_templated_target_and_refuses_credentials_in_a_url(
    tmp_path: Path,
) -> None:
    text = """\
version: 1
name: t
targets: {app: 'http://ann:s3cret@127.0.0.1:9'}
flows:
  f:
    target: app
    steps:
      - {name: a, request: 'GET {{ vars.next }}'}
variables: {next: /x}
workloads: {w: {executor: constant-vus, vus: 1, duration: 1s, mix: {f: 1}}}
scenarios: {s: {workload: w}}
"""
    with pytest.raises(SuiteInvalid) as raised:
        load_suite_text(text, tmp_path / "suite.yaml", threshold_parser=None)
    message = str(raised.value)
    assert "auth: {basic: [user, password]}" in message
    assert "http://127.0.0.1:9" in message
    assert "s3cret" not in message
    assert len(raised.value.errors) == 1  # the templated request target is fine


@pytest.mark.parametrize(
    ("location", "error"),
    [
        ("http://[::1", "MALFORMED"),  # no URL parser takes it
        ("http://127.0.0.1:99999/x", "OFF_TARGET"),
        ("ftp://127.0.0.1/x", "OFF_TARGET"),
        ("/caf%C3%A9 and spaces", None),  # a relative path, escaped as needed: followed
    ],
)
async def test_a_hostile_location_is_an_error_of_its_class_never_a_crash(
    app: UserApp, tmp_path: Path, location: str, error: str | None
) -> None:
    request = "GET /redirect-to?url=" + quote(location, safe="")
    extra = "      check: {status: [200, 404]}\n"
    ok, seen, _ = await _run(_one(request, extra), app, tmp_path)
    assert seen["errors"] == ({} if error is None else {error: 1})
    assert ok is (error is None)
