"""The shop's data operations on one SQLite connection, shared by the shop and the worker.

Each write is one short transaction; nothing holds a transaction across a network call.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

MAX_QUANTITY = 100
SAFETY_NET_DELAY = 10.0  # a placed order whose shop died mid-checkout is picked up after this


class StoreError(Exception):
    """A request the data cannot satisfy; carries the HTTP status and a machine-readable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PlacedOrder:
    id: str
    email: str
    total_cents: int


def product_row(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "sku": row["sku"],
        "name": row["name"],
        "category": row["category"],
        "price_cents": row["price_cents"],
        "stock": row["stock"],
    }


def list_products(
    conn: sqlite3.Connection, limit: int, offset: int, q: str | None
) -> dict[str, Any]:
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where, args = " WHERE name LIKE ? ESCAPE '\\'", [pattern]
    else:
        where, args = "", []
    (total,) = conn.execute("SELECT COUNT(*) FROM products" + where, args).fetchone()
    rows = conn.execute(
        "SELECT * FROM products" + where + " ORDER BY id LIMIT ? OFFSET ?", [*args, limit, offset]
    ).fetchall()
    items = [product_row(r) for r in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def get_product(conn: sqlite3.Connection, product_id: int) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM products WHERE id = ?", (product_id,)).fetchone()
    if row is None:
        raise StoreError(404, "unknown_product", f"product {product_id} does not exist")
    return product_row(row)


def create_cart(conn: sqlite3.Connection) -> dict[str, Any]:
    cart_id = secrets.token_hex(8)
    conn.execute("INSERT INTO carts (id, created_at) VALUES (?, ?)", (cart_id, time.time()))
    return {"id": cart_id, "status": "open", "items": [], "total_cents": 0}


def get_cart(conn: sqlite3.Connection, cart_id: str) -> dict[str, Any]:
    cart = conn.execute("SELECT status FROM carts WHERE id = ?", (cart_id,)).fetchone()
    if cart is None:
        raise StoreError(404, "unknown_cart", f"cart {cart_id!r} does not exist")
    rows = conn.execute(
        "SELECT p.id, p.name, p.price_cents, c.quantity FROM cart_items c "
        "JOIN products p ON p.id = c.product_id WHERE c.cart_id = ? ORDER BY p.id",
        (cart_id,),
    ).fetchall()
    items = [
        {"product_id": r[0], "name": r[1], "price_cents": r[2], "quantity": r[3]} for r in rows
    ]
    total = sum(i["price_cents"] * i["quantity"] for i in items)
    return {"id": cart_id, "status": cart["status"], "items": items, "total_cents": total}


def add_item(conn: sqlite3.Connection, cart_id: str, product_id: int, quantity: int) -> None:
    cart = conn.execute("SELECT status FROM carts WHERE id = ?", (cart_id,)).fetchone()
    if cart is None:
        raise StoreError(404, "unknown_cart", f"cart {cart_id!r} does not exist")
    if cart["status"] != "open":
        raise StoreError(409, "cart_closed", f"cart {cart_id!r} is already checked out")
    product = get_product(conn, product_id)
    row = conn.execute(
        "SELECT quantity FROM cart_items WHERE cart_id = ? AND product_id = ?",
        (cart_id, product_id),
    ).fetchone()
    new_quantity = quantity + (row[0] if row else 0)
    if new_quantity > MAX_QUANTITY:
        raise StoreError(
            422, "invalid_quantity", f"at most {MAX_QUANTITY} of one product fit in a cart"
        )
    if new_quantity > product["stock"]:
        raise StoreError(
            409, "out_of_stock", f"only {product['stock']} of product {product_id} left"
        )
    conn.execute(
        "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES (?, ?, ?) "
        "ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = excluded.quantity",
        (cart_id, product_id, new_quantity),
    )


def place_order(conn: sqlite3.Connection, cart_id: str, email: str) -> PlacedOrder:
    """Reserve stock for every item and record the order, atomically, or change nothing."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        order = _place_order_tx(conn, cart_id, email)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return order


def _place_order_tx(conn: sqlite3.Connection, cart_id: str, email: str) -> PlacedOrder:
    cart = conn.execute("SELECT status FROM carts WHERE id = ?", (cart_id,)).fetchone()
    if cart is None:
        raise StoreError(404, "unknown_cart", f"cart {cart_id!r} does not exist")
    if cart["status"] != "open":
        raise StoreError(409, "cart_closed", f"cart {cart_id!r} is already checked out")
    items = conn.execute(
        "SELECT c.product_id, c.quantity, p.price_cents FROM cart_items c "
        "JOIN products p ON p.id = c.product_id WHERE c.cart_id = ?",
        (cart_id,),
    ).fetchall()
    if not items:
        raise StoreError(422, "empty_cart", f"cart {cart_id!r} is empty")
    for product_id, quantity, _ in items:
        cur = conn.execute(
            "UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?",
            (quantity, product_id, quantity),
        )
        if cur.rowcount != 1:
            raise StoreError(409, "out_of_stock", f"not enough stock of product {product_id}")
    order_id = secrets.token_hex(8)
    total = sum(q * p for _, q, p in items)
    now = time.time()
    conn.execute(
        "INSERT INTO orders (id, cart_id, email, total_cents, status, payment, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, 'placed', 'pending', ?, ?)",
        (order_id, cart_id, email, total, now, now),
    )
    conn.executemany(
        "INSERT INTO order_items VALUES (?, ?, ?, ?)",
        [(order_id, pid, q, p) for pid, q, p in items],
    )
    conn.execute("UPDATE carts SET status = 'checked_out' WHERE id = ?", (cart_id,))
    conn.execute(
        "INSERT INTO jobs (order_id, available_at) VALUES (?, ?)",
        (order_id, now + SAFETY_NET_DELAY),
    )
    return PlacedOrder(order_id, email, total)


def set_authorized(conn: sqlite3.Connection, order_id: str, authorization_id: str) -> None:
    conn.execute(
        "UPDATE orders SET payment = 'authorized', authorization_id = ?, updated_at = ? "
        "WHERE id = ? AND payment = 'pending'",
        (authorization_id, time.time(), order_id),
    )


def release_job(conn: sqlite3.Connection, order_id: str, delay: float = 0.0) -> None:
    """Make the order's job available to the worker now (or after `delay`)."""
    conn.execute(
        "UPDATE jobs SET available_at = ? WHERE order_id = ?", (time.time() + delay, order_id)
    )


def cancel_order(conn: sqlite3.Connection, order_id: str, reason: str) -> None:
    """Cancel a declined order and put its stock back, in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        cur = conn.execute(
            "UPDATE orders SET status = 'cancelled', payment = ?, updated_at = ? "
            "WHERE id = ? AND status = 'placed'",
            (reason, time.time(), order_id),
        )
        if cur.rowcount == 1:
            conn.execute(
                "UPDATE products SET stock = stock + (SELECT SUM(quantity) FROM order_items "
                "WHERE order_id = ? AND product_id = products.id) "
                "WHERE id IN (SELECT product_id FROM order_items WHERE order_id = ?)",
                (order_id, order_id),
            )
        conn.execute("DELETE FROM jobs WHERE order_id = ?", (order_id,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def get_order(conn: sqlite3.Connection, order_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
    if row is None:
        raise StoreError(404, "unknown_order", f"order {order_id!r} does not exist")
    items = conn.execute(
        "SELECT product_id, quantity, price_cents FROM order_items WHERE order_id = ?", (order_id,)
    ).fetchall()
    return {
        "id": row["id"],
        "status": row["status"],
        "payment": row["payment"],
        "email": row["email"],
        "total_cents": row["total_cents"],
        "items": [{"product_id": i[0], "quantity": i[1], "price_cents": i[2]} for i in items],
        "created_at": row["created_at"],
        "paid_at": row["paid_at"],
        "fulfilled_at": row["fulfilled_at"],
    }


def queue_stats(conn: sqlite3.Connection) -> tuple[int, float]:
    """(orders waiting for the worker, age in seconds of the oldest one)."""
    depth, oldest = conn.execute(
        "SELECT COUNT(*), MIN(o.created_at) FROM jobs j JOIN orders o ON o.id = j.order_id"
    ).fetchone()
    return depth, (time.time() - oldest) if oldest is not None else 0.0


def heartbeat(conn: sqlite3.Connection, name: str) -> tuple[int, float, int] | None:
    row = conn.execute(
        "SELECT pid, at, processed FROM heartbeats WHERE name = ?", (name,)
    ).fetchone()
    return (row[0], time.time() - row[1], row[2]) if row else None
