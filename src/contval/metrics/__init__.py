"""Metrics: HDR histograms, counters, per-second series, snapshots and their exact merge.

Owns measuring and aggregating; never decides pass or fail (that is `contval.thresholds`).
"""

from contval.metrics.hdr import Histogram
from contval.metrics.recorder import ErrorClass, Recorder, Slot
from contval.metrics.series import Counters, Series, SlotTotals, Totals
from contval.metrics.snapshot import Key, SlotSnapshot, Snapshot, merge, merge_slots
from contval.metrics.summary import FlowSummary, LatencySummary, StepSummary, summarize

__all__ = [
    "Counters",
    "ErrorClass",
    "FlowSummary",
    "Histogram",
    "Key",
    "LatencySummary",
    "Recorder",
    "Series",
    "Slot",
    "SlotSnapshot",
    "SlotTotals",
    "Snapshot",
    "StepSummary",
    "Totals",
    "merge",
    "merge_slots",
    "summarize",
]
