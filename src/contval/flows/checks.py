"""Checks and extractions, compiled once per step, applied to each response.

A response body is parsed as JSON at most once, and only when a condition or an extractor needs
it (`Reply`); most requests only look at the status.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Final, Literal

from contval.flows.conditions import (
    INVALID,
    Failure,
    Reply,
    ResponseCondition,
    compile_body_conditions,
    compile_condition,
    compile_header_condition,
)
from contval.flows.jsonpath import JsonPath, parse_path
from contval.flows.templates import Resolver
from contval.spec import Check, Extract

__all__ = ["INVALID", "CompiledCheck", "Extractor", "Failure", "Reply", "compile_check"]


@dataclass(frozen=True, slots=True)
class CompiledCheck:
    """Accepted statuses (None: any 2xx) and conditions on JSON paths, headers and the body."""

    status: frozenset[int] | None
    conditions: tuple[ResponseCondition, ...]
    expected_status: str = "2xx"
    """How a failed status check explains what it wanted."""
    accepted: frozenset[int] | range = field(init=False)
    """The statuses that pass: the declared ones, else 2xx (`status in accepted`, one C test)."""

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "accepted", range(200, 300) if self.status is None else self.status
        )

    @property
    def counts_status(self) -> bool:
        """Only a declared status check is a check in the metrics; the implicit 2xx is not."""
        return self.status is not None

    def status_ok(self, status: int) -> bool:
        """Declared statuses, else 2xx: a redirect is not followed, so it is not a success."""
        return status in self.accepted


NO_CHECK: Final = CompiledCheck(None, ())


def compile_check(check: Check | None) -> CompiledCheck:
    """Compile a step's `check:` (or a poll's `until:`)."""
    if check is None:
        return NO_CHECK
    status = None if check.status is None else frozenset(check.status)
    conditions: list[ResponseCondition] = [
        compile_condition(p, c) for p, c in check.json_paths.items()
    ]
    conditions += [compile_header_condition(n, c) for n, c in check.headers.items()]
    if check.body is not None:
        conditions += compile_body_conditions(check.body)
    expected = "2xx" if check.status is None else ", ".join(map(str, check.status))
    return CompiledCheck(status, tuple(conditions), expected)


@dataclass(frozen=True, slots=True)
class Extractor:
    """Where one variable comes from, and which match to keep."""

    name: str
    variable: int
    source: Literal["json", "regex", "header"]
    path: JsonPath | None
    pattern: re.Pattern[str] | None
    header: str
    pick: Literal["first", "random", "all"]

    @property
    def expected(self) -> str:
        """How a failed extraction explains what it looked for."""
        if self.path is not None:
            return f"a match for json {self.path.text}"
        if self.pattern is not None:
            return f"a match for regex {self.pattern.pattern}"
        return f"a header {self.header}"

    def extract(self, reply: Reply, rng: random.Random) -> object | None:
        """The value to store, or None when nothing matched (the step then fails)."""
        found = self._matches(reply)
        if not found:
            return None
        pick = self.pick
        if pick == "first":
            return found[0]
        if pick == "random":
            # uniform for any list a response holds (far below 2**53 items), without
            # randrange's three Python calls per pick
            return found[int(rng.random() * len(found))]
        return found

    def _matches(self, reply: Reply) -> list[object]:
        if self.path is not None:
            document = reply.document
            return [] if document is INVALID else self.path.find(document)
        if self.pattern is not None:
            text = reply.response.text()
            group = 1 if self.pattern.groups else 0
            return [m.group(group) for m in self.pattern.finditer(text)]
        # One match per field line: repeated headers (Set-Cookie above all) are never joined.
        return list(reply.response.header_values(self.header))


def compile_extract(name: str, spec: Extract, resolver: Resolver) -> Extractor:
    """Compile one `extract:` entry; its variable gets a slot in the flow's scope."""
    index = resolver.variable(name)
    if spec.json_path is not None:
        path = parse_path(spec.json_path)
        return Extractor(name, index, "json", path, None, "", spec.pick)
    if spec.regex is not None:
        return Extractor(name, index, "regex", None, re.compile(spec.regex), "", spec.pick)
    return Extractor(name, index, "header", None, None, spec.header or "", spec.pick)
