"""The one definition of a rate: events per second of load.

Every throughput a run shows (the console's tables, result.json's `rps`, thresholds on `rps`,
the history's windows, comparisons and reports) is a count divided by the seconds of load it
was counted over, through `per_second`, so one run shows one number. The seconds of load are
the load window's (`Series.fold_after` folds the draining seconds after the schedule into its
last second), so a drain second never dilutes a rate.
"""

from __future__ import annotations


def per_second(count: float, seconds: float) -> float | None:
    """`count` per second over `seconds`; None without a second to divide by (no data)."""
    return count / seconds if seconds > 0 else None
