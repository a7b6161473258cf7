"""End to end: the example suite's flows against the real Contoso Shoes system."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contval.flows import compile_program
from contval.http import Client, now
from contval.metrics import Histogram
from contval.spec import load_suite
from tests.contoso_shoes.conftest import System, start_system, stop_system
from tests.flows.conftest import counts, harness, options

SUITE = Path(__file__).parents[2] / "examples" / "contoso-shoes" / "suite.yaml"


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    system = start_system(tmp_path_factory.mktemp("shop"))
    yield system
    stop_system(system)


@pytest.mark.anyio
async def test_example_flows_against_the_shop(shop: System) -> None:
    suite = load_suite(SUITE)
    suite = suite.model_copy(update={"targets": {"shop": shop.url}})
    async with Client(options()) as client:
        h = harness(compile_program(suite, seed=11), client)
        for flow, times in (("browse", 3), ("checkout", 2), ("order-fulfilment", 2)):
            for _ in range(times):
                assert await h.runner.run(flow, now()), flow
    for flow, step, n, checks in [
        ("browse", "list products", 3, (6, 0)),
        ("browse", "product details", 3, (3, 0)),
        ("checkout", "create cart", 2, (2, 0)),
        ("checkout", "add item", 2, (2, 0)),
        ("checkout", "place order", 2, (2, 0)),
        ("order-fulfilment", "create cart", 2, (2, 0)),
        ("order-fulfilment", "place order", 2, (2, 0)),
    ]:
        assert counts(h.slot(flow, step)) == {"requests": n, "errors": {}, "checks": checks}
    assert [h.slot(f).iterations for f in ("browse", "checkout", "order-fulfilment")] == [3, 2, 2]
    fulfilled = h.slot("order-fulfilment", "fulfilled")
    assert sum(fulfilled.errors) == 0 and fulfilled.requests >= 2
    assert (fulfilled.checks_passed, fulfilled.checks_failed) == (2, 0)
    snapshot = fulfilled.take()
    assert snapshot is not None
    assert Histogram.decode(snapshot.duration or "").count == 2  # each poll saw `fulfilled`
