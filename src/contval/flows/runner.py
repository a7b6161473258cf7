"""The flow runner: one iteration of a flow, timed from when it was due, recorded into slots.

Everything a request needs (pool, pre-encoded template, metric slot) is resolved in `bind`, so the
hot path of a static request is: await the pool, compare the status, record one latency.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from contval.flows.debughttp import debugging
from contval.flows.exchange import Links
from contval.flows.failures import Explainer
from contval.flows.feeders import Feeder, FeederExhausted
from contval.flows.ops import CompiledFlow, PollOp, PythonOp, RequestOp, ThinkOp
from contval.flows.script import PythonStepRunner, Shape
from contval.flows.session import Sessions
from contval.flows.steps import BoundCall, PollStepRunner, RequestStepRunner, ThinkStepRunner
from contval.flows.templates import Scope
from contval.http import Client, HttpError, now
from contval.metrics import Recorder, Slot
from contval.spec.secrets import Redactor

if TYPE_CHECKING:
    from contval.flows.program import Program

StepRunner = RequestStepRunner | PollStepRunner | ThinkStepRunner | PythonStepRunner


class BoundFlow:
    """A compiled flow attached to this runner's pools, slots and feeder cursors."""

    __slots__ = ("after", "feeders", "sessions", "shared_scope", "size", "slot", "steps")

    def __init__(
        self,
        slot: Slot,
        feeders: tuple[Feeder, ...],
        size: int,
        steps: tuple[StepRunner, ...],
        slots: tuple[Slot | None, ...] = (),
    ) -> None:
        self.slot = slot
        self.feeders = feeders
        self.size = size
        self.steps = steps
        self.sessions: Sessions | None = None
        """Per-VU state (setup values, kept cookies) when the flow has `setup:` or `session: vu`."""
        self.after = _later(slots)
        """Per step, the slots of the measured steps after it: not reached when it fails."""
        self.shared_scope = Scope(0, ()) if size == 0 and not feeders else None
        """A flow with no variables and no data has nothing per iteration to keep: one scope,
        never written (only extraction writes to a scope, and extraction needs a variable)."""


def _later(slots: tuple[Slot | None, ...]) -> tuple[tuple[Slot, ...], ...]:
    """For each step, the distinct slots of the steps after it (think steps have none), less
    its own (a step name used twice shares one slot)."""
    after: list[tuple[Slot, ...]] = []
    for index, own in enumerate(slots):
        later: list[Slot] = []
        for slot in slots[index + 1 :]:
            if slot is not None and slot is not own and slot not in later:
                later.append(slot)
        after.append(tuple(later))
    return tuple(after)


def _mark_cookies(steps: list[StepRunner], cookies: bool, per_iteration: bool) -> None:
    """Which direct steps keep the cookies their responses set (`keeps_cookies`): none with
    `session: none`; with a jar that ends with the iteration, only those a request follows,
    since nothing else reads the jar. A status-only request whose response is not looked at
    for `Set-Cookie` costs no search of its head (docs/http.md)."""
    for index, step in enumerate(steps):
        if isinstance(step, RequestStepRunner):
            later = steps[index + 1 :]
            step.keeps_cookies = cookies and (
                not per_iteration
                or any(isinstance(s, RequestStepRunner | PollStepRunner) for s in later)
            )


class FlowRunner:
    """Runs iterations of any flow of a program; shared by all virtual users of one event loop."""

    def __init__(
        self,
        program: Program,
        client: Client,
        recorder: Recorder,
        sleep: Callable[[float], Awaitable[None]],
        debug_http: int = 0,
    ) -> None:
        seed = program.seed
        self.rng = random.Random(None if seed is None else f"{seed}/{program.worker}")
        self.explain = Explainer(Redactor(program.secrets))
        self.debug = debug_http > 0
        """`--debug-http N`: print the first N exchanges (and keep every body to show it)."""
        client = debugging(client, debug_http, self.explain.redactor, program.worker)
        self.links = Links(client, program.targets)
        feeders = {name: Feeder(data, self.rng) for name, data in program.feeders.items()}
        self._columns = {name: data.columns for name, data in program.feeders.items()}
        self._flows = {
            name: self._bind(flow, client, recorder, feeders, sleep)
            for name, flow in program.flows.items()
        }

    def _bind(
        self,
        flow: CompiledFlow,
        client: Client,
        recorder: Recorder,
        feeders: dict[str, Feeder],
        sleep: Callable[[float], Awaitable[None]],
    ) -> BoundFlow:
        steps: list[StepRunner] = []
        slots: list[Slot | None] = []
        cookies = flow.session != "none"
        setup: list[StepRunner] = []
        for op in (*flow.setup, *flow.steps):
            into = setup if len(setup) < len(flow.setup) else steps
            if isinstance(op, ThinkOp):
                into.append(ThinkStepRunner(op, self.rng, sleep))
                if into is steps:
                    slots.append(None)
                continue
            if isinstance(op, PythonOp):
                slot = recorder.slot(flow.name, op.name)
                columns = {name: self._columns[name] for name in flow.feeders}
                shape = Shape(flow.variables, columns, op.constants)
                into.append(PythonStepRunner(op, shape, slot, self.explain))
                if into is steps:
                    slots.append(slot)
                continue
            # A step that reads only the status never stores a body (see RequestTemplate).
            keep = not isinstance(op, RequestOp) or bool(op.check.conditions or op.call.extractors)
            keep = keep or self.debug
            pool = client.pool(op.call.origin)
            call = BoundCall(op.call, pool, self.rng, keep, self.explain, self.links, cookies)
            slot = recorder.slot(flow.name, op.name)
            if into is steps:
                slots.append(slot)
            if isinstance(op, RequestOp):
                into.append(RequestStepRunner(op, call, slot))
            else:
                assert isinstance(op, PollOp)
                into.append(PollStepRunner(op, call, slot, asyncio.sleep))
        own = tuple(feeders[name] for name in flow.feeders)
        bound = BoundFlow(
            recorder.slot(flow.name, None), own, len(flow.variables), tuple(steps), tuple(slots)
        )
        _mark_cookies(steps, cookies, per_iteration=not (flow.setup or flow.session == "vu"))
        if flow.setup or flow.session == "vu":
            later = [slot for slot in slots if slot is not None]
            bound.sessions = Sessions(setup, keep_jar=flow.session == "vu", later=later)
            bound.shared_scope = None
        elif any(step.direct is None and not isinstance(step, ThinkStepRunner) for step in steps):
            bound.shared_scope = None  # a step that may store cookies needs its own scope
        return bound

    async def run(self, flow: str, due: float, capture: list[Scope] | None = None) -> bool:
        """One iteration of `flow`, due at `due` (a `contval.http.now()` reading).

        Returns True when every step succeeded. Failures are recorded, never raised; the first
        failed step ends the iteration. The iteration's duration (think time included) is recorded
        whether it succeeded or not. When a `unique` feeder has no rows left, no request is sent
        and the iteration is recorded as dropped. `capture` receives the iteration's scope
        (a scenario's setup flow reads the values it extracted).
        """
        bound = self._flows[flow]
        scope = bound.shared_scope
        if scope is None:
            try:
                rows = tuple([feeder.row() for feeder in bound.feeders])
            except FeederExhausted:
                bound.slot.dropped()
                return False
            scope = Scope(bound.size, rows)
        at = due
        user = None
        sessions = bound.sessions
        if sessions is not None:
            user, at = await sessions.begin(scope, at)
            if user is None:  # the setup failed (recorded by its step)
                bound.slot.iteration(at - due)
                return False
        ok: bool | None = True
        for step in bound.steps:
            direct = step.direct
            if direct is not None and scope.jar is None:
                # RequestStepRunner.run inlined: two coroutines less per request.
                wire = None if direct.static else direct.render(scope)
                if wire is False:  # a template could not render: nothing sent (recorded)
                    ok, at = False, now()
                else:
                    try:
                        response = await direct.pool.request(direct.template, wire, direct.timeout)
                    except HttpError as exc:
                        at = direct.failed(exc, at)
                        ok = False
                    else:
                        ok = direct.conclude(response, at, scope)
                        if ok is None:  # a redirect, a cookie or a coded body: the exchange's
                            if scope is bound.shared_scope:
                                scope = Scope(0, ())  # this iteration now has cookies of its own
                            ok, at = await direct.finish(scope, response, at, wire)
                        else:
                            at = response.completed_at
            else:
                ok, at = await step.run(scope, at)
            if not ok:
                if ok is None:  # a python step raised Stop: the iteration ends, a success
                    ok = True
                    break
                for later in bound.after[bound.steps.index(step)]:
                    later.unreached()
                break
        bound.slot.iteration(at - due)
        if sessions is not None and user is not None:
            sessions.end(user, scope)
        if capture is not None:
            capture.append(scope)
        return bool(ok)
