"""Step runners bound to a pool and a metric slot: request, poll and think.

Each `run(scope, due)` returns `(succeeded, ended_at)`; the next step is due when this one ended,
so every request is timed from when it was due and a slow step cannot hide the next one's wait.
Every request is recorded exactly once, as `request(latency)` or as `error(kind, latency)`, so a
slot's `error_rate` is errors / requests.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import ClassVar

from contval.flows.checks import INVALID, CompiledCheck, Reply
from contval.flows.ops import Call, PollOp, RequestOp, ThinkOp
from contval.flows.templates import Scope
from contval.http import HttpError, Pool, Response, now
from contval.metrics import ErrorClass, Slot

Sleep = Callable[[float], Awaitable[None]]
_HTTP_STATUS = ErrorClass.HTTP_STATUS
_CHECK_FAILED = ErrorClass.CHECK_FAILED
_REFUSED = ErrorClass.REFUSED


class BoundCall:
    """A call's pool and request template; `wire` renders the bytes (None: the static bytes)."""

    __slots__ = ("call", "dynamic_path", "pool", "rng", "static", "template")

    def __init__(self, call: Call, pool: Pool, rng: random.Random) -> None:
        self.call = call
        self.pool = pool
        self.rng = rng
        self.static = call.is_static
        path = call.path.static
        self.dynamic_path = path is None
        self.template = pool.template(
            call.method, path or "/", headers=dict(call.headers), body=call.body
        )

    def wire(self, scope: Scope) -> bytes | None:
        """The request bytes for this iteration; raises `ValueError` if a template can't render."""
        if self.static:
            return None
        call = self.call
        path = call.path.render(scope).encode("ascii") if self.dynamic_path else None
        body = None if call.body_template is None else _body(call, scope)
        headers = b""
        if call.dynamic_headers:
            lines = [f"{name}: {text.render(scope)}\r\n" for name, text in call.dynamic_headers]
            headers = "".join(lines).encode("latin-1")
        return self.template.encode(path=path, body=body, headers=headers)

    def judge(self, check: CompiledCheck, response: Response, slot: Slot | None) -> Reply | None:
        """The response as a `Reply` if it passes `check`, else None; checks go to `slot`."""
        status_ok = check.status_ok(response.status)
        if slot is not None and check.counts_status:
            slot.check(status_ok)
        if not status_ok:
            return None
        reply = Reply(response)
        passed = True
        for condition in check.conditions:
            document = reply.document
            held = document is not INVALID and condition.holds(document)
            if slot is not None:
                slot.check(held)
            passed = passed and held
        return reply if passed else None

    def extract(self, reply: Reply, scope: Scope) -> bool:
        """Store every extracted variable; False when one has no match (the step fails)."""
        values = scope.values
        for extractor in self.call.extractors:
            value = extractor.extract(reply, self.rng)
            if value is None:
                return False
            values[extractor.variable] = value
        return True


def _body(call: Call, scope: Scope) -> bytes:
    template = call.body_template
    assert template is not None
    rendered = template.render(scope)
    return rendered if isinstance(rendered, bytes) else rendered.encode()


def _latency(kind: ErrorClass, latency: float) -> float | None:
    """Refused connections carry no server time: keep them out of the latency percentiles."""
    return None if kind is _REFUSED else latency


class RequestStepRunner:
    """Send once; a status outside the check is HTTP_STATUS, a failed condition CHECK_FAILED.

    A static, status-only step without extraction is driven by the flow runner itself (`direct`
    is then the step): it awaits `pool.request(template, None, timeout)` and hands the outcome to
    `settle` or `failed`, one coroutine less per request. `run` does the same for everyone else.
    """

    __slots__ = (
        "bound",
        "check",
        "direct",
        "pool",
        "simple",
        "slot",
        "statuses",
        "template",
        "timeout",
    )

    direct: RequestStepRunner | None

    def __init__(self, op: RequestOp, bound: BoundCall, slot: Slot) -> None:
        self.bound = bound
        self.check = op.check
        self.slot = slot
        self.timeout = op.timeout
        self.simple = not op.check.conditions and not op.call.extractors
        """Only the status matters: no `Reply`, no JSON, one comparison."""
        self.statuses = op.check.status
        """The declared statuses (a counted check), or None: anything below 400, not counted."""
        self.direct = self if self.simple and bound.static else None
        self.pool = bound.pool
        self.template = bound.template

    def settle(self, response: Response, due: float) -> bool:
        """Judge a `simple` step's response by its status and record it: one histogram record."""
        status = response.status
        statuses = self.statuses
        slot = self.slot
        if statuses is None:
            ok = status < 400
        else:
            ok = status in statuses
            slot.check(ok)
        if ok:
            slot.request(response.completed_at - due)
        else:
            slot.error(_HTTP_STATUS, response.completed_at - due)
        return ok

    def failed(self, exc: HttpError, due: float) -> float:
        """Record a network failure; returns when it happened (the step's end)."""
        self.slot.error(exc.kind, _latency(exc.kind, exc.completed_at - due))
        return exc.completed_at

    async def run(self, scope: Scope, due: float) -> tuple[bool, float]:
        bound = self.bound
        slot = self.slot
        if bound.static:
            wire = None
        else:
            try:
                wire = bound.wire(scope)
            except ValueError:
                slot.error(_CHECK_FAILED)  # a template that cannot render: counted, nothing sent
                return False, now()
        try:
            response = await self.pool.request(self.template, wire, self.timeout)
        except HttpError as exc:
            return False, self.failed(exc, due)
        if self.simple:
            return self.settle(response, due), response.completed_at
        end = response.completed_at
        reply = bound.judge(self.check, response, slot)
        if reply is None:
            status_ok = self.check.status_ok(response.status)
            slot.error(_CHECK_FAILED if status_ok else _HTTP_STATUS, end - due)
            return False, end
        if bound.call.extractors and not bound.extract(reply, scope):
            slot.error(_CHECK_FAILED, end - due)
            return False, end
        slot.request(end - due)
        return True, end


class ThinkStepRunner:
    """Pause; the next step is due when the pause was planned to end, not when sleep returned."""

    __slots__ = ("high", "low", "rng", "sleep")

    direct: ClassVar[None] = None

    def __init__(self, op: ThinkOp, rng: random.Random, sleep: Sleep) -> None:
        self.low = op.low
        self.high = op.high
        self.rng = rng
        self.sleep = sleep

    def pause(self) -> float:
        """A pause drawn uniformly from [low, high]; fixed when they are equal."""
        return self.low if self.low == self.high else self.rng.uniform(self.low, self.high)

    async def run(self, scope: Scope, due: float) -> tuple[bool, float]:
        until = due + self.pause()
        await self.sleep(max(0.0, until - now()))
        # A late wake-up keeps the planned end (the lag shows in the next latency); an early one
        # (timers may fire ~1 ms early) must not make the next request due after it was sent.
        return True, min(until, now())


class PollStepRunner:
    """Repeat a request every `every` until `until` holds; the step's duration is time-to-condition.

    Each attempt is a request on the poll's slot, timed from when that attempt was due. Attempts
    that don't satisfy the condition, and transient network failures, are retried and recorded as
    plain requests; only the last attempt of a poll that times out is an error: CHECK_FAILED if it
    got a response, else its network class. One check is recorded per poll (did it succeed), and
    the duration is recorded for failed polls too (time until it gave up).
    """

    __slots__ = ("bound", "every", "request_timeout", "sleep", "slot", "timeout", "until")

    direct: ClassVar[None] = None

    def __init__(self, op: PollOp, bound: BoundCall, slot: Slot, sleep: Sleep) -> None:
        self.bound = bound
        self.until = op.until
        self.every = op.every
        self.timeout = op.timeout
        self.request_timeout = op.request_timeout
        self.slot = slot
        self.sleep = sleep

    async def run(self, scope: Scope, due: float) -> tuple[bool, float]:
        bound = self.bound
        slot = self.slot
        try:
            wire = bound.wire(scope)
        except ValueError:
            slot.error(_CHECK_FAILED)
            return False, now()
        deadline = due + self.timeout
        attempt_due = due
        while True:
            kind, end = await self._attempt(wire, scope, attempt_due, deadline)
            if kind is None:
                slot.request(end - attempt_due)
                slot.check(True)
                slot.duration(end - due)
                return True, end
            next_due = max(attempt_due + self.every, end)
            if next_due >= deadline:
                slot.error(kind, _latency(kind, end - attempt_due))
                slot.check(False)
                slot.duration(end - due)
                return False, end
            slot.request(end - attempt_due)
            await self.sleep(max(0.0, next_due - now()))
            attempt_due = next_due

    async def _attempt(
        self, wire: bytes | None, scope: Scope, due: float, deadline: float
    ) -> tuple[ErrorClass | None, float]:
        """One attempt: (None, end) when the condition held and extraction worked."""
        bound = self.bound
        remaining = max(deadline - now(), 0.001)
        limit = self.request_timeout
        timeout = remaining if limit is None else min(limit, remaining)
        try:
            response = await bound.pool.request(bound.template, wire, timeout)
        except HttpError as exc:
            return exc.kind, exc.completed_at
        reply = bound.judge(self.until, response, None)
        if reply is None or not bound.extract(reply, scope):
            return _CHECK_FAILED, response.completed_at
        return None, response.completed_at
