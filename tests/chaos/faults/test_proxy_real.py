"""Proxy faults against the real fault proxy (`python -m contval.chaos.proxy`), with effects."""

from __future__ import annotations

from typing import Any

import pytest

from contval.chaos.faults.latency import LatencyFault
from contval.chaos.faults.reset import ResetFault
from contval.chaos.faults.toxic import ProxyLink, ToxicFault
from tests.chaos.faults.helpers import RealProxy
from tests.chaos.faults.test_proxy_faults import CASES


@pytest.mark.parametrize(("cls", "kwargs", "type_name", "params"), CASES)
def test_every_proxy_fault_is_accepted_listed_and_removed(
    real_proxy: RealProxy,
    cls: type[ToxicFault],
    kwargs: dict[str, Any],
    type_name: str,
    params: dict[str, Any],
) -> None:
    fault = cls(link=ProxyLink("l", real_proxy.control), fraction=0.5, **kwargs)
    fault.inject()
    try:
        verified = fault.verify()
        assert verified.ok, verified.detail
        assert verified.detail.startswith(f"{type_name} toxic {fault.toxic_id} active on l (")
        [listed] = fault._client.toxics("l")
        assert (listed["type"], listed["params"], listed["fraction"]) == (type_name, params, 0.5)
        fault.renew()
    finally:
        fault.revert()
    assert fault.verify_reverted().ok
    assert fault._client.toxics("l") == []
    fault.revert()  # idempotent: a second DELETE is a 404, which counts as reverted


def test_latency_is_observable_and_gone_after_revert(real_proxy: RealProxy) -> None:
    assert real_proxy.round_trip() < 0.2
    fault = LatencyFault(link=ProxyLink("l", real_proxy.control), delay=0.3)
    fault.inject()
    try:
        assert real_proxy.round_trip() >= 0.3
        assert "hits 1" in fault.verify().detail
    finally:
        fault.revert()
    assert real_proxy.round_trip() < 0.2


def test_reset_breaks_connections_until_reverted(real_proxy: RealProxy) -> None:
    fault = ResetFault(link=ProxyLink("l", real_proxy.control))
    fault.inject()
    try:
        with pytest.raises(OSError):
            real_proxy.round_trip()
    finally:
        fault.revert()
    assert real_proxy.round_trip() < 0.2
