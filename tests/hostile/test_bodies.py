"""Hostile bodies against every check kind and every extract kind, and values taken from them
rendered into the next request: nothing raises out of the flow runner, and each outcome is the
error class the table names (CHECK_ERROR when Python cannot even represent the body)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from contval.flows import compile_program
from contval.http import Client, ClientOptions, now
from contval.metrics import ErrorClass, Recorder
from contval.spec import load_suite_text
from tests.hostile.server import HostileServer

pytestmark = pytest.mark.anyio

ERROR = ErrorClass.CHECK_ERROR
FAILED = ErrorClass.CHECK_FAILED

UNREPRESENTABLE = ("json-deep-array", "json-deep-object", "json-deep-valid", "json-huge-int")
"""JSON Python refuses to build (recursion limit, integers over 4300 digits): CHECK_ERROR."""
NOT_JSON = ("body-invalid-utf8", "body-nul", "body-script", "body-ansi")
"""Not JSON at all: every JSON condition and JSON extraction fails (CHECK_FAILED)."""
ODD_NUMBERS = ("json-huge-float", "json-nan")
"""`{"v": 1e999999}` parses as infinity, `{"v": NaN}` as NaN: JSON conditions judge them."""

CHECKS = {
    "status": "{status: 200}",
    "equals": '{json: {"$.v": 1}}',
    "not-equals": '{json: {"$.v": {not_equals: 1}}}',
    "one-of": '{json: {"$.v": {one_of: [1, 2]}}}',
    "min-length": '{json: {"$.v": {min_length: 1}}}',
    "max-length": '{json: {"$.v": {max_length: 5}}}',
    "min": '{json: {"$.v": {min: 0}}}',
    "max": '{json: {"$.v": {max: 10}}}',
    "matches": '{json: {"$.v": {matches: "x"}}}',
    "exists": '{json: {"$.v": {exists: true}}}',
    "wildcard": '{json: {"$.*": {min_length: 1}}}',
}
EXTRACTS = {
    "json-first": '{json: "$.v"}',
    "json-random": '{json: "$.v", pick: random}',
    "json-all": '{json: "$.*", pick: all}',
    "regex-first": "{regex: '([0-9]+)'}",
    "regex-all": "{regex: '[0-9]+', pick: all}",
    "header": "{header: content-type}",
}
PASSING_ODD = {
    "json-huge-float": {"not-equals", "min", "exists", "wildcard"},
    "json-nan": {"not-equals", "exists", "wildcard"},
}
"""Conditions infinity and NaN satisfy: NaN is no number's equal, and fails every bound."""
DIGITS = {"json-huge-int", "json-huge-float", "body-nul", "body-script", "body-ansi"}
"""Bodies with a digit in them, which the regex extractions find."""


def expected_check(body: str, kind: str) -> ErrorClass | None:
    if kind == "status":
        return None
    if body in UNREPRESENTABLE:
        return ERROR
    if body in NOT_JSON:
        return FAILED
    return None if kind in PASSING_ODD[body] else FAILED


def expected_extract(body: str, kind: str) -> ErrorClass | None:
    if kind == "header":
        return None
    if kind.startswith("regex"):
        return None if body in DIGITS else FAILED
    if body in UNREPRESENTABLE:
        return ERROR
    return FAILED if body in NOT_JSON else None


BODIES = (*UNREPRESENTABLE, *NOT_JSON, *ODD_NUMBERS)


def _flows() -> tuple[str, dict[str, tuple[str, ErrorClass | None]]]:
    """The flows block, and flow → (step that fails, expected class) for each flow."""
    blocks: list[str] = []
    expected: dict[str, tuple[str, ErrorClass | None]] = {}
    for body in BODIES:
        for kind, check in CHECKS.items():
            name = f"{body}.check.{kind}"
            blocks.append(_flow(name, f"GET /{body}", f"check: {check}"))
            expected[name] = ("get", expected_check(body, kind))
        for kind, extract in EXTRACTS.items():
            name = f"{body}.extract.{kind}"
            blocks.append(_flow(name, f"GET /{body}", f"extract: {{x: {extract}}}", use=True))
            expected[name] = ("get", expected_extract(body, kind))
        name = f"{body}.poll"
        blocks.append(_poll(name, body))
        expected[name] = ("poll", expected_check(body, "equals"))
    return "".join(blocks), expected


def _flow(name: str, request: str, extra: str, use: bool = False) -> str:
    then = ""
    if use:  # the extracted value rendered into a path, a header and a JSON body
        then = """
      - name: use
        request: POST /ok?x={{ x }}
        headers: {X-V: "{{ x }}"}
        json: {x: "{{ x }}", s: "x={{ x }}"}"""
    return f"""  {name}:
    target: app
    steps:
      - name: get
        request: {request}
        {extra}{then}
"""


def _poll(name: str, body: str) -> str:
    return f"""  {name}:
    target: app
    steps:
      - name: poll
        poll:
          request: GET /{body}
          until: {{json: {{"$.v": 1}}}}
          every: 500ms
          timeout: 1s
"""


async def test_hostile_bodies_against_every_check_and_extract_kind(tmp_path: Path) -> None:
    flows, expected = _flows()
    with HostileServer() as server:
        text = (
            f"version: 1\nname: bodies\ntargets:\n  app: {server.url}\nflows:\n{flows}"
            "workloads: {w: {executor: constant-vus, vus: 1, duration: 1s, "
            f"mix: {{{next(iter(expected))}: 1}}}}}}\nscenarios: {{s: {{workload: w}}}}\n"
        )
        suite = load_suite_text(text, tmp_path / "s.yaml")
        recorder = Recorder()
        async with Client(ClientOptions(max_connections=32, timeout=5)) as client:
            runner = compile_program(suite, seed=1).bind(client, recorder)
            async with asyncio.timeout(30):
                results = await asyncio.gather(*(runner.run(flow, now()) for flow in expected))
    seen: dict[str, tuple[str, ErrorClass | None]] = {}
    for (flow, (step, _)), ok in zip(expected.items(), results, strict=True):
        slot = recorder.slot(flow, step)
        classes = [kind for kind in ErrorClass if slot.errors[kind]]
        assert len(classes) <= 1 and sum(slot.errors) <= 1, (flow, slot.errors)
        seen[flow] = (step, classes[0] if classes else None)
        use = recorder.slot(flow, "use")
        if "extract" in flow and not classes:  # the value went into the next request
            assert (use.requests, sum(use.errors)) == (1, 0), (flow, use.errors)
        assert ok is (not classes), flow
        if step == "poll" and classes == [ERROR]:  # ended at once, not retried until timeout
            assert slot.requests == 1, flow
    assert seen == expected
    assert len(expected) == len(BODIES) * (len(CHECKS) + len(EXTRACTS) + 1)
