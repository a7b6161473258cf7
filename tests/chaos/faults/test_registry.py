"""The registry names every fault type of the suite contract, and nothing registers itself."""

from __future__ import annotations

import pytest

from contval.chaos.faults import PROXY_TYPES, FaultTypes
from contval.chaos.faults.toxic import ToxicFault


def test_every_type_name_maps_to_its_driver() -> None:
    types = FaultTypes()
    assert sorted(types.drivers) == sorted(
        [*PROXY_TYPES, "kill", "pause", "cpu", "memory", "netem"]
    )
    for name, cls in types.drivers.items():
        assert cls.type_name == name
        assert issubclass(cls, ToxicFault) == (name in PROXY_TYPES)
    assert types.driver("http-error").__name__ == "HttpErrorFault"


def test_unknown_type_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown fault type 'flood' \\(known: bandwidth, blackhole"):
        FaultTypes().driver("flood")


def test_registries_are_independent() -> None:
    one, two = FaultTypes(), FaultTypes()
    del one.drivers["kill"]
    assert "kill" in two.drivers
