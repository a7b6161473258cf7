"""JSON conditions, compiled once: what a value found at a JSON path must satisfy.

Equality is strict about JSON types (`true` is not `1`, `"202"` is not `202`), because a check that
passes on the wrong type hides exactly the bugs a validation run is for. Numbers compare by value
(`1 == 1.0`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from contval.flows.jsonpath import JsonPath, parse_path
from contval.spec import Condition

Test = Callable[[object], bool]
"""One operator applied to the value found (never called when the path matched nothing)."""


def json_equal(a: object, b: object) -> bool:
    """Equality as JSON means it: booleans are not numbers; containers compare element-wise."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _is_number(a) and _is_number(b):
        return a == b
    if isinstance(a, list) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _length(value: object) -> int | None:
    return len(value) if isinstance(value, str | list | dict) else None


def _tests(cond: Condition) -> list[Test]:
    """One test per operator the user set (`model_fields_set` tells `equals: null` from unset)."""
    given = cond.model_fields_set
    tests: list[Test] = []
    if "equals" in given:
        expected = cond.equals
        tests.append(lambda v: json_equal(v, expected))
    if "not_equals" in given:
        unexpected = cond.not_equals
        tests.append(lambda v: not json_equal(v, unexpected))
    if cond.one_of is not None:
        options = cond.one_of
        tests.append(lambda v: any(json_equal(v, o) for o in options))
    tests.extend(_bound_tests(cond))
    if cond.matches is not None:
        pattern = re.compile(cond.matches)
        tests.append(lambda v: isinstance(v, str) and pattern.search(v) is not None)
    return tests


def _bound_tests(cond: Condition) -> list[Test]:
    tests: list[Test] = []
    if cond.min_length is not None:
        shortest = cond.min_length
        tests.append(lambda v: (n := _length(v)) is not None and n >= shortest)
    if cond.max_length is not None:
        longest = cond.max_length
        tests.append(lambda v: (n := _length(v)) is not None and n <= longest)
    if cond.min is not None:
        low = cond.min
        tests.append(lambda v: _is_number(v) and v >= low)  # type: ignore[operator]
    if cond.max is not None:
        high = cond.max
        tests.append(lambda v: _is_number(v) and v <= high)  # type: ignore[operator]
    return tests


@dataclass(frozen=True, slots=True)
class JsonCondition:
    """A path and what must hold there; one `check` in the metrics per evaluation.

    A path without wildcards stands for its single match; a wildcard path for the list of all its
    matches, possibly empty (so `$.items[*].id: {min_length: 1}` asks for at least one id).
    `exists` asks whether anything matches; other operators on a missing single value fail.
    """

    path: JsonPath
    exists: bool | None
    tests: tuple[Test, ...]

    def holds(self, document: object) -> bool:
        """Whether `document` (parsed JSON) satisfies the condition."""
        found = self.path.find(document)
        if self.exists is not None and bool(found) != self.exists:
            return False
        if self.path.multi:
            return all(test(found) for test in self.tests)
        if not found:
            return not self.tests
        value = found[0]
        return all(test(value) for test in self.tests)


def compile_condition(path: str, cond: Condition) -> JsonCondition:
    """Compile one `path: condition` entry of a check."""
    return JsonCondition(parse_path(path), cond.exists, tuple(_tests(cond)))
