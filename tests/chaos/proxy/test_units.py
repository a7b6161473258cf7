"""Pure parts: toxic validation and the shaping arithmetic."""

from __future__ import annotations

import pytest

from contval.chaos.proxy.link import format_address, parse_address
from contval.chaos.proxy.shaping import shape
from contval.chaos.proxy.toxics import Toxic, ToxicError, parse_toxic


def toxic(kind: str, **params: float) -> Toxic:
    return parse_toxic({"id": kind, "type": kind, "params": params}, now=0.0)


def test_defaults_fill_in() -> None:
    made = parse_toxic({"id": "s", "type": "slicer"}, now=100.0)
    assert made.params == {"size": 64, "delay": 0.01}
    assert (made.direction, made.fraction, made.lease, made.expires_at) == (
        "downstream",
        1.0,
        30.0,
        130.0,
    )


@pytest.mark.parametrize(
    "body",
    [
        {"id": "", "type": "reset"},
        {"id": "a/b", "type": "reset"},
        {"id": "a", "type": ["reset"]},
        {"id": "a", "type": "slicer", "params": {"size": 1.5}},
        {"id": "a", "type": "reset", "lease": 7200},
        {"id": "a", "type": "latency", "params": {"delay": float("nan")}},
    ],
)
def test_invalid_toxics(body: dict[str, object]) -> None:
    with pytest.raises(ToxicError):
        parse_toxic(body, now=0.0)


def test_latency_delays_and_keeps_order() -> None:
    schedule = shape(b"abc", [toxic("latency", delay=0.5)], start=10.0, last_due=0.0)
    assert schedule == [(10.5, b"abc")]
    # An earlier-jittered chunk never overtakes the one before it.
    late = shape(b"d", [toxic("latency", delay=0.5, jitter=0.4)], 10.0, 10.8, lambda a, b: a)
    assert late == [(10.8, b"d")]


def test_jitter_is_bounded_and_never_negative() -> None:
    latency = toxic("latency", delay=0.1, jitter=0.3)
    low = shape(b"x", [latency], 0.0, 0.0, lambda a, b: a)
    high = shape(b"x", [latency], 0.0, 0.0, lambda a, b: b)
    assert low == [(0.0, b"x")]
    assert high[0][0] == pytest.approx(0.4)


def test_slicer_cuts_and_spaces_pieces() -> None:
    schedule = shape(b"x" * 250, [toxic("slicer", size=100, delay=0.01)], 1.0, 0.0)
    assert [len(piece) for _, piece in schedule] == [100, 100, 50]
    assert [due for due, _ in schedule] == pytest.approx([1.0, 1.01, 1.02])


def test_bandwidth_paces_by_rate() -> None:
    schedule = shape(b"x" * 10_000, [toxic("bandwidth", rate=1000)], 0.0, 0.0)
    assert sum(len(piece) for _, piece in schedule) == 10_000
    assert schedule[-1][0] == pytest.approx(10.0)
    dues = [due for due, _ in schedule]
    assert dues == sorted(dues)


def test_addresses_round_trip() -> None:
    assert parse_address("127.0.0.1:9101") == ("127.0.0.1", 9101)
    assert parse_address("[::1]:80") == ("::1", 80)
    assert format_address(("::1", 80)) == "[::1]:80"
    with pytest.raises(ValueError):
        parse_address("9101")
