"""The user flows (browse, checkout) and the system flow (order fulfilment), end to end."""

from __future__ import annotations

from tests.contoso_shoes.conftest import System, wait_for


def test_catalog_lists_pages_and_searches(shop: System) -> None:
    status, page = shop.get("/api/products?limit=20")
    assert status == 200
    assert page["total"] == 500 and page["limit"] == 20 and page["offset"] == 0
    assert [p["id"] for p in page["items"]] == list(range(1, 21))
    status, page2 = shop.get("/api/products?limit=5&offset=495")
    assert [p["id"] for p in page2["items"]] == [496, 497, 498, 499, 500]
    status, found = shop.get("/api/products?q=Runner&limit=100")
    assert status == 200 and found["total"] > 0
    assert all("Runner" in p["name"] for p in found["items"])
    status, none = shop.get("/api/products?q=zzz-no-such-shoe")
    assert (status, none["total"], none["items"]) == (200, 0, [])


def test_catalog_is_deterministic(shop: System) -> None:
    from contoso_shoes.db import catalog

    status, product = shop.get("/api/products/7")
    expected = catalog()[6]
    assert status == 200
    pid, sku, name, _, price, _ = expected
    assert (product["id"], product["sku"], product["name"], product["price_cents"]) == (
        pid,
        sku,
        name,
        price,
    )


def test_checkout_then_order_is_fulfilled(shop: System) -> None:
    status, cart = shop.call("POST", "/api/carts")
    assert status == 201 and cart["items"] == []
    status, cart = shop.call(
        "POST", f"/api/carts/{cart['id']}/items", {"product_id": 7, "quantity": 2}
    )
    assert status == 201
    assert cart["items"][0]["product_id"] == 7 and cart["items"][0]["quantity"] == 2
    price = cart["items"][0]["price_cents"]
    assert cart["total_cents"] == 2 * price
    status, order = shop.call("POST", "/api/orders", {"cart_id": cart["id"], "email": "a@b.test"})
    assert status == 202
    assert order["status"] == "placed" and order["payment"] == "authorized"
    assert order["total_cents"] == 2 * price
    done = wait_for(
        lambda: (o := shop.get(f"/api/orders/{order['id']}")[1])["status"] == "fulfilled" and o,
        10,
        "the order to be fulfilled",
    )
    assert done["payment"] == "captured"
    assert done["created_at"] <= done["paid_at"] <= done["fulfilled_at"]
    status, closed = shop.get(f"/api/carts/{cart['id']}")
    assert closed["status"] == "checked_out"


def test_checkout_reserves_stock(shop: System) -> None:
    _, before = shop.get("/api/products/42")
    status, _ = shop.checkout(product_id=42, quantity=3)
    assert status == 202
    _, after = shop.get("/api/products/42")
    assert after["stock"] == before["stock"] - 3


def test_declined_payment_cancels_and_restores_stock(shop: System) -> None:
    _, before = shop.get("/api/products/43")
    status, body = shop.checkout(product_id=43, quantity=2, email="someone@decline.test")
    assert status == 402
    assert body["error"]["code"] == "payment_declined"
    assert body["order"]["status"] == "cancelled" and body["order"]["payment"] == "declined"
    _, after = shop.get("/api/products/43")
    assert after["stock"] == before["stock"]


def test_health_reports_every_component(shop: System) -> None:
    status, health = shop.get("/health")
    assert status == 200 and health["status"] == "healthy"
    assert set(health["components"]) == {"database", "payments", "worker", "queue"}
    assert health["components"]["payments"]["breaker"] == "closed"
    assert health["components"]["worker"]["pid"] == shop.pid("worker")
    assert health["components"]["queue"]["depth"] >= 0


def test_metrics_in_prometheus_text(shop: System) -> None:
    shop.get("/api/products?limit=3")
    text = shop.metrics()
    lines = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    key = 'shop_http_requests_total{method="GET",route="/api/products",status="200"}'
    assert float(lines[key]) >= 1
    assert (
        'shop_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/products"}'
        in lines
    )
    for gauge in (
        "shop_queue_depth",
        "shop_worker_lag_seconds",
        "shop_payments_breaker_state",
        "shop_worker_heartbeat_age_seconds",
    ):
        assert gauge in lines, gauge
    assert float(lines["shop_payments_breaker_state"]) == 0.0
