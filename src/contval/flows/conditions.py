"""Conditions on a response, compiled once: JSON paths, headers and the body text.

Equality is strict about JSON types (`true` is not `1`, `"202"` is not `202`), because a check that
passes on the wrong type hides exactly the bugs a validation run is for. Numbers compare by value
(`1 == 1.0`).

Every condition answers `passes(reply)` on the hot path and, only when that failed,
`failure(reply)`: what it checked, what it expected and what it found, as raw text that
`contval.flows.failures` bounds, escapes and redacts before it is recorded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from contval.flows.jsonparse import parse_json
from contval.flows.jsonpath import JsonPath, parse_path
from contval.http import Response
from contval.spec import Condition
from contval.spec.steps import BodyCheck

INVALID: Final = object()
"""The parsed body of a response that is not JSON: every JSON condition on it fails."""

ACTUAL_CHARS: Final = 4096
"""How much of a value a failure carries before it is redacted and cut to what is shown."""

Failure = tuple[str, str, str]
"""(condition, expected, actual) of one failed check, before it is made safe to show."""


class Reply:
    """A response with its JSON parsed on first use."""

    __slots__ = ("_document", "_parsed", "response")

    def __init__(self, response: Response) -> None:
        self.response = response
        self._document: object = None
        self._parsed = False

    @property
    def document(self) -> object:
        """The body as JSON, or `INVALID` when it is not JSON (or not UTF-8).

        A body that is JSON but that Python cannot represent (nesting past the recursion limit,
        an integer of more than 4300 digits) raises: the step records it as `CHECK_ERROR`.
        """
        if not self._parsed:
            self._parsed = True
            try:
                self._document = parse_json(self.response.body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                self._document = INVALID
        return self._document


def shown_value(value: object) -> str:
    """A found value as JSON (strings quoted, so `"202"` reads apart from `202`)."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text[:ACTUAL_CHARS]


def body_start(reply: Reply) -> str:
    """The start of the body as text, for a failure's `actual` (bytes that are not UTF-8 as
    `\\xNN`, never a replacement character)."""
    return reply.response.body[:ACTUAL_CHARS].decode("utf-8", errors="backslashreplace")


def describe(cond: Condition) -> str:
    """What a condition expects, in the suite's own words: `equals "x", min_length 1`."""
    given = cond.model_fields_set
    parts: list[str] = []
    if "equals" in given:
        parts.append(f"equals {shown_value(cond.equals)}")
    if "not_equals" in given:
        parts.append(f"not_equals {shown_value(cond.not_equals)}")
    for key in ("one_of", "min_length", "max_length", "min", "max", "matches", "exists"):
        value = getattr(cond, key)
        if value is not None:
            parts.append(f"{key} {shown_value(list(value) if key == 'one_of' else value)}")
    return ", ".join(parts)


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
    label: str = "json $"
    expected: str = ""

    def passes(self, reply: Reply) -> bool:
        """Whether the reply's body is JSON and satisfies the condition."""
        document = reply.document
        return document is not INVALID and self.holds(document)

    def failure(self, reply: Reply) -> Failure:
        """What was found where the condition failed (call only after `passes` was False)."""
        document = reply.document
        if document is INVALID:
            actual = "(not JSON) " + body_start(reply)
        else:
            found = self.path.find(document)
            if self.path.multi:
                actual = shown_value(found)
            else:
                actual = shown_value(found[0]) if found else "(missing)"
        return self.label, self.expected, actual

    def holds(self, document: object) -> bool:
        """Whether `document` (parsed JSON) satisfies the condition."""
        found = self.path.find(document)
        if self.exists is not None and bool(found) != self.exists:
            return False
        if self.path.multi:
            value: object = found
        elif not found:
            return not self.tests
        else:
            value = found[0]
        for test in self.tests:  # noqa: SIM110 (a loop, not all(genexpr): no generator per response)
            if not test(value):
                return False
        return True


def compile_condition(path: str, cond: Condition) -> JsonCondition:
    """Compile one `path: condition` entry of a check."""
    return JsonCondition(
        parse_path(path), cond.exists, tuple(_tests(cond)), f"json {path}", describe(cond)
    )


@dataclass(frozen=True, slots=True)
class HeaderCondition:
    """A response header's value (repeated lines joined with `, `) against a condition."""

    name: str
    exists: bool | None
    tests: tuple[Test, ...]
    label: str
    expected: str

    def passes(self, reply: Reply) -> bool:
        value = reply.response.header(self.name)
        if self.exists is not None and (value is not None) != self.exists:
            return False
        if value is None:
            return not self.tests
        return all(test(value) for test in self.tests)

    def failure(self, reply: Reply) -> Failure:
        value = reply.response.header(self.name)
        actual = "(missing)" if value is None else shown_value(value)
        return self.label, self.expected, actual


def compile_header_condition(name: str, cond: Condition) -> HeaderCondition:
    """Compile one `headers:` entry of a check."""
    return HeaderCondition(
        name.lower(), cond.exists, tuple(_tests(cond)), f"header {name}", describe(cond)
    )


@dataclass(frozen=True, slots=True)
class BodyCondition:
    """The body as text: contains, does not contain, or matches a regular expression."""

    label: str
    expected: str
    test: Callable[[str], bool]

    def passes(self, reply: Reply) -> bool:
        return self.test(reply.response.text())

    def failure(self, reply: Reply) -> Failure:
        return self.label, self.expected, body_start(reply)  # as text: escaped when recorded


def compile_body_conditions(body: BodyCheck) -> list[BodyCondition]:
    """One condition per key of a `body:` check."""
    conditions: list[BodyCondition] = []
    if body.contains is not None:
        wanted = body.contains
        expected = f"contains {shown_value(wanted)}"
        conditions.append(BodyCondition("body", expected, lambda text: wanted in text))
    if body.not_contains is not None:
        unwanted = body.not_contains
        expected = f"not_contains {shown_value(unwanted)}"
        conditions.append(BodyCondition("body", expected, lambda text: unwanted not in text))
    if body.matches is not None:
        pattern = re.compile(body.matches)
        expected = f"matches {shown_value(body.matches)}"
        conditions.append(
            BodyCondition("body", expected, lambda text: pattern.search(text) is not None)
        )
    return conditions


ResponseCondition = JsonCondition | HeaderCondition | BodyCondition
