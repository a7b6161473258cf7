"""Checks and extractions, compiled once per step, applied to each response.

A response body is parsed as JSON at most once, and only when a condition or an extractor needs
it (`Reply`); most requests only look at the status.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Final, Literal

from contval.flows.conditions import JsonCondition, compile_condition
from contval.flows.jsonpath import JsonPath, parse_path
from contval.flows.templates import Resolver
from contval.http import Response
from contval.spec import Check, Extract

INVALID: Final = object()
"""The parsed body of a response that is not JSON: every JSON condition on it fails."""


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
                self._document = json.loads(self.response.body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                self._document = INVALID
        return self._document


@dataclass(frozen=True, slots=True)
class CompiledCheck:
    """Accepted statuses (None: any 2xx) and JSON conditions."""

    status: frozenset[int] | None
    conditions: tuple[JsonCondition, ...]

    @property
    def counts_status(self) -> bool:
        """Only a declared status check is a check in the metrics; the implicit 2xx is not."""
        return self.status is not None

    def status_ok(self, status: int) -> bool:
        """Declared statuses, else 2xx: a redirect is not followed, so it is not a success."""
        return 200 <= status < 300 if self.status is None else status in self.status


NO_CHECK: Final = CompiledCheck(None, ())


def compile_check(check: Check | None) -> CompiledCheck:
    """Compile a step's `check:` (or a poll's `until:`)."""
    if check is None:
        return NO_CHECK
    status = None if check.status is None else frozenset(check.status)
    conditions = tuple(compile_condition(p, c) for p, c in check.json_paths.items())
    return CompiledCheck(status, conditions)


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

    def extract(self, reply: Reply, rng: random.Random) -> object | None:
        """The value to store, or None when nothing matched (the step then fails)."""
        found = self._matches(reply)
        if not found:
            return None
        if self.pick == "first":
            return found[0]
        if self.pick == "random":
            return found[rng.randrange(len(found))]
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
