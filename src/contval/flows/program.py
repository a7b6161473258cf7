"""`Program`: the compiled suite one worker runs; `bind` attaches it to a client and a recorder."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from contval.flows.feeders import FeederData
from contval.flows.ops import CompiledFlow
from contval.flows.routes import Route
from contval.flows.runner import FlowRunner
from contval.http import Client
from contval.metrics import Recorder

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Program:
    """Every flow of the suite (includes flattened) and this worker's share of the feeder rows.

    Immutable and shared by every virtual user of the worker; all mutable state (feeder cursors,
    the RNG, resolved pools and metric slots) lives in the `FlowRunner` that `bind` returns.
    """

    flows: Mapping[str, CompiledFlow]
    feeders: Mapping[str, FeederData]
    worker: int = 0
    seed: int | None = None
    targets: tuple[str, ...] = ()
    """The declared targets' URLs: the only origins a redirect or a templated URL may reach."""
    secrets: tuple[str, ...] = ()
    """Values never to show: redacted as `***` from every failure the runner records."""
    routes: tuple[Route, ...] = ()
    """TLS settings and proxies of the targets that have them, given to the client in `bind`."""

    def bind(
        self,
        client: Client,
        recorder: Recorder,
        *,
        think_sleep: Sleep = asyncio.sleep,
        debug_http: int = 0,
    ) -> FlowRunner:
        """Resolve pools, request templates and metric slots once.

        `think_sleep` replaces `asyncio.sleep` for think steps only, so tests can run flows with
        think times without waiting (polls always wait for real: they wait for the system).
        `debug_http` prints the first N request/response pairs to stderr (secrets redacted).
        """
        for route in self.routes:
            route.apply(client)
        return FlowRunner(self, client, recorder, think_sleep, debug_http)
