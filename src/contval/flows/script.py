"""Python steps: a user's function called with the iteration's variables, on the worker's loop.

The contract (docs/flows.md#python-steps): the function receives one argument, a read-only
mapping of what a template could read at that point, under the names a template uses (`token`,
`vars.page_size`, `env.USER`, `secrets.key`, `data.users.email`); it returns a dict of some of
the variables its step declares under `sets:`, or None. An `async def` is awaited; anything
else runs on the event loop as it is, so a blocking call stalls every virtual user of the
worker (the user's cost, documented). Raising `Stop` ends the iteration there as a success.

Whatever the function does is data, never a crash: an exception, or a return value that is not
a dict of declared names with JSON-like values, is one `SCRIPT_ERROR` on the step with its
message (secrets redacted, escaped, bounded), and the iteration's later steps are not reached.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import ClassVar, Final

from contval.flows.failures import Explainer
from contval.flows.ops import PythonOp
from contval.flows.templates import MISSING, Scope
from contval.http import now
from contval.metrics import ErrorClass, Slot
from contval.spec.scripts import import_function

_SCRIPT_ERROR: Final = ErrorClass.SCRIPT_ERROR
_VALUES: Final = (str, int, float, bool, type(None), list, dict)
"""What a returned variable may hold: what a template can render and a JSON body can carry."""
RETURNS: Final = "a dict of its `sets:` variables, or None"


class Stop(Exception):
    """Raise it in a python step to end the iteration here, as a success: the later steps of
    the iteration are not run (and not counted as not reached: nothing failed)."""


class Shape:
    """Where each name of a flow's variables mapping lives: built once per flow and step."""

    __slots__ = ("columns", "constants", "variables")

    def __init__(
        self,
        variables: tuple[str, ...],
        feeders: Mapping[str, tuple[str, ...]],
        constants: Mapping[str, object],
    ) -> None:
        self.variables = {name: index for index, name in enumerate(variables)}
        self.columns = {
            f"data.{feeder}.{column}": (slot, index)
            for slot, (feeder, header) in enumerate(feeders.items())
            for index, column in enumerate(header)
        }
        self.constants = constants


class Variables(Mapping[str, object]):
    """The read-only view a python step gets: reads the scope, copies nothing."""

    __slots__ = ("_scope", "_shape")

    def __init__(self, scope: Scope, shape: Shape) -> None:
        self._scope = scope
        self._shape = shape

    def __getitem__(self, key: str) -> object:
        shape = self._shape
        index = shape.variables.get(key)
        if index is not None:
            value = self._scope.values[index]
            if value is MISSING:
                raise KeyError(key)
            return value
        cell = shape.columns.get(key)
        if cell is not None and cell[0] < len(self._scope.rows):
            return self._scope.rows[cell[0]][cell[1]]
        return shape.constants[key]

    def __iter__(self) -> Iterator[str]:
        values = self._scope.values
        for name, index in self._shape.variables.items():
            if values[index] is not MISSING:
                yield name
        rows = len(self._scope.rows)
        yield from (key for key, (slot, _) in self._shape.columns.items() if slot < rows)
        yield from self._shape.constants

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"Variables({sorted(self)})"


class PythonStepRunner:
    """Call the function; record its duration, or one `SCRIPT_ERROR` saying what went wrong.

    `run` returns `(True, end)` on success, `(False, end)` on a script error and `(None, end)`
    when the function raised `Stop`.
    """

    __slots__ = ("condition", "explain", "function", "sets", "shape", "slot")

    direct: ClassVar[None] = None

    def __init__(self, op: PythonOp, shape: Shape, slot: Slot, explain: Explainer) -> None:
        folder = Path(op.folder) if op.folder is not None else None
        try:
            self.function = import_function(op.ref, folder)
        except ValueError as exc:  # validated where the suite was loaded, not importable here
            raise RuntimeError(f"python step `{op.name}` on this worker: {exc}") from None
        self.sets = op.sets
        self.shape = shape
        self.slot = slot
        self.explain = explain
        self.condition = f"python {op.ref}"

    async def run(self, scope: Scope, due: float) -> tuple[bool | None, float]:
        try:
            result = self.function(Variables(scope, self.shape))
            if inspect.isawaitable(result):
                result = await result
        except Stop:
            end = now()
            self.slot.duration(end - due)
            return None, end
        except (Exception, SystemExit) as exc:  # the user's code: counted, never a crash
            return False, self._failed(due, "no error", _said(exc))
        if result is not None:
            problem = self._store(result, scope)
            if problem is not None:
                return False, self._failed(due, RETURNS, problem)
        end = now()
        self.slot.duration(end - due)
        return True, end

    def _store(self, result: object, scope: Scope) -> str | None:
        """Store every returned variable (all or none); why not, when the result is wrong."""
        if not isinstance(result, Mapping):
            return f"returned {_kind(result)}"
        sets = self.sets
        for key, value in result.items():
            if not isinstance(key, str) or key not in sets:
                declared = ", ".join(f"`{name}`" for name in sets) or "nothing"
                return f"returned `{key}`, which `sets:` does not declare (it declares {declared})"
            if not isinstance(value, _VALUES):
                return (
                    f"returned `{key}` of type {type(value).__name__}; a variable holds a str,"
                    " int, float, bool, None, list or dict"
                )
        values = scope.values
        for key, value in result.items():
            values[sets[key]] = value
        return None

    def _failed(self, due: float, expected: str, actual: str) -> float:
        end = now()
        slot = self.slot
        slot.error(_SCRIPT_ERROR)
        slot.duration(end - due)
        self.explain.record(slot, (self.condition, expected, actual))
        return end


def _kind(value: object) -> str:
    return f"a value of type {type(value).__name__}"


def _said(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
