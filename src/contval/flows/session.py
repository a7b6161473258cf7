"""Virtual-user sessions: per-VU `setup:` steps and a cookie jar kept across iterations.

A flow with `setup:` or `session: vu` keeps one `UserState` per virtual user: the variables its
setup extracted and its cookie jar. The runner serves every virtual user of its event loop, so a
"virtual user" here is a state that one iteration at a time borrows: an iteration takes an idle
state (last in, first out) or, when none is idle, makes one by running the setup steps; it gives
the state back when it ends. There are never more states than iterations of the flow running at
once, which is the number of virtual users (closed model) or the VUs in use (open model); in the
closed model each user gets its own state back every iteration, since it ends one iteration and
starts the next without yielding. A failed setup leaves no state: the next iteration runs the
setup again (a user who could not log in tries again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from contval.flows.cookies import CookieJar
from contval.flows.templates import Scope
from contval.metrics import Slot


class _Step(Protocol):
    async def run(self, scope: Scope, due: float) -> tuple[bool | None, float]: ...


class UserState:
    """What one virtual user keeps between iterations."""

    __slots__ = ("jar", "values")

    def __init__(self, values: list[object], jar: CookieJar | None) -> None:
        self.values = values
        self.jar = jar


class Sessions:
    """The idle user states of one flow, and how an iteration begins and ends with one."""

    __slots__ = ("idle", "keep_jar", "later", "setup")

    def __init__(self, setup: Sequence[_Step], keep_jar: bool, later: Sequence[Slot] = ()) -> None:
        self.setup = tuple(setup)
        self.later = tuple(dict.fromkeys(later))
        """The flow's step slots: not reached when the setup fails."""
        self.keep_jar = keep_jar
        """`session: vu`: the iteration's cookies stay for the next; else each starts from the
        cookies the setup left (none without setup)."""
        self.idle: list[UserState] = []

    async def begin(self, scope: Scope, due: float) -> tuple[UserState | None, float]:
        """Fill `scope` from an idle state, or run the setup into it; None: the setup failed."""
        idle = self.idle
        if idle:
            user = idle.pop()
            scope.values[:] = user.values
        else:
            at = due
            for step in self.setup:
                ok, at = await step.run(scope, at)
                if ok is None:  # a python step raised Stop: the setup is done
                    break
                if not ok:
                    for slot in self.later:
                        slot.unreached()
                    return None, at
            user = UserState(list(scope.values), scope.jar)
            due = at
        jar = user.jar
        scope.jar = jar if self.keep_jar or jar is None else jar.copy()
        return user, due

    def end(self, user: UserState, scope: Scope) -> None:
        """Give the state back for the next iteration (a cancelled iteration never does)."""
        if self.keep_jar:
            user.jar = scope.jar
        self.idle.append(user)
