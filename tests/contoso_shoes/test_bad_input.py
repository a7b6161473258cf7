"""Bad input gets a 4xx with a JSON error body: never a 500, never a crash."""

from __future__ import annotations

import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest

from tests.contoso_shoes.conftest import System


@pytest.fixture(scope="module")
def cart_id(shop: System) -> str:
    status, cart = shop.call("POST", "/api/carts")
    assert status == 201
    return str(cart["id"])


def expect_error(result: tuple[int, object], status: int, code: str) -> None:
    got_status, body = result
    assert got_status == status, body
    assert isinstance(body, dict) and body["error"]["code"] == code, body
    assert body["error"]["message"]


def test_malformed_json(shop: System, cart_id: str) -> None:
    expect_error(
        shop.call("POST", f"/api/carts/{cart_id}/items", raw=b"{not json"), 400, "malformed_json"
    )
    expect_error(shop.call("POST", "/api/orders", raw=b"[1, 2]"), 400, "malformed_json")
    expect_error(shop.call("POST", "/api/orders", raw=b"\xff\xfe"), 400, "malformed_json")
    expect_error(shop.call("POST", "/api/orders", raw=b""), 400, "malformed_json")


def test_unknown_product(shop: System, cart_id: str) -> None:
    expect_error(shop.get("/api/products/999999"), 404, "unknown_product")
    expect_error(shop.get("/api/products/abc"), 404, "not_found")
    expect_error(shop.get("/api/products/" + "9" * 40), 404, "not_found")
    expect_error(
        shop.call("POST", f"/api/carts/{cart_id}/items", {"product_id": 999999, "quantity": 1}),
        404,
        "unknown_product",
    )


@pytest.mark.parametrize("quantity", [0, -1, 101, 10**12, 1.5, "2", None, True])
def test_bad_quantity(shop: System, cart_id: str, quantity: object) -> None:
    expect_error(
        shop.call("POST", f"/api/carts/{cart_id}/items", {"product_id": 1, "quantity": quantity}),
        422,
        "invalid_quantity",
    )


def test_quantity_beyond_stock(shop: System, cart_id: str) -> None:
    from contoso_shoes.db import catalog

    pid, stock = next((row[0], row[5]) for row in catalog() if row[5] < 90)
    result = shop.call(
        "POST", f"/api/carts/{cart_id}/items", {"product_id": pid, "quantity": stock + 1}
    )
    expect_error(result, 409, "out_of_stock")
    assert f"only {stock} " in result[1]["error"]["message"]


def _raw_exchange(shop: System, head: bytes, body_part: bytes) -> tuple[int, dict[str, object]]:
    """Send a request head and only part of its body; read the answer the shop gives anyway."""
    url = urlsplit(shop.url)
    with socket.create_connection((url.hostname or "", url.port or 80), timeout=10) as sock:
        sock.sendall(head + body_part)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, json.loads(response.read())


def test_body_over_one_megabyte(shop: System, cart_id: str) -> None:
    size = 1024 * 1024 + 1
    head = (
        f"POST /api/carts/{cart_id}/items HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    ).encode()
    status, body = _raw_exchange(shop, head, b"{" + b" " * 1000)
    assert status == 413 and body["error"] == {
        "code": "body_too_large",
        "message": "request bodies are limited to 1048576 bytes",
    }
    # chunked, no Content-Length: the limit holds while the body streams in
    head = b"POST /api/orders HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    status, body = _raw_exchange(shop, head, chunk * 17)
    assert status == 413 and body["error"]["code"] == "body_too_large"  # type: ignore[index]


def test_unknown_routes_and_methods(shop: System) -> None:
    expect_error(shop.get("/nope"), 404, "not_found")
    expect_error(shop.get("/api/carts"), 405, "method_not_allowed")
    expect_error(shop.call("DELETE", "/api/products"), 405, "method_not_allowed")


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "offset=-1", "offset=1e3"])
def test_bad_paging(shop: System, query: str) -> None:
    status, body = shop.get(f"/api/products?{query}")
    assert status == 400 and body["error"]["code"].startswith("invalid_")


def test_checkout_errors(shop: System) -> None:
    expect_error(
        shop.call("POST", "/api/orders", {"cart_id": "nope", "email": "a@b.c"}), 404, "unknown_cart"
    )
    expect_error(shop.call("POST", "/api/orders", {"email": "a@b.c"}), 422, "invalid_cart_id")
    _, empty = shop.call("POST", "/api/carts")
    expect_error(
        shop.call("POST", "/api/orders", {"cart_id": empty["id"], "email": "a@b.c"}),
        422,
        "empty_cart",
    )
    expect_error(
        shop.call("POST", "/api/orders", {"cart_id": empty["id"], "email": "nobody"}),
        422,
        "invalid_email",
    )
    expect_error(shop.get("/api/orders/nope"), 404, "unknown_order")
    expect_error(shop.get("/api/carts/nope"), 404, "unknown_cart")


def test_a_cart_checks_out_once(shop: System) -> None:
    _, cart = shop.call("POST", "/api/carts")
    shop.call("POST", f"/api/carts/{cart['id']}/items", {"product_id": 2, "quantity": 1})
    first = shop.call("POST", "/api/orders", {"cart_id": cart["id"], "email": "a@b.c"})
    assert first[0] == 202
    expect_error(
        shop.call("POST", "/api/orders", {"cart_id": cart["id"], "email": "a@b.c"}),
        409,
        "cart_closed",
    )
    expect_error(
        shop.call("POST", f"/api/carts/{cart['id']}/items", {"product_id": 2, "quantity": 1}),
        409,
        "cart_closed",
    )


def test_no_server_error_after_bad_input(shop: System) -> None:
    """Runs last in this module: nothing above produced a 5xx or hurt the shop's health."""
    text = shop.metrics()
    server_errors = [
        line
        for line in text.splitlines()
        if line.startswith("shop_http_requests_total")
        and 'status="5' in line
        and 'route="/health"' not in line  # 503 while starting up is /health doing its job
    ]
    assert server_errors == []
    status, health = shop.get("/health")
    assert status == 200 and health["status"] == "healthy"
