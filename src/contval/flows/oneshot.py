"""Scenario-level setup and teardown: one flow run once by the controller around the load.

A scenario's `setup: FLOW` runs once before any worker starts. The values its steps extract
for names declared under `variables` become those variables for the whole run, exactly as
`--var NAME=VALUE` would set them: every worker (and every node of a cluster) compiles its
program with them, so every virtual user reads them as `{{ vars.NAME }}`. `teardown: FLOW`
runs once after the load (stopped or not), with the same variables. Only the names of the
shared variables are ever recorded, never their values (a token is a secret).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from contval.flows.compiler import compile_program
from contval.flows.templates import MISSING, Scope, to_text
from contval.http import Client, ClientOptions, now
from contval.metrics import ErrorClass, Recorder
from contval.spec import Suite


@dataclass(frozen=True, slots=True)
class OneShot:
    """How a setup or teardown flow went, and the variables it sets for the run."""

    flow: str
    ok: bool
    requests: int
    errors: dict[str, int]
    seconds: float
    values: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the console (variable names only)."""
        errors = ", ".join(f"{kind} {n}" for kind, n in self.errors.items()) or "no errors"
        sets = f"; sets {', '.join(sorted(self.values))}" if self.values else ""
        verdict = "ok" if self.ok else "FAILED"
        return (
            f"flow `{self.flow}` {verdict}: {self.requests} requests, {errors},"
            f" {self.seconds:.2f}s{sets}"
        )

    def entry(self) -> dict[str, Any]:
        """The result.json entry: names of the variables set, never their values."""
        return {
            "flow": self.flow,
            "ok": self.ok,
            "requests": self.requests,
            "errors": self.errors,
            "duration_s": round(self.seconds, 3),
            "variables": sorted(self.values),
        }


def run_once(
    suite: Suite,
    flow: str,
    overrides: Iterable[tuple[str, str]] = (),
    seed: int | None = None,
) -> OneShot:
    """Run one iteration of `flow` on a loop of its own (the controller's thread)."""
    return asyncio.run(_run_once(suite, flow, dict(overrides), seed))


async def _run_once(
    suite: Suite, flow: str, overrides: dict[str, str], seed: int | None
) -> OneShot:
    program = compile_program(suite, overrides=overrides, seed=seed)
    recorder = Recorder()
    started = time.monotonic()
    scopes: list[Scope] = []
    async with Client(ClientOptions(max_connections=4)) as client:
        runner = program.bind(client, recorder)
        ok = await runner.run(flow, now(), capture=scopes)
    values: dict[str, str] = {}
    names = program.flows[flow].variables
    for scope in scopes:
        for index, name in enumerate(names):
            value = scope.values[index]
            if name in suite.variables and value is not MISSING:
                values[name] = to_text(value)
    requests = 0
    errors: dict[str, int] = {}
    for slot in recorder.snapshot(0).slots:
        if slot.flow != flow or not slot.step:
            continue
        requests += slot.requests
        for kind in ErrorClass:
            if slot.errors[kind]:
                name = kind.name.lower()
                errors[name] = errors.get(name, 0) + slot.errors[kind]
    return OneShot(flow, ok, requests, errors, time.monotonic() - started, values)
