"""Checks that explain themselves, against a real loopback server: status, JSON, header and body
conditions record condition, expected and actual (bounded, escaped) with counts equal to the
failing requests, and later steps of a failed iteration are counted as not reached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contval.flows import compile_program
from contval.http import Client, now
from contval.metrics import Recorder, Snapshot, merge
from contval.metrics.snapshot import MAX_FAILURES, SlotSnapshot, merge_failures
from tests.flows.conftest import harness, make_suite, options
from tests.flows.echo_server import echo_server

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, object]]:
    with echo_server() as found:
        yield found


def failures(recorder: Recorder, flow: str, step: str) -> dict[tuple[str, str, str], int]:
    found = recorder.slot(flow, step).failures or {}
    return dict(found)


async def test_a_wrong_status_is_explained_and_later_steps_are_not_reached(
    server: tuple[str, object], tmp_path: Path
) -> None:
    url, answered = server
    flows = """
    f:
      target: app
      steps:
        - name: ok
          request: GET /json
        - name: pay
          request: GET /status/503
          check: {status: [200, 201]}
        - think: 1s
        - name: receipt
          request: GET /json
        - name: bye
          request: GET /json
    """
    suite = make_suite(flows, url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        for _ in range(7):
            assert await h.runner.run("f", now()) is False
    assert answered[("/status/503", 503)] == 7  # type: ignore[index]
    assert failures(h.recorder, "f", "pay") == {("status", "200, 201", "503"): 7}
    assert h.slot("f", "receipt").not_reached == 7
    assert h.slot("f", "bye").not_reached == 7
    assert h.slot("f", "ok").not_reached == 0
    assert h.slot("f", "pay").not_reached == 0
    snap = h.recorder.snapshot(0)
    by_step = {s.step: s for s in snap.slots}
    assert by_step["pay"].failures == (("status", "200, 201", "503", 7),)
    assert by_step["bye"].not_reached == 7 and by_step["bye"].requests == 0


async def test_json_header_and_body_conditions_say_what_they_found(
    server: tuple[str, object], tmp_path: Path
) -> None:
    url, _ = server
    flows = """
    f:
      target: app
      steps:
        - name: order
          request: GET /json
          check: {json: {"$.status": fulfilled, "$.n": {min: 5}, "$.missing": {exists: true}}}
        - name: text
          request: GET /text
          check:
            headers: {X-Trace: abc, X-Absent: {exists: true}, content-type: {matches: "^text/"}}
            body: {contains: shipped, not_contains: hello, matches: "wor+ld$"}
    g:
      target: app
      steps:
        - name: text
          request: GET /text
          check:
            headers: {x-trace: abd}
            body: {contains: "red", matches: "bye$"}
        - name: extract
          request: GET /text
          extract: {token: {header: x-token}}
    """
    suite = make_suite(flows, url, tmp_path)
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        for _ in range(3):
            assert await h.runner.run("f", now()) is False
            assert await h.runner.run("g", now()) is False
    assert failures(h.recorder, "f", "order") == {
        ("json $.status", 'equals "fulfilled"', '"pending"'): 3,
        ("json $.n", "min 5.0", "3"): 3,
        ("json $.missing", "exists true", "(missing)"): 3,
    }
    assert h.slot("f", "order").checks_failed == 9
    assert h.slot("f", "text").not_reached == 3
    assert failures(h.recorder, "g", "text") == {}  # these held
    assert failures(h.recorder, "g", "extract") == {
        ("extract token", "a header x-token", "(no match)"): 3
    }
    # f's text step is reached by no iteration: the same checks on a flow of their own
    suite2 = make_suite(
        """
    t:
      target: app
      steps:
        - name: text
          request: GET /text
          check:
            headers: {X-Trace: abc, X-Absent: {exists: true}, content-type: {matches: "^text/"}}
            body: {contains: shipped, not_contains: hello, matches: "wor+ld$"}
    """,
        url,
        tmp_path,
    )
    async with Client(options()) as client:
        h2 = harness(compile_program(suite2), client)
        assert await h2.runner.run("t", now()) is False
    found = failures(h2.recorder, "t", "text")
    body = "hello \\x1b[31mred\\x07 world\\r\\nbye"
    assert found == {
        ("header X-Trace", 'equals "abc"', '"abd"'): 1,
        ("header X-Absent", "exists true", "(missing)"): 1,
        ("body", 'contains "shipped"', body): 1,
        ("body", 'not_contains "hello"', body): 1,
        ("body", 'matches "wor+ld$"', body): 1,
    }
    for condition, expected, actual in found:
        text = condition + expected + actual
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text), text


async def test_an_actual_value_is_bounded_and_escaped(
    server: tuple[str, object], tmp_path: Path
) -> None:
    url, _ = server
    suite = make_suite(
        """
    f:
      target: app
      steps:
        - name: echo
          request: POST /echo
          body: "{{ vars.big }}"
          check: {body: {contains: "nope"}}
    """,
        url,
        tmp_path,
        variables="big: " + "\\u0007" * 5 + "x" * 5000,
    )
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        assert await h.runner.run("f", now()) is False
    ((_, _, actual),) = failures(h.recorder, "f", "echo")
    assert len(actual) == 200 and actual.endswith("…")
    assert "\x07" not in actual


def test_failures_merge_across_workers_bounded_to_the_most_frequent() -> None:
    a = SlotSnapshot("f", "s", failures=(("status", "2xx", "503", 4), ("status", "2xx", "500", 1)))
    b = SlotSnapshot("f", "s", failures=(("status", "2xx", "503", 2),), failures_other=3)
    (merged,) = merge([Snapshot(0, (a,)), Snapshot(0, (b,))])[0].slots
    assert merged.failures == (("status", "2xx", "503", 6), ("status", "2xx", "500", 1))
    assert merged.failures_other == 3
    many = [((("c", "e", str(i), 100 - i),), 0) for i in range(MAX_FAILURES + 5)]
    kept, other = merge_failures(many)
    assert len(kept) == MAX_FAILURES
    assert kept[0] == ("c", "e", "0", 100)
    assert other == sum(100 - i for i in range(MAX_FAILURES, MAX_FAILURES + 5))
    again = SlotSnapshot.from_dict(merged.to_dict())
    assert again == merged


def test_a_slot_keeps_at_most_max_failures_distinct() -> None:
    recorder = Recorder()
    slot = recorder.slot("f", "s")
    for i in range(MAX_FAILURES + 10):
        slot.fail(("status", "2xx", str(i)))
    slot.fail(("status", "2xx", "0"))
    snap = recorder.snapshot(0).slots[0]
    assert len(snap.failures) == MAX_FAILURES
    assert snap.failures_other == 10
    assert ("status", "2xx", "0", 2) in snap.failures


async def test_a_failed_poll_and_an_unrenderable_request_say_why(
    server: tuple[str, object], tmp_path: Path
) -> None:
    url, _ = server
    suite = make_suite(
        """
    p:
      target: app
      steps:
        - name: wait
          poll:
            request: GET /json
            until: {json: {"$.status": done}}
            every: 50ms
            timeout: 200ms
    r:
      target: app
      steps:
        - name: text
          request: GET /text
          extract: {line: {regex: "(red.*)"}}
        - name: send
          request: GET /json
          headers: {X-Line: "{{ line }}"}
    """,
        url,
        tmp_path,
    )
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        for _ in range(2):
            assert await h.runner.run("p", now()) is False
            assert await h.runner.run("r", now()) is False
    assert failures(h.recorder, "p", "wait") == {
        ("until json $.status", 'equals "done"', '"pending"'): 2
    }
    ((condition, expected, actual),) = failures(h.recorder, "r", "send")
    assert (condition, expected) == ("render request", "no error")
    assert actual.startswith("RenderError: a header value may not contain control characters")
    assert h.slot("r", "send").failures == {(condition, expected, actual): 2}


async def test_a_poll_makes_its_last_attempt_at_its_deadline_not_after_it(
    server: tuple[str, object], tmp_path: Path
) -> None:
    """Attempts due at due + n × every: 4 attempts in 200 ms every 50 ms, whatever the clock
    reads. A running sum (due + 0.05 + 0.05 + ...) falls short of due + 0.2 for some clock
    readings, which once made a fifth attempt with no time left: a `timeout`, not the
    condition that failed."""
    url, _ = server
    suite = make_suite(
        """
    p:
      target: app
      steps:
        - name: wait
          poll:
            request: GET /json
            until: {json: {"$.status": done}}
            every: 50ms
            timeout: 200ms
    """,
        url,
        tmp_path,
    )
    due = start = now()
    # A reading the running sum misses, if this clock's magnitude has one: whole binades have
    # none (every reading in [32768, 65536) sums exactly), so the search is bounded to 20 ms
    # and the test then runs at `start`, where the old arithmetic was right too.
    while due + 0.05 + 0.05 + 0.05 + 0.05 >= due + 0.2 and due < start + 0.02:
        due += 1e-7
    if due >= start + 0.02:
        due = start
    async with Client(options()) as client:
        h = harness(compile_program(suite), client)
        assert await h.runner.run("p", due) is False
    slot = h.slot("p", "wait")
    assert slot.requests == 4  # every attempt, the failed last one included
    assert failures(h.recorder, "p", "wait") == {
        ("until json $.status", 'equals "done"', '"pending"'): 1
    }
    assert [i for i, n in enumerate(slot.errors) if n] == [5]  # check_failed only
