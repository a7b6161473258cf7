"""Step runners bound to a pool and a metric slot: request, poll and think.

Each `run(scope, due)` returns `(succeeded, ended_at)`; the next step is due when this one ended,
so every request is timed from when it was due and a slow step cannot hide the next one's wait.
Every request is recorded exactly once, as `request(latency)` or as `error(kind, latency)`, so a
slot's `error_rate` is errors / requests.

Nothing a server sends may raise out of a step: an exception while rendering a request, judging a
response or extracting from it (a RecursionError on deeply nested JSON, a number Python refuses, a
value unfit for a header) is recorded as one `CHECK_ERROR` and ends the iteration.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import ClassVar, Literal

from contval.flows.checks import CompiledCheck, Failure, Reply
from contval.flows.exchange import REDIRECTS, Exchange, Links, NotSent
from contval.flows.failures import NO_EXPLAINER, Explainer
from contval.flows.ops import Call, PollOp, RequestOp, ThinkOp
from contval.flows.templates import RenderError, Scope
from contval.http import HttpError, Pool, Response, now
from contval.http.request import FORBIDDEN_HEADERS, has_idempotency_key
from contval.metrics import ErrorClass, Slot

Sleep = Callable[[float], Awaitable[None]]
_HTTP_STATUS = ErrorClass.HTTP_STATUS
_CHECK_FAILED = ErrorClass.CHECK_FAILED
_CHECK_ERROR = ErrorClass.CHECK_ERROR
_REFUSED = ErrorClass.REFUSED
_TLS = ErrorClass.TLS


class BoundCall:
    """A call's pool and request template; `wire` renders the bytes (None: the static bytes)."""

    __slots__ = (
        "call",
        "dynamic_path",
        "exchange",
        "explain",
        "pool",
        "refused",
        "rng",
        "static",
        "template",
    )

    def __init__(
        self,
        call: Call,
        pool: Pool,
        rng: random.Random,
        keep_body: bool = True,
        explain: Explainer = NO_EXPLAINER,
        links: Links | None = None,
        cookies: bool = True,
    ) -> None:
        self.call = call
        self.explain = explain
        """Records why a check failed (texts made safe: bounded, escaped, secrets redacted)."""
        self.pool = pool
        self.rng = rng
        self.static = call.is_static
        path = call.path.static
        self.dynamic_path = path is None
        names = [name for name, _ in call.dynamic_headers]
        self.template = pool.template(
            call.method,
            path or "/",
            headers=dict(call.headers),
            body=call.body,
            idempotent=call.idempotent or has_idempotency_key(names),
            keep_body=keep_body,
        )
        forbidden = [name for name in names if name.lower() in FORBIDDEN_HEADERS]
        self.refused = (
            None if not forbidden else f"header {forbidden[0]!r} is set by the client, not by steps"
        )
        """Why every rendering fails: a templated header would be a second Host (or framing);
        validation refuses it, this keeps a suite built another way from sending it."""
        self.exchange = Exchange(call, pool, self.template, links, keep=keep_body, cookies=cookies)
        """Cookies, redirects, URL targets and decoding (flows/exchange.py)."""

    def wire(self, scope: Scope) -> bytes | None:
        """The request bytes for this iteration; raises if a template can't render."""
        if self.static or self.call.url_target:
            return None  # a templated URL target is rendered by the exchange
        if self.refused is not None:
            raise RenderError(self.refused)
        call = self.call
        path = call.path.render(scope).encode("ascii") if self.dynamic_path else None
        body = None if call.body_template is None else _body(call, scope)
        headers = b""
        if call.dynamic_headers:
            lines = [f"{name}: {text.render(scope)}\r\n" for name, text in call.dynamic_headers]
            headers = "".join(lines).encode("latin-1")
        return self.template.encode(path=path, body=body, headers=headers)

    def judge(
        self, check: CompiledCheck, response: Response, slot: Slot | None
    ) -> Reply | list[Failure]:
        """The response as a `Reply` if it passes `check`, else why not (each failed condition,
        or the status alone: conditions are not evaluated on a wrong status); checks go to
        `slot`."""
        status_ok = check.status_ok(response.status)
        if slot is not None and check.counts_status:
            slot.check(status_ok)
        if not status_ok:
            return [("status", check.expected_status, str(response.status))]
        reply = Reply(response)
        failures: list[Failure] | None = None
        for condition in check.conditions:
            held = condition.passes(reply)
            if slot is not None:
                slot.check(held)
            if not held:
                failures = failures or []
                failures.append(condition.failure(reply))
        return reply if failures is None else failures

    def extract(self, reply: Reply, scope: Scope) -> Failure | None:
        """Store every extracted variable; why not when one has no match (the step fails)."""
        values = scope.values
        for extractor in self.call.extractors:
            value = extractor.extract(reply, self.rng)
            if value is None:
                return (f"extract {extractor.name}", extractor.expected, "(no match)")
            values[extractor.variable] = value
        return None


def _body(call: Call, scope: Scope) -> bytes:
    template = call.body_template
    assert template is not None
    rendered = template.render(scope)
    return rendered if isinstance(rendered, bytes) else rendered.encode()


def _latency(kind: ErrorClass, latency: float) -> float | None:
    """Refused connections and failed TLS handshakes carry no server time: keep them out of
    the latency percentiles."""
    return None if kind is _REFUSED or kind is _TLS else latency


class RequestStepRunner:
    """Send once; a status outside the check is HTTP_STATUS, a failed condition CHECK_FAILED.

    A request step on a declared target is driven by the flow runner itself while the
    iteration has no cookie to send (`direct` is then the step): it renders the request
    (`render`, when a template is in it), awaits `pool.request(template, wire, timeout)` and
    hands the response to `conclude`, which judges and records it, or returns None when the
    exchange has more to do (a redirect to follow, a cookie to keep, a body to decode): `finish`
    then takes it through `Exchange.after` and records it. Two coroutines less per request than
    `run`, which does the same through `Exchange.send` for everyone else.
    """

    __slots__ = (
        "accepted",
        "bound",
        "check",
        "conclude",
        "counted",
        "direct",
        "explain",
        "keeps_cookies",
        "pool",
        "record",
        "simple",
        "slot",
        "static",
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
        self.accepted = op.check.accepted
        """The statuses that pass (`CompiledCheck.accepted`)."""
        self.counted = op.check.counts_status
        """Whether the status is a counted check (declared statuses) or only a gate (2xx)."""
        self.static = bound.static
        self.direct = None if bound.call.url_target else self
        self.keeps_cookies = True
        """Whether a cookie this step's response sets can be sent again (the runner's direct
        path): not by the last request of an iteration whose jar ends with it."""
        self.conclude: Callable[[Response, float, Scope], bool | None] = (
            self.settle if self.simple else self.judged
        )
        """The direct path's first look at a response: recorded (True/False), or None."""
        self.record: Callable[[Response, float, Scope], bool] = (
            self._record_status if self.simple else self._record_checked
        )
        """Judge and record a response the exchange is done with (True: the step passed)."""
        bound.exchange.declared = op.check.status or frozenset()
        self.pool = bound.pool
        self.template = bound.template
        self.explain = bound.explain

    def settle(self, response: Response, due: float, scope: Scope) -> bool | None:
        """A `simple` step's response judged by its status and recorded: one histogram record.

        None (nothing recorded): a redirect to follow or a cookie to keep, for `finish`."""
        status = response.status
        if 300 <= status < 400 and status not in self.accepted and self._follows(response):
            return None
        if self.keeps_cookies and response.set_cookie:
            return None
        return self._record_status(response, due, scope)

    def _record_status(self, response: Response, due: float, scope: Scope) -> bool:
        ok = response.status in self.accepted
        slot = self.slot
        if self.counted:
            slot.check(ok)
        if ok:
            slot.answered(response, due)
        else:
            slot.timing(response)
            slot.error(_HTTP_STATUS, response.completed_at - due)
            self.explain.record(slot, ("status", self.check.expected_status, str(response.status)))
        return ok

    def judged(self, response: Response, due: float, scope: Scope) -> bool | None:
        """A checked step's response judged, extracted from and recorded; None (nothing
        recorded) when the exchange has more to do first: a redirect, a cookie, a coded body."""
        if (
            response.status in REDIRECTS
            or response.coded
            or (self.keeps_cookies and response.set_cookie)
        ):
            return None
        return self._record_checked(response, due, scope)

    def _record_checked(self, response: Response, due: float, scope: Scope) -> bool:
        slot = self.slot
        slot.timing(response)
        end = response.completed_at
        try:
            kind = self._outcome(response, scope)
        except Exception as exc:  # a hostile body is an error of its own class
            kind = _CHECK_ERROR
            self.explain.error(slot, "check response", exc)
        if kind is None:
            slot.request(end - due)
            return True
        slot.error(kind, end - due)
        return False

    def _follows(self, response: Response) -> bool:
        return self.bound.exchange.follows(response.status) and bool(response.header("location"))

    async def finish(
        self, scope: Scope, response: Response, due: float, wire: bytes | None
    ) -> tuple[bool, float]:
        """The direct path's response that `conclude` left: the exchange stores its cookies,
        follows its redirects and decodes its body, then it is judged and recorded."""
        try:
            response = await self.bound.exchange.after(
                scope, response, self.pool, self.template, wire, self.timeout
            )
        except HttpError as exc:
            return False, self.failed(exc, due)
        return self.record(response, due, scope), response.completed_at

    def failed(self, exc: HttpError, due: float) -> float:
        """Record a network failure; returns when it happened (the step's end)."""
        latency = None if isinstance(exc, NotSent) else _latency(exc.kind, exc.completed_at - due)
        self.slot.error(exc.kind, latency)
        return exc.completed_at

    def render(self, scope: Scope) -> bytes | Literal[False] | None:
        """This iteration's request bytes (None: the template's own); False when a template
        could not render, recorded as `CHECK_ERROR`: nothing is sent."""
        try:
            return self.bound.wire(scope)
        except Exception as exc:  # whatever an extracted value does, nothing is sent
            self.slot.error(_CHECK_ERROR)
            self.explain.error(self.slot, "render request", exc)
            return False

    async def run(self, scope: Scope, due: float) -> tuple[bool, float]:
        wire = None if self.static else self.render(scope)
        if wire is False:
            return False, now()
        try:
            response = await self.bound.exchange.send(scope, wire, self.timeout)
        except HttpError as exc:
            return False, self.failed(exc, due)
        return self.record(response, due, scope), response.completed_at

    def _outcome(self, response: Response, scope: Scope) -> ErrorClass | None:
        """Judge and extract: None when the step succeeded, else the error class to record."""
        bound = self.bound
        reply = bound.judge(self.check, response, self.slot)
        if not isinstance(reply, Reply):
            for failure in reply:
                self.explain.record(self.slot, failure)
            return _CHECK_FAILED if self.check.status_ok(response.status) else _HTTP_STATUS
        if bound.call.extractors:
            missing = bound.extract(reply, scope)
            if missing is not None:
                self.explain.record(self.slot, missing)
                return _CHECK_FAILED
        return None


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


_SAME_INSTANT = 1e-6
"""Seconds under which two instants of a poll's schedule are one (float rounding)."""


class PollStepRunner:
    """Repeat a request every `every` until `until` holds; the step's duration is time-to-condition.

    A response whose check or extraction raised (`CHECK_ERROR`) ends the poll at once: retrying
    would only raise again on the next hostile body.

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
        bound.exchange.declared = op.until.status or frozenset()
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
        except Exception as exc:  # see RequestStepRunner.run
            slot.error(_CHECK_ERROR)
            bound.explain.error(slot, "render request", exc)
            return False, now()
        deadline = due + self.timeout
        attempt_due = due
        attempts = 0
        while True:
            kind, end, why = await self._attempt(wire, scope, attempt_due, deadline)
            if kind is None:
                slot.request(end - attempt_due)
                slot.check(True)
                slot.duration(end - due)
                return True, end
            # Attempt n is due at due + n × every (not a running sum), and one due within a
            # microsecond of the deadline is at it: 0.05 added four times to a clock reading
            # may fall short of the reading + 0.2, which started a fifth attempt with no time.
            attempts += 1
            next_due = max(due + attempts * self.every, end)
            if next_due >= deadline - _SAME_INSTANT or kind is _CHECK_ERROR:
                slot.error(kind, _latency(kind, end - attempt_due))
                for failure in why:  # the last attempt's, so failures count failed polls
                    bound.explain.record(slot, failure)
                slot.check(False)
                slot.duration(end - due)
                return False, end
            slot.request(end - attempt_due)
            await self.sleep(max(0.0, next_due - now()))
            attempt_due = next_due

    async def _attempt(
        self, wire: bytes | None, scope: Scope, due: float, deadline: float
    ) -> tuple[ErrorClass | None, float, list[Failure]]:
        """One attempt: (None, end, []) when the condition held and extraction worked; else the
        error class, when it ended, and why (a network error needs no explaining)."""
        bound = self.bound
        remaining = max(deadline - now(), 0.001)
        limit = self.request_timeout
        timeout = remaining if limit is None else min(limit, remaining)
        try:
            response = await bound.exchange.send(scope, wire, timeout)
        except HttpError as exc:
            return exc.kind, exc.completed_at, []
        self.slot.timing(response)
        end = response.completed_at
        try:
            reply = bound.judge(self.until, response, None)
            if not isinstance(reply, Reply):
                return _CHECK_FAILED, end, [(f"until {c}", e, a) for c, e, a in reply]
            failure = bound.extract(reply, scope)
            if failure is not None:
                return _CHECK_FAILED, end, [failure]
        except Exception as exc:  # a hostile body ends the poll at once
            return (
                _CHECK_ERROR,
                end,
                [("check response", "no error", f"{type(exc).__name__}: {exc}")],
            )
        return None, end, []
