"""The fault proxy: a standing TCP relay beside the system under test that takes toxics.

Like Toxiproxy's server it is not a child of a run: it forwards cleanly when no toxic is active,
takes leased toxics over a local HTTP control API (docs/chaos-internals.md), and drops any toxic
whose lease is not renewed, so a dead contval never leaves a broken link behind.
"""

from contval.chaos.proxy.cli import main
from contval.chaos.proxy.service import LinkSpec, Proxy

__all__ = ["LinkSpec", "Proxy", "main"]
