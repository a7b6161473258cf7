"""Payments: a separate service the shop calls to authorise and capture payments.

Processing time is configurable (delay and jitter). Authorisation is idempotent per order, so a
retried or repeated call never charges twice. Emails at `decline.test` are declined, so tests
and demos can produce a declined payment on purpose.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DECLINED_DOMAIN = "decline.test"


@dataclass(frozen=True)
class PaymentsSettings:
    delay: float = 0.02
    jitter: float = 0.005


def _authorization_id(order_id: str) -> str:
    return "auth_" + hashlib.sha256(order_id.encode()).hexdigest()[:16]


def create_app(settings: PaymentsSettings) -> Starlette:
    stats = {"authorized": 0, "declined": 0, "captured": 0}

    async def process() -> None:
        delay = settings.delay + random.uniform(-settings.jitter, settings.jitter)
        if delay > 0:
            await asyncio.sleep(delay)

    async def body(request: Request) -> dict[str, object] | None:
        try:
            data = await request.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    async def authorize(request: Request) -> JSONResponse:
        data = await body(request)
        if data is None or not isinstance(data.get("order_id"), str):
            return JSONResponse({"error": "expected a JSON object with order_id"}, 400)
        await process()
        email = str(data.get("email", ""))
        if email.lower().endswith("@" + DECLINED_DOMAIN):
            stats["declined"] += 1
            return JSONResponse({"status": "declined", "reason": "card declined"}, 402)
        stats["authorized"] += 1
        auth = _authorization_id(str(data["order_id"]))
        return JSONResponse({"status": "approved", "authorization_id": auth})

    async def capture(request: Request) -> JSONResponse:
        data = await body(request)
        if data is None or not isinstance(data.get("order_id"), str):
            return JSONResponse({"error": "expected a JSON object with order_id"}, 400)
        await process()
        if data.get("authorization_id") != _authorization_id(str(data["order_id"])):
            return JSONResponse({"status": "rejected", "reason": "unknown authorization"}, 409)
        stats["captured"] += 1
        return JSONResponse({"status": "captured", "authorization_id": data["authorization_id"]})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "healthy", **stats})

    return Starlette(
        routes=[
            Route("/authorize", authorize, methods=["POST"]),
            Route("/capture", capture, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
