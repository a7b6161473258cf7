"""`--debug-http N` at the runner: the first N exchanges printed to stderr, request and response,
secrets and Authorization values as `***`, control characters escaped, bodies cut."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contval.flows import compile_program
from contval.http import Client, now
from contval.metrics import Recorder
from contval.spec import load_suite_text
from tests.flows.conftest import no_sleep, options
from tests.flows.echo_server import echo_server

pytestmark = pytest.mark.anyio

SECRET = "pa55/w0rd s3cret"

SUITE = """version: 1
name: dbg
targets: {{app: '{url}'}}
secrets: {{pw: {{env: DBG_PW}}}}
flows:
  f:
    target: app
    steps:
      - name: echo
        request: POST /echo/{{{{ secrets.pw }}}}
        headers: {{Authorization: "Bearer tok-{{{{ secrets.pw }}}}", X-Pw: "{{{{ secrets.pw }}}}"}}
        json: {{pw: "{{{{ secrets.pw }}}}"}}
      - name: text
        request: GET /text
workloads: {{w: {{executor: constant-vus, vus: 1, duration: 1s, mix: {{f: 1}}}}}}
scenarios: {{s: {{workload: w}}}}
"""


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with echo_server() as (found, _):
        yield found


async def test_the_first_n_exchanges_are_printed_redacted(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = load_suite_text(
        SUITE.format(url=url),
        tmp_path / "s.yaml",
        threshold_parser=None,
        environ={"DBG_PW": SECRET},
    )
    program = compile_program(suite)
    async with Client(options()) as client:
        runner = program.bind(client, Recorder(), think_sleep=no_sleep, debug_http=3)
        for _ in range(3):
            assert await runner.run("f", now()) is True
    err = capsys.readouterr().err
    assert err.count("--- contval debug-http ") == 3
    blocks = err.split("--- contval debug-http ")[1:]
    assert blocks[0].startswith("1/3 (worker 0) ---\n> POST /echo/*** HTTP/1.1\n")
    assert "> Authorization: Bearer ***\n" in blocks[0]
    assert "> X-Pw: ***\n" in blocks[0]
    assert '> {"pw":"***"}\n' in blocks[0]
    assert "< HTTP 200 (" in blocks[0]
    assert "< X-Echo: /echo/***\n" in blocks[0]
    assert '"X-Pw": "***"' in blocks[0]
    assert blocks[1].startswith("2/3 (worker 0) ---\n> GET /text HTTP/1.1\n")
    assert "< hello \\x1b[31mred\\x07 world\\r\\nbye\n" in blocks[1]
    assert "\x1b" not in err
    assert blocks[2].startswith("3/3 (worker 0) ---\n> POST /echo/*** HTTP/1.1\n")
    for form in (SECRET, "pa55%2Fw0rd%20s3cret", "pa55/w0rd", "w0rd s3cret"):
        assert form not in err


async def test_no_budget_prints_nothing(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suite = load_suite_text(
        SUITE.format(url=url), tmp_path / "s.yaml", threshold_parser=None, environ={"DBG_PW": "x"}
    )
    async with Client(options()) as client:
        runner = compile_program(suite).bind(client, Recorder(), think_sleep=no_sleep)
        assert await runner.run("f", now()) is True
    assert capsys.readouterr().err == ""
