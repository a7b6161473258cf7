"""The shop's SQLite database: schema, connections in WAL mode, and the deterministic catalog.

Stock can never go negative: the column has a CHECK constraint and every reservation is a
conditional UPDATE inside a write transaction, so concurrent checkouts cannot oversell.
"""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

CATALOG_SIZE = 500
CORE_RANGE = 20  # products 1..20 are the core range: stocked deep enough for long load tests
CORE_STOCK = 10_000_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    price_cents INTEGER NOT NULL,
    stock INTEGER NOT NULL CHECK (stock >= 0)
);
CREATE INDEX IF NOT EXISTS products_name ON products(name);
CREATE TABLE IF NOT EXISTS carts (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL DEFAULT 'open',
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cart_items (
    cart_id TEXT NOT NULL REFERENCES carts(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (cart_id, product_id)
);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    cart_id TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    status TEXT NOT NULL,
    payment TEXT NOT NULL,
    authorization_id TEXT,
    created_at REAL NOT NULL,
    paid_at REAL,
    fulfilled_at REAL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS order_items (
    order_id TEXT NOT NULL REFERENCES orders(id),
    product_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    price_cents INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    order_id TEXT PRIMARY KEY REFERENCES orders(id),
    available_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    locked_by INTEGER,
    locked_until REAL NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_available ON jobs(available_at);
CREATE TABLE IF NOT EXISTS heartbeats (
    name TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    at REAL NOT NULL,
    processed INTEGER NOT NULL DEFAULT 0
);
"""

_ADJECTIVES = [
    "Swift",
    "Trail",
    "Urban",
    "Cloud",
    "Storm",
    "Alpine",
    "Harbor",
    "Summit",
    "Metro",
    "Dune",
]
_MODELS = [
    "Runner",
    "Walker",
    "Strider",
    "Glide",
    "Peak",
    "Drift",
    "Pulse",
    "Vista",
    "Echo",
    "Nova",
]
_CATEGORIES = ["running", "hiking", "casual", "formal", "kids"]


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection in autocommit mode; transactions are opened explicitly with BEGIN."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def catalog(seed: int = 42) -> list[tuple[int, str, str, str, int, int]]:
    """The deterministic catalog: the same products, prices and stock for a given seed."""
    rng = random.Random(seed)
    rows = []
    for pid in range(1, CATALOG_SIZE + 1):
        name = f"{rng.choice(_ADJECTIVES)} {rng.choice(_MODELS)} {pid}"
        category = _CATEGORIES[pid % len(_CATEGORIES)]
        price = rng.randrange(3_000, 25_000, 100)
        stock = CORE_STOCK if pid <= CORE_RANGE else rng.randrange(10, 500)
        rows.append((pid, f"CS-{pid:05d}", name, category, price, stock))
    return rows


def init_db(path: str | Path, seed: int = 42) -> None:
    """Create the schema and seed the catalog once; an existing database keeps its data."""
    conn = connect(path)
    try:
        conn.executescript(SCHEMA)
        (count,) = conn.execute("SELECT COUNT(*) FROM products").fetchone()
        if count == 0:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?)", catalog(seed))
            conn.execute("COMMIT")
    finally:
        conn.close()


def now() -> float:
    return time.time()
