"""The shop API: catalog, carts, checkout and order status, plus /health and /metrics.

Checkout reserves stock and records the order atomically, then asks Payments to authorise it:
- approved: the order is `placed` with payment `authorized`, and the worker takes it on;
- declined: the order is `cancelled`, its stock released, and the client gets 402;
- Payments unavailable (timeouts, errors, breaker open): the order is still accepted (202) with
  payment `pending`; the worker authorises it when Payments is back. No order is lost.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contoso_shoes import db, health, store
from contoso_shoes.breaker import BreakerState
from contoso_shoes.config import ShopSettings
from contoso_shoes.metrics import ShopMetrics
from contoso_shoes.payments_client import Outcome, PaymentsClient
from contoso_shoes.store import StoreError

Handler = Callable[[Request], Awaitable[tuple[int, Any]]]


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


async def read_json_object(request: Request, limit: int) -> dict[str, Any]:
    """The request body as a JSON object, refusing bodies over `limit` bytes before reading them."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise StoreError(413, "body_too_large", f"request bodies are limited to {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise StoreError(
                    413, "body_too_large", f"request bodies are limited to {limit} bytes"
                )
            chunks.append(chunk)
    except ClientDisconnect as exc:
        raise StoreError(400, "client_disconnected", "the client went away mid-body") from exc
    try:
        data = json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(400, "malformed_json", f"the body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise StoreError(400, "malformed_json", "the body must be a JSON object")
    return data


def int_field(data: dict[str, Any], name: str, low: int, high: int) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise StoreError(422, f"invalid_{name}", f"`{name}` must be an integer")
    if not low <= value <= high:
        raise StoreError(422, f"invalid_{name}", f"`{name}` must be between {low} and {high}")
    return value


def str_field(data: dict[str, Any], name: str, max_len: int = 254) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise StoreError(
            422, f"invalid_{name}", f"`{name}` must be a string of 1 to {max_len} chars"
        )
    return value


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise StoreError(
            400, f"invalid_{name}", f"`{name}` must be an integer, got {raw!r}"
        ) from None
    if not low <= value <= high:
        raise StoreError(400, f"invalid_{name}", f"`{name}` must be between {low} and {high}")
    return value


def path_int(request: Request, name: str) -> int:
    raw = request.path_params[name]
    if not raw.isdigit() or len(raw) > 18:
        raise StoreError(404, "not_found", f"no such {name.replace('_', ' ')}: {raw!r}")
    return int(raw)


class Shop:
    """The shop's state: one SQLite connection on the event loop thread, Payments, metrics."""

    def __init__(self, settings: ShopSettings) -> None:
        self.settings = settings
        self.metrics = ShopMetrics()
        self.payments = PaymentsClient(settings.payments)
        self._conn: sqlite3.Connection | None = None
        self._probe: tuple[float, float | None] = (0.0, None)
        self.metrics.bind(self.conn, self.payments.breaker)

    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = db.connect(self.settings.db_path)
        return self._conn

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        db.init_db(self.settings.db_path)
        self.conn()
        yield
        await self.payments.http.close()
        if self._conn is not None:
            self._conn.close()

    # -- catalog -------------------------------------------------------------------------
    async def list_products(self, request: Request) -> tuple[int, Any]:
        limit = int_param(request, "limit", 20, 1, 100)
        offset = int_param(request, "offset", 0, 0, 10**9)
        q = request.query_params.get("q")
        return 200, store.list_products(self.conn(), limit, offset, q)

    async def get_product(self, request: Request) -> tuple[int, Any]:
        return 200, store.get_product(self.conn(), path_int(request, "product_id"))

    # -- carts ---------------------------------------------------------------------------
    async def create_cart(self, request: Request) -> tuple[int, Any]:
        return 201, store.create_cart(self.conn())

    async def get_cart(self, request: Request) -> tuple[int, Any]:
        return 200, store.get_cart(self.conn(), request.path_params["cart_id"])

    async def add_item(self, request: Request) -> tuple[int, Any]:
        data = await read_json_object(request, self.settings.max_body_bytes)
        product_id = int_field(data, "product_id", 1, 2**62)
        quantity = int_field(data, "quantity", 1, store.MAX_QUANTITY)
        cart_id = request.path_params["cart_id"]
        store.add_item(self.conn(), cart_id, product_id, quantity)
        return 201, store.get_cart(self.conn(), cart_id)

    # -- orders --------------------------------------------------------------------------
    async def place_order(self, request: Request) -> tuple[int, Any]:
        data = await read_json_object(request, self.settings.max_body_bytes)
        cart_id = str_field(data, "cart_id", 64)
        email = str_field(data, "email")
        if "@" not in email:
            raise StoreError(422, "invalid_email", "`email` must be an email address")
        order = store.place_order(self.conn(), cart_id, email)
        result = await self.payments.authorize(order.id, order.total_cents, email)
        conn = self.conn()
        if result.outcome is Outcome.DECLINED:
            store.cancel_order(conn, order.id, "declined")
            self.metrics.orders.labels("declined").inc()
            body = error_body("payment_declined", "the payment was declined")
            body["order"] = store.get_order(conn, order.id)
            return 402, body
        if result.outcome is Outcome.APPROVED and result.authorization_id:
            store.set_authorized(conn, order.id, result.authorization_id)
        store.release_job(conn, order.id)
        self.metrics.orders.labels(result.outcome.value).inc()
        return 202, store.get_order(conn, order.id)

    async def get_order(self, request: Request) -> tuple[int, Any]:
        return 200, store.get_order(self.conn(), request.path_params["order_id"])

    # -- operations ----------------------------------------------------------------------
    async def health(self, request: Request) -> tuple[int, Any]:
        conn = self.conn()
        checked_at, probe = self._probe
        if time.monotonic() - checked_at > 1.0:
            probe = await self.payments.probe()
            self._probe = (time.monotonic(), probe)
            breaker = self.payments.breaker
            if probe is not None and breaker.state is BreakerState.HALF_OPEN and breaker.allow():
                breaker.record_success()  # a healthy probe is the half-open trial call
        components = {
            "database": health.database(conn),
            "payments": health.payments(self.payments.breaker.state, probe),
            "worker": health.worker(conn),
            "queue": health.queue(conn),
        }
        report = health.report(components)
        return (503 if report["status"] == health.UNHEALTHY else 200), report


def create_app(settings: ShopSettings) -> Starlette:
    shop = Shop(settings)
    table: list[tuple[str, str, Handler]] = [
        ("GET", "/api/products", shop.list_products),
        ("GET", "/api/products/{product_id}", shop.get_product),
        ("POST", "/api/carts", shop.create_cart),
        ("GET", "/api/carts/{cart_id}", shop.get_cart),
        ("POST", "/api/carts/{cart_id}/items", shop.add_item),
        ("POST", "/api/orders", shop.place_order),
        ("GET", "/api/orders/{order_id}", shop.get_order),
        ("GET", "/health", shop.health),
    ]
    routes = [Route(path, _endpoint(shop, m, path, h), methods=[m]) for m, path, h in table]
    routes.append(Route("/metrics", _metrics_endpoint(shop), methods=["GET"]))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        code = {404: "not_found", 405: "method_not_allowed"}.get(status, "error")
        message = f"{request.method} {request.url.path}: {code.replace('_', ' ')}"
        shop.metrics.requests.labels(request.method, "unmatched", str(status)).inc()
        return JSONResponse(error_body(code, message), status)

    app = Starlette(
        routes=routes,
        lifespan=shop.lifespan,
        exception_handlers={HTTPException: http_error, Exception: http_error},
    )
    app.state.shop = shop
    return app


def _endpoint(shop: Shop, method: str, path: str, handler: Handler) -> Callable[..., Any]:
    """Wrap a handler: the experiment delay, JSON errors, and per-route metrics."""
    latency = shop.metrics.latency.labels(method, path)
    counters: dict[int, Any] = {}
    delay = shop.settings.delay_for(method, path)

    async def run(request: Request) -> Response:
        start = time.perf_counter()
        if delay:
            await asyncio.sleep(delay)
        try:
            status, body = await handler(request)
        except StoreError as exc:
            status, body = exc.status, error_body(exc.code, exc.message)
        response = JSONResponse(body, status)
        counter = counters.get(status)
        if counter is None:
            counter = counters[status] = shop.metrics.requests.labels(method, path, str(status))
        counter.inc()
        latency.observe(time.perf_counter() - start)
        return response

    return run


def _metrics_endpoint(shop: Shop) -> Callable[..., Any]:
    async def metrics(request: Request) -> Response:
        return Response(generate_latest(shop.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return metrics
