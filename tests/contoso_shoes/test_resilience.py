"""The system under stress: concurrent checkouts, a killed worker, Payments going away."""

from __future__ import annotations

import os
import signal
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.contoso_shoes.conftest import System, wait_for


def set_stock(system: System, product_id: int, stock: int) -> None:
    conn = sqlite3.connect(system.state["db"], timeout=10)
    with conn:
        conn.execute("UPDATE products SET stock = ? WHERE id = ?", (stock, product_id))
    conn.close()


def fulfilled(system: System, order_ids: list[str]) -> bool:
    return all(system.get(f"/api/orders/{oid}")[1]["status"] == "fulfilled" for oid in order_ids)


def test_concurrent_checkouts_never_oversell(make_system: Any) -> None:
    system: System = make_system()
    set_stock(system, 300, 5)
    carts = []
    for quantity in [1] * 12 + [2] * 12:  # 36 units wanted, 5 in stock
        _, cart = system.call("POST", "/api/carts")
        status, _ = system.call(
            "POST", f"/api/carts/{cart['id']}/items", {"product_id": 300, "quantity": quantity}
        )
        assert status == 201
        carts.append((cart["id"], quantity))

    def place(cart: tuple[str, int]) -> tuple[int, int, Any]:
        status, body = system.call("POST", "/api/orders", {"cart_id": cart[0], "email": "x@y.z"})
        return status, cart[1], body

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(place, carts))
    sold = sum(quantity for status, quantity, _ in results if status == 202)
    refused = [body for status, _, body in results if status == 409]
    assert {status for status, _, _ in results} <= {202, 409}
    assert 4 <= sold <= 5  # at most the stock; at least 4 (only a 2-unit order can strand 1 unit)
    assert all(body["error"]["code"] == "out_of_stock" for body in refused)
    _, product = system.get("/api/products/300")
    assert product["stock"] == 5 - sold >= 0


def test_killed_worker_is_restarted_and_queued_orders_are_fulfilled(make_system: Any) -> None:
    system: System = make_system("--restart-delay", "1s", "--fulfil-time", "600ms")
    first = [system.checkout()[1]["id"] for _ in range(4)]
    conn = sqlite3.connect(system.state["db"], timeout=10)
    worker = system.pid("worker")
    wait_for(
        lambda: (
            conn.execute("SELECT COUNT(*) FROM jobs WHERE locked_by = ?", (worker,)).fetchone()[0]
            > 0
        ),
        10,
        "the worker to claim orders",
    )
    os.kill(worker, signal.SIGKILL)
    wait_for(lambda: system.state["worker"]["pid"] is None, 5, "the supervisor to see the death")
    second = [system.checkout()[1]["id"] for _ in range(4)]  # queued while no worker runs
    restarted = wait_for(lambda: system.state["worker"]["pid"], 10, "the worker restart")
    assert restarted != worker
    assert system.state["worker"]["restarts"] == 1
    assert system.state["worker"]["last_exit"] == -signal.SIGKILL
    wait_for(lambda: fulfilled(system, first + second), 20, "every order to be fulfilled")
    assert conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 0
    conn.close()


def test_payments_outage_opens_breaker_accepts_orders_and_recovers(make_system: Any) -> None:
    env = {"PAYMENTS_TIMEOUT": "200ms", "PAYMENTS_BREAKER_RESET": "1s"}
    system: System = make_system("--restart-delay", "60s", env=env)
    payments = system.pid("payments")
    os.kill(payments, signal.SIGSTOP)  # Payments stops answering: every call times out
    try:
        orders = [system.checkout() for _ in range(3)]
        assert [status for status, _ in orders] == [202, 202, 202]
        assert {o["payment"] for _, o in orders} == {"pending"}
        wait_for(
            lambda: "shop_payments_breaker_state 2.0" in system.metrics(), 10, "the breaker to open"
        )
        status, health = system.get("/health")
        assert status == 503 and health["components"]["payments"]["status"] == "unhealthy"
        assert health["components"]["payments"]["breaker"] in ("open", "half_open")
        # with the breaker open, checkout stays fast and still never loses the order
        status, order = system.checkout()
        assert status == 202 and order["payment"] == "pending"
        orders.append((status, order))
    finally:
        os.kill(payments, signal.SIGCONT)
    ids = [o["id"] for _, o in orders]
    wait_for(lambda: fulfilled(system, ids), 30, "pending orders to be fulfilled after recovery")
    wait_for(lambda: system.get("/health")[1]["status"] == "healthy", 15, "health to recover")
    status, order = system.checkout()
    assert status == 202 and order["payment"] == "authorized"
    assert "shop_payments_breaker_state 0.0" in system.metrics()


def test_killed_payments_is_restarted_and_orders_complete(make_system: Any) -> None:
    system: System = make_system("--restart-delay", "1s", env={"PAYMENTS_TIMEOUT": "200ms"})
    payments = system.pid("payments")
    os.kill(payments, signal.SIGKILL)
    wait_for(lambda: system.state["payments"]["pid"] is None, 5, "the supervisor to see the death")
    status, order = system.checkout()  # connection refused → accepted as payment-pending
    assert status == 202 and order["payment"] == "pending"
    wait_for(lambda: system.state["payments"]["pid"], 10, "payments to be restarted")
    wait_for(lambda: fulfilled(system, [order["id"]]), 30, "the pending order to be fulfilled")


def test_paused_worker_shows_in_health_and_recovers(make_system: Any) -> None:
    system: System = make_system()
    worker = system.pid("worker")
    os.kill(worker, signal.SIGSTOP)
    try:
        _, order = system.checkout()
        health = wait_for(
            lambda: (
                (h := system.get("/health")[1])["components"]["worker"]["status"] != "healthy" and h
            ),
            10,
            "the stale heartbeat to show",
        )
        # past the 2 s bound (the status says so), reported to the millisecond: 2.0004 s is 2.0
        assert health["components"]["worker"]["heartbeat_age_s"] >= 2.0
        assert health["status"] in ("degraded", "unhealthy")
    finally:
        os.kill(worker, signal.SIGCONT)
    wait_for(lambda: fulfilled(system, [order["id"]]), 10, "the order after the worker resumes")
    wait_for(lambda: system.get("/health")[1]["status"] == "healthy", 10, "health to recover")
