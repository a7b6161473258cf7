"""Proxy faults against the control API: exact toxic bodies, leases, revert, clear errors."""

from __future__ import annotations

import time
from typing import Any

import pytest

from contval.chaos.faults.bandwidth import BandwidthFault
from contval.chaos.faults.base import FaultError
from contval.chaos.faults.blackhole import BlackholeFault
from contval.chaos.faults.http_delay import HttpDelayFault
from contval.chaos.faults.http_error import HttpErrorFault
from contval.chaos.faults.latency import LatencyFault
from contval.chaos.faults.proxy_client import ProxyClient, ProxyUnavailable
from contval.chaos.faults.refuse import RefuseFault
from contval.chaos.faults.reset import ResetFault
from contval.chaos.faults.slicer import SlicerFault
from contval.chaos.faults.toxic import ProxyLink, ToxicFault
from tests.chaos.faults.helpers import FakeProxyControl

CASES: list[tuple[type[ToxicFault], dict[str, Any], str, dict[str, Any]]] = [
    (LatencyFault, {"delay": 0.4, "jitter": 0.1}, "latency", {"delay": 0.4, "jitter": 0.1}),
    (BandwidthFault, {"rate": 100_000.0}, "bandwidth", {"rate": 100_000.0}),
    (ResetFault, {}, "reset", {}),
    (RefuseFault, {}, "refuse", {}),
    (BlackholeFault, {}, "blackhole", {}),
    (SlicerFault, {}, "slicer", {"size": 64, "delay": 0.01}),
    (HttpErrorFault, {"status": 503}, "http-error", {"status": 503}),
    (HttpDelayFault, {"delay": 0.25}, "http-delay", {"delay": 0.25}),
]


@pytest.mark.parametrize(("cls", "kwargs", "type_name", "params"), CASES)
def test_toxic_lifecycle(
    fake_proxy: FakeProxyControl,
    cls: type[ToxicFault],
    kwargs: dict[str, Any],
    type_name: str,
    params: dict[str, Any],
) -> None:
    link = ProxyLink("l", fake_proxy.control)
    fault = cls(link=link, fraction=0.3, direction="both", lease=2.0, **kwargs)
    assert fault.undo() == {
        "kind": "proxy-toxic",
        "control": fake_proxy.control,
        "link": "l",
        "toxic": fault.toxic_id,
    }
    fault.inject()
    method, path, body = fake_proxy.requests[-1]
    assert (method, path) == ("POST", "/links/l/toxics")
    assert body == {
        "id": fault.toxic_id,
        "type": type_name,
        "params": params,
        "direction": "both",
        "fraction": 0.3,
        "lease": 2.0,
    }
    verified = fault.verify()
    assert verified.ok, verified.detail
    assert f"{type_name} toxic {fault.toxic_id} active on l (both, hits 0" in verified.detail
    fault.renew()
    assert fake_proxy.requests[-1][:2] == ("POST", f"/links/l/toxics/{fault.toxic_id}/renew")
    assert fake_proxy.requests[-1][2] == {"lease": 2.0}
    fault.revert()
    assert fake_proxy.requests[-1][:2] == ("DELETE", f"/links/l/toxics/{fault.toxic_id}")
    assert fault.verify_reverted().ok
    assert not fault.verify().ok


def test_revert_of_a_gone_toxic_is_a_revert(fake_proxy: FakeProxyControl) -> None:
    fault = ResetFault(link=ProxyLink("l", fake_proxy.control))
    fault.inject()
    fake_proxy.toxics["l"].clear()  # the proxy dropped it (lease lapsed, restart)
    fault.revert()
    reverted = fault.verify_reverted()
    assert reverted.ok
    assert reverted.detail == f"no toxic {fault.toxic_id} on l"


def test_lapsed_lease_makes_renew_fail_clearly(fake_proxy: FakeProxyControl) -> None:
    fault = LatencyFault(link=ProxyLink("l", fake_proxy.control), delay=0.1, lease=0.1)
    fault.inject()
    time.sleep(0.2)
    with pytest.raises(FaultError, match=r"is gone: its lease lapsed \(renew more often"):
        fault.renew()


def test_no_proxy_running_names_the_address_and_the_fix() -> None:
    client = ProxyClient("127.0.0.1:1")
    with pytest.raises(ProxyUnavailable) as caught:
        client.health()
    message = str(caught.value)
    assert message.startswith("no fault proxy at 127.0.0.1:1 (ConnectionRefusedError")
    assert message.endswith("start it with `contval proxy SUITE`")
    with pytest.raises(ProxyUnavailable):
        LatencyFault(link=ProxyLink("l", "127.0.0.1:1"), delay=0.1).inject()


def test_unknown_link_and_duplicate_id(fake_proxy: FakeProxyControl) -> None:
    with pytest.raises(FaultError, match=r"HTTP 404: 'no link nope'"):
        ResetFault(link=ProxyLink("nope", fake_proxy.control)).inject()
    fault = ResetFault(link=ProxyLink("nope", fake_proxy.control))
    with pytest.raises(FaultError, match=f"the proxy at {fake_proxy.control} has no link 'nope'"):
        fault.verify()
    first = ResetFault(link=ProxyLink("l", fake_proxy.control))
    first.inject()
    with pytest.raises(FaultError, match="HTTP 409"):
        ResetFault(link=ProxyLink("l", fake_proxy.control), toxic_id=first.toxic_id).inject()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda link: HttpErrorFault(link=link, status=600), "status must be within 400..599"),
        (lambda link: ResetFault(link=link, fraction=1.5), "fraction must be within 0..1"),
        (lambda link: LatencyFault(link=link, delay=-1), "delay must not be negative"),
        (lambda link: BandwidthFault(link=link, rate=0), "rate must be positive"),
        (lambda link: SlicerFault(link=link, size=0), "size must be at least 1 byte"),
        (lambda link: ResetFault(link=link, lease=0), "lease must be positive"),
        (
            lambda link: ResetFault(link=link, direction="sideways"),  # type: ignore[arg-type]
            "direction must be one of",
        ),
    ],
)
def test_bad_parameters_fail_at_construction(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(ProxyLink("l"))
