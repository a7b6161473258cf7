"""The fingerprint keeps unlike runs apart and lets like runs meet across hosts."""

from __future__ import annotations

from contval.baseline.fingerprint import canonical, fingerprint, flows_run
from contval.spec import load_suite_text
from contval.spec.models import Suite

SUITE = """
version: 1
name: shop
description: the shop
targets: {shop: "http://127.0.0.1:8000"}
chaos_targets:
  payments-link: {proxy: {listen: 127.0.0.1:9101, upstream: 127.0.0.1:9100}}
faults:
  payments-slow: {type: latency, target: payments-link, delay: 400ms}
flows:
  login: {target: shop, steps: [{name: login, request: POST /login}]}
  browse:
    description: look around
    target: shop
    steps: [{include: login}, {name: home, request: GET /}]
  checkout: {target: shop, steps: [{name: buy, request: POST /buy}]}
  unused: {target: shop, steps: [{name: x, request: GET /x}]}
workloads:
  steady:
    executor: constant-arrival-rate
    rate: 10/s
    duration: 1m
    mix: {browse: 70, checkout: 30}
scenarios:
  normal:
    workload: steady
    thresholds: ["error_rate < 1%"]
  slow:
    workload: steady
    chaos: [{fault: payments-slow, at: 20s, for: 30s}]
"""


def load(text: str = SUITE, path: str = "/suites/suite.yaml") -> Suite:
    return load_suite_text(text, path)


def changed(old: str, new: str) -> Suite:
    assert old in SUITE, old
    return load(SUITE.replace(old, new, 1))


def test_stable_and_short() -> None:
    first = fingerprint(load(), "normal")
    assert first == fingerprint(load(), "normal")
    assert len(first) == 16 and int(first, 16) >= 0


def test_flows_include_transitively_and_skip_unused() -> None:
    assert flows_run(load(), "normal") == ["browse", "checkout", "login"]
    assert "unused" not in canonical(load(), "normal")["flows"]


def test_same_suite_against_another_host_compares() -> None:
    base = fingerprint(load(), "slow")
    elsewhere = SUITE.replace("http://127.0.0.1:8000", "https://staging.example.com").replace(
        "127.0.0.1:9100", "127.0.0.2:9200"
    )
    assert fingerprint(load(elsewhere, "/other/dir/suite.yaml"), "slow") == base


def test_descriptions_thresholds_and_unused_flows_are_out() -> None:
    base = fingerprint(load(), "normal")
    assert fingerprint(changed("look around", "wander"), "normal") == base
    assert fingerprint(changed("description: the shop", "description: x"), "normal") == base
    assert fingerprint(changed('"error_rate < 1%"', '"error_rate < 2%"'), "normal") == base
    assert fingerprint(changed("GET /x", "GET /y"), "normal") == base


def test_explicit_default_equals_omitted() -> None:
    explicit = changed("mix: {browse", "max_vus: 1000\n    mix: {browse")
    assert fingerprint(explicit, "normal") == fingerprint(load(), "normal")


def test_workload_flows_and_faults_change_it() -> None:
    base = {name: fingerprint(load(), name) for name in ("normal", "slow")}
    assert base["normal"] != base["slow"]
    for old, new in [
        ("rate: 10/s", "rate: 11/s"),
        ("duration: 1m", "duration: 2m"),
        ("browse: 70", "browse: 60"),
        ("GET /}", "GET /home}"),
        ("POST /login", "POST /signin"),  # an included flow
    ]:
        assert fingerprint(changed(old, new), "normal") != base["normal"], old
    for old, new in [
        ("delay: 400ms", "delay: 500ms"),
        ("at: 20s", "at: 25s"),
        ("for: 30s", "for: 20s"),
        (
            "type: latency, target: payments-link, delay: 400ms",
            "type: reset, target: payments-link",
        ),
    ]:
        assert fingerprint(changed(old, new), "slow") != base["slow"], old
