"""Fault drivers, one module per fault type, and the registry that names them.

Import the drivers from their modules (`contval.chaos.faults.latency.LatencyFault`) or look
them up by suite type name in `FaultTypes().drivers`.
"""

from contval.chaos.faults.base import FaultDriver, FaultError, FaultSkipped, Verification
from contval.chaos.faults.registry import PROXY_TYPES, FaultTypes

__all__ = ["PROXY_TYPES", "FaultDriver", "FaultError", "FaultSkipped", "FaultTypes", "Verification"]
