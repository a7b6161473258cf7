"""A guided walk through the shop: health, browse, cart, checkout, and the order until fulfilled.

`make demo` uses it until contval itself drives the shop; it also shows a newcomer the flows.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any


def call(base: str, method: str, path: str, body: Any = None) -> tuple[int, Any, float]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, payload = response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, json.load(exc)
    return status, payload, (time.perf_counter() - start) * 1000


def tour(base: str, timeout: float = 30.0, out: Any = print) -> bool:
    """Walk the user and system flows once; True when the order was fulfilled in time."""
    status, health, _ = call(base, "GET", "/health")
    out(f"health: {health['status']}")
    for name, comp in health["components"].items():
        details = ", ".join(f"{k}={v}" for k, v in comp.items() if k != "status")
        out(f"  {name:<9} {comp['status']:<9} {details}")
    status, page, ms = call(base, "GET", "/api/products?limit=5")
    out(f"browse:   GET /api/products?limit=5 → {status} in {ms:.1f} ms ({page['total']} products)")
    product = page["items"][0]
    status, _, ms = call(base, "GET", f"/api/products/{product['id']}")
    out(
        f"          GET /api/products/{product['id']} → {status} in {ms:.1f} ms ({product['name']})"
    )
    status, cart, ms = call(base, "POST", "/api/carts")
    out(f"checkout: POST /api/carts → {status} in {ms:.1f} ms (cart {cart['id']})")
    item = {"product_id": product["id"], "quantity": 1}
    status, _, ms = call(base, "POST", f"/api/carts/{cart['id']}/items", item)
    out(f"          POST /api/carts/{cart['id']}/items → {status} in {ms:.1f} ms")
    order_body = {"cart_id": cart["id"], "email": "demo@contoso.test"}
    status, order, ms = call(base, "POST", "/api/orders", order_body)
    out(
        f"          POST /api/orders → {status} in {ms:.1f} ms (order {order['id']}, "
        f"payment {order['payment']})"
    )
    start = time.monotonic()
    seen = order["status"]
    out(f"order:    {seen}")
    while time.monotonic() - start < timeout:
        _, order, _ = call(base, "GET", f"/api/orders/{order['id']}")
        if order["status"] != seen:
            seen = order["status"]
            out(f"          → {seen} after {(time.monotonic() - start) * 1000:.0f} ms")
        if seen in ("fulfilled", "cancelled"):
            break
        time.sleep(0.05)
    return bool(seen == "fulfilled")
