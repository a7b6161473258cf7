"""The shop's and worker's view of Payments: timeout, bounded retries with backoff, breaker.

A call never raises for a Payments problem: it returns an outcome, and the caller decides
what the order does (see README: an order is never lost when Payments is down).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from contoso_shoes.breaker import CircuitBreaker
from contoso_shoes.config import PaymentsLink
from contoso_shoes.httpclient import JsonClient, TransportError


class Outcome(Enum):
    APPROVED = "approved"
    DECLINED = "declined"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class PaymentResult:
    outcome: Outcome
    authorization_id: str | None = None
    detail: str = ""


class PaymentsClient:
    def __init__(self, link: PaymentsLink) -> None:
        self.link = link
        self.http = JsonClient(link.url, link.timeout)
        self.breaker = CircuitBreaker(link.breaker_failures, link.breaker_reset)
        self.calls: dict[str, int] = {o.value: 0 for o in Outcome}
        self.calls["short_circuited"] = 0

    async def authorize(self, order_id: str, amount_cents: int, email: str) -> PaymentResult:
        payload = {"order_id": order_id, "amount_cents": amount_cents, "email": email}
        return await self._call("/authorize", payload)

    async def capture(self, order_id: str, authorization_id: str) -> PaymentResult:
        payload = {"order_id": order_id, "authorization_id": authorization_id}
        return await self._call("/capture", payload)

    async def _call(self, path: str, payload: Mapping[str, object]) -> PaymentResult:
        detail = "circuit breaker open"
        for attempt in range(self.link.retries + 1):
            if attempt:
                base = self.link.backoff * 2 ** (attempt - 1)
                await asyncio.sleep(base * random.uniform(0.5, 1.5))
            if not self.breaker.allow():
                self.calls["short_circuited"] += 1
                return PaymentResult(Outcome.UNAVAILABLE, detail=detail)
            try:
                response = await self.http.request("POST", path, payload)
            except TransportError as exc:
                detail = str(exc)
                self.breaker.record_failure()
                continue
            if response.status >= 500:
                detail = f"payments answered {response.status}"
                self.breaker.record_failure()
                continue
            self.breaker.record_success()
            return self._result(response.status, response.body)
        self.calls[Outcome.UNAVAILABLE.value] += 1
        return PaymentResult(Outcome.UNAVAILABLE, detail=detail)

    def _result(self, status: int, body: object) -> PaymentResult:
        auth = body.get("authorization_id") if isinstance(body, dict) else None
        if status == 200:
            self.calls[Outcome.APPROVED.value] += 1
            return PaymentResult(Outcome.APPROVED, authorization_id=auth)
        self.calls[Outcome.DECLINED.value] += 1
        return PaymentResult(Outcome.DECLINED, detail=f"payments answered {status}")

    async def probe(self, timeout: float = 0.5) -> float | None:
        """Seconds a health call took, or None if Payments did not answer healthily."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            async with asyncio.timeout(timeout):
                response = await self.http.request("GET", "/health")
        except (TransportError, TimeoutError):
            return None
        return loop.time() - start if response.status == 200 else None
