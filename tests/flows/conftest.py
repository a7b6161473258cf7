"""A small Starlette app on uvicorn (port 0, own thread); helpers to build suites and run flows."""

from __future__ import annotations

import socket
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from contval.flows import FlowRunner, Program, compile_program
from contval.http import Client, ClientOptions
from contval.metrics import ErrorClass, Recorder, Slot
from contval.spec import Suite, load_suite_text


@dataclass
class Seen:
    """What the app received, for asserting what the runner sent."""

    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    polls: dict[str, int] = field(default_factory=dict)


SEEN = Seen()


async def _items(request: Request) -> Response:
    return JSONResponse({"items": [{"id": 1}, {"id": 2}, {"id": 3}], "count": 3, "name": "shoes"})


async def _record(request: Request) -> Response:
    body = await request.body()
    raw_path = request.scope["raw_path"].decode()
    query = request.scope["query_string"].decode()
    path = raw_path + ("?" + query if query else "")
    SEEN.requests.append((request.method, path, dict(request.headers), body))
    return JSONResponse({"ok": True, "path": path, "n": 42}, status_code=201)


async def _status(request: Request) -> Response:
    return JSONResponse({"code": "x"}, status_code=int(request.path_params["code"]))


async def _not_json(request: Request) -> Response:
    return PlainTextResponse("order 17 and order 23 are ready", headers={"X-Token": "tok-9"})


async def _poll(request: Request) -> Response:
    key = request.path_params["key"]
    SEEN.polls[key] = n = SEEN.polls.get(key, 0) + 1
    done = n >= int(request.query_params.get("after", "3"))
    return JSONResponse({"n": n, "status": "done" if done else "pending", "ref": f"r{n}"})


APP = Starlette(
    routes=[
        Route("/items", _items),
        Route("/record/{rest:path}", _record, methods=["GET", "POST", "PUT"]),
        Route("/status/{code:int}", _status),
        Route("/text", _not_json),
        Route("/poll/{key}", _poll),
    ]
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """The app in a thread with its own loop; the socket is bound first, so no start-up race."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(APP, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture(autouse=True)
def _fresh_seen() -> None:
    SEEN.requests.clear()
    SEEN.polls.clear()


def indent(text: str) -> str:
    return textwrap.indent(textwrap.dedent(text).strip("\n"), "  ")


def make_suite(
    flows: str,
    url: str,
    tmp: Path | None = None,
    *,
    variables: str = "",
    data: str = "",
    targets: dict[str, str] | None = None,
) -> Suite:
    """A suite with target `app` at `url` and the given `flows:` block (YAML, dedented)."""
    first_flow = textwrap.dedent(flows).strip().split(":", 1)[0]
    text = "\n".join(
        [
            "version: 1",
            "name: t",
            "targets:",
            *(f"  {name}: '{u}'" for name, u in {"app": url, **(targets or {})}.items()),
            *(["variables:", indent(variables)] if variables else []),
            *(["data:", indent(data)] if data else []),
            "flows:",
            indent(flows),
            f"workloads: {{w: {{executor: constant-vus, vus: 1, duration: 1s, "
            f"mix: {{{first_flow}: 1}}}}}}",
            "scenarios: {s: {workload: w}}",
        ]
    )
    path = (tmp or Path.cwd()) / "suite.yaml"
    return load_suite_text(text, path, threshold_parser=None)


def counts(slot: Slot) -> dict[str, Any]:
    """A slot's counters as a dict, errors by class name (zeros left out)."""
    errors = {name: slot.errors[i] for i, name in enumerate(_ERROR_NAMES) if slot.errors[i]}
    return {
        "requests": slot.requests,
        "errors": errors,
        "checks": (slot.checks_passed, slot.checks_failed),
    }


_ERROR_NAMES = tuple(kind.name for kind in ErrorClass)


async def no_sleep(seconds: float) -> None:
    """A think-time sleep that does not wait (the runner still plans think time)."""


@dataclass
class Harness:
    program: Program
    recorder: Recorder
    runner: FlowRunner
    client: Client

    def slot(self, flow: str, step: str | None = None) -> Slot:
        return self.recorder.slot(flow, step)


def harness(program: Program, client: Client) -> Harness:
    recorder = Recorder()
    return Harness(program, recorder, program.bind(client, recorder, think_sleep=no_sleep), client)


def options() -> ClientOptions:
    return ClientOptions(max_connections=4, timeout=5, connect_timeout=2)


def suite_program(suite: Suite, **kwargs: Any) -> Program:
    return compile_program(suite, **kwargs)
