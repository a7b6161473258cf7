"""Pure parts of the reference system: knobs, the circuit breaker, the health grading."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contoso_shoes import health
from contoso_shoes.breaker import BreakerState, CircuitBreaker
from contoso_shoes.config import (
    PaymentsLink,
    RouteDelay,
    ShopSettings,
    parse_duration,
    parse_route_delays,
)


@pytest.mark.parametrize(
    ("text", "seconds"), [("250ms", 0.25), ("2s", 2.0), ("1m", 60.0), ("1.5", 1.5), (" 0ms ", 0.0)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "fast", "1h", "-1s", "1 2s"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**6))
def test_parse_duration_ms_roundtrip(ms: int) -> None:
    assert parse_duration(f"{ms}ms") == pytest.approx(ms / 1000)


def test_route_delays() -> None:
    delays = parse_route_delays("GET /api/products=50ms, /api/orders=1s,")
    assert delays == (
        RouteDelay("GET", "/api/products", 0.05),
        RouteDelay(None, "/api/orders", 1.0),
    )
    settings = ShopSettings("x.db", PaymentsLink("http://127.0.0.1:1"), delays)
    assert settings.delay_for("GET", "/api/products") == 0.05
    assert settings.delay_for("POST", "/api/products") == 0.0
    assert settings.delay_for("POST", "/api/orders") == 1.0
    assert parse_route_delays("") == ()


@pytest.mark.parametrize("text", ["/api=oops", "api/products=1s", "GET=1s", "A B C=1s", "/x"])
def test_route_delays_reject(text: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        parse_route_delays(text)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """Read the state through a call, so the type checker does not narrow it between steps."""
    return breaker.state


def test_breaker_opens_half_opens_and_closes() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=3, reset_after=5.0, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.record_failure()
    assert state_of(breaker) is BreakerState.CLOSED
    breaker.record_failure()
    assert state_of(breaker) is BreakerState.OPEN and not breaker.allow()
    assert breaker.opened_count == 1
    clock.now = 4.9
    assert not breaker.allow()
    clock.now = 5.0
    assert state_of(breaker) is BreakerState.HALF_OPEN
    assert breaker.allow() and not breaker.allow()  # exactly one trial at a time
    breaker.record_failure()  # failed trial: open for another period
    assert state_of(breaker) is BreakerState.OPEN
    clock.now = 10.0
    assert breaker.allow()
    breaker.record_success()
    assert state_of(breaker) is BreakerState.CLOSED and breaker.allow()
    assert breaker.opened_count == 1


def test_breaker_success_resets_the_failure_count() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_after=1.0, clock=FakeClock())
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert state_of(breaker) is BreakerState.CLOSED


def test_health_grading() -> None:
    assert health.grade(1.0, 2.0, 10.0) == "healthy"
    assert health.grade(2.5, 2.0, 10.0) == "degraded"
    assert health.grade(11.0, 2.0, 10.0) == "unhealthy"
    assert health.worst(["healthy", "unhealthy", "degraded"]) == "unhealthy"
    assert health.worst([]) == "healthy"
    assert health.payments(BreakerState.CLOSED, 0.01)["status"] == "healthy"
    assert health.payments(BreakerState.CLOSED, 0.5)["status"] == "degraded"
    assert health.payments(BreakerState.HALF_OPEN, 0.01)["status"] == "degraded"
    assert health.payments(BreakerState.OPEN, 0.01)["status"] == "unhealthy"
    assert health.payments(BreakerState.CLOSED, None)["status"] == "unhealthy"
