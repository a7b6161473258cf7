"""The example suite from the issue (the public contract) loads, with every construct parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from contval.spec import (
    ConstantArrivalRate,
    IncludeStep,
    PollStep,
    RampingArrivalRate,
    RequestStep,
    Suite,
    ThinkStep,
    load_suite,
    summarize,
)

EXAMPLE = Path(__file__).parents[2] / "examples" / "contoso-shoes" / "suite.yaml"


@pytest.fixture(scope="module")
def suite() -> Suite:
    return load_suite(EXAMPLE)


def test_header_targets_variables_and_data(suite: Suite) -> None:
    assert (suite.version, suite.name) == (1, "contoso-shoes")
    assert suite.targets == {"shop": "http://127.0.0.1:8000"}
    assert suite.variables == {"page_size": 20}
    feeder = suite.data["customers"]
    assert feeder.order == "sequential"
    assert feeder.csv == EXAMPLE.parent.absolute() / "customers.csv"
    assert feeder.csv.is_file()


def test_constant_arrival_rate_workload(suite: Suite) -> None:
    steady = suite.workloads["steady"]
    assert isinstance(steady, ConstantArrivalRate)
    assert (steady.rate, steady.duration, steady.max_vus) == (50.0, 60.0, 500)
    assert steady.mix == {"browse": 70, "checkout": 25, "order-fulfilment": 5}


def test_ramping_arrival_rate_stages(suite: Suite) -> None:
    ramp = suite.workloads["ramp"]
    assert isinstance(ramp, RampingArrivalRate)
    assert [(s.to, s.over) for s in ramp.stages] == [(80.0, 30.0), (80.0, 60.0), (0.0, 10.0)]
    assert ramp.mix == {"browse": 80, "checkout": 20}


def test_browse_steps(suite: Suite) -> None:
    browse = suite.flows["browse"]
    assert (browse.kind, browse.target) == ("user", "shop")
    listing, think, details = browse.steps
    assert isinstance(listing, RequestStep)
    assert listing.name == "list products"
    assert (listing.request.method, listing.request.target) == (
        "GET",
        "/api/products?limit={{ vars.page_size }}",
    )
    assert listing.check is not None
    assert listing.check.status == (200,)
    assert listing.check.json_paths["$.items"].min_length == 1
    assert listing.extract["product_id"].json_path == "$.items[*].id"
    assert listing.extract["product_id"].pick == "random"
    assert isinstance(think, ThinkStep)
    assert (think.think.low, think.think.high, think.think.text) == (0.5, 2.0, "500ms..2s")
    assert isinstance(details, RequestStep)
    assert details.request.target == "/api/products/{{ product_id }}"


def test_checkout_bodies_and_status_lists(suite: Suite) -> None:
    create, add, place = suite.flows["checkout"].steps
    assert isinstance(create, RequestStep) and isinstance(add, RequestStep)
    assert isinstance(place, RequestStep)
    assert create.extract["cart_id"].pick == "first"
    assert add.json_body == {"product_id": 7, "quantity": 1}
    assert add.check is not None and add.check.status == (200, 201)
    assert place.json_body == {"cart_id": "{{ cart_id }}", "email": "{{ data.customers.email }}"}
    assert place.check is not None and place.check.status == (202,)


def test_system_flow_include_and_poll(suite: Suite) -> None:
    flow = suite.flows["order-fulfilment"]
    include, fulfilled = flow.steps
    assert flow.kind == "system"
    assert isinstance(include, IncludeStep) and include.include == "checkout"
    assert isinstance(fulfilled, PollStep)
    poll = fulfilled.poll
    assert poll.request.text == "GET /api/orders/{{ order_id }}"
    assert poll.until.json_paths["$.status"].equals == "fulfilled"
    assert (poll.every, poll.poll_timeout) == (0.25, 30.0)


def test_thresholds_are_kept_as_written(suite: Suite) -> None:
    normal = suite.scenarios["normal"]
    assert normal.workload == "steady"
    assert normal.thresholds[0] == "error_rate < 1%"
    assert normal.thresholds[1] == "browse/list products: p95(latency) < 200ms warn 50ms"
    assert normal.thresholds[-1] == "error_rate < 20% over 5s, abort"
    assert len(normal.thresholds) == 9


def test_the_pipeline_runs_normal_first_and_asks_the_shop_its_health(suite: Suite) -> None:
    assert suite.run_order() == (
        "normal",
        "payments-slow",
        "payments-down",
        "worker-crash",
        "cpu-pressure",
    )
    assert suite.pipeline.stop_on_failure is True
    assert suite.pipeline.cooldown == 5.0
    probe = suite.pipeline.health
    assert probe is not None and (probe.target, probe.path, probe.status) == (
        "shop",
        "/health",
        200,
    )


def test_models_are_frozen(suite: Suite) -> None:
    with pytest.raises(ValueError, match="frozen"):
        setattr(suite, "name", "other")  # noqa: B010


def test_summary_names_every_section(suite: Suite) -> None:
    lines = summarize(suite)
    assert lines[0] == "suite `contoso-shoes` is valid"
    assert "order-fulfilment (system, 2 steps)" in lines[2]
    assert "steady (constant-arrival-rate)" in lines[3]
    assert "normal (steady, 9 thresholds)" in lines[4]
