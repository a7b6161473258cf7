"""Profiles as printable points: what `contval plan` tabulates and draws."""

from __future__ import annotations

from contval.engine.schedules.closed_model import ClosedSchedule
from contval.engine.schedules.open_model import OpenSchedule

Schedule = OpenSchedule | ClosedSchedule


def value_at(schedule: Schedule, t: float) -> float:
    """The rate (open model) or target VUs (closed model) at offset t."""
    if isinstance(schedule, OpenSchedule):
        return schedule.rate_at(t)
    return float(schedule.vus_at(t))


def describe(schedule: Schedule, points: int = 0) -> list[tuple[float, float]]:
    """(t, rate or VUs) at every stage boundary, from 0 to the duration.

    Profiles are linear between boundaries, so the boundaries say everything; `points` > 0 adds
    that many evenly spaced samples in between (sorted in, duplicates dropped), for plotting.
    """
    rows = dict(schedule.profile.points())
    for i in range(1, points + 1):
        t = schedule.duration * i / (points + 1)
        rows.setdefault(t, value_at(schedule, t))
    return sorted(rows.items())


def sample(schedule: Schedule, buckets: int) -> list[float]:
    """The profile at the middle of `buckets` equal slices of the run (for a sparkline)."""
    if buckets < 1:
        raise ValueError(f"buckets must be at least 1, not {buckets}")
    width = schedule.duration / buckets
    return [value_at(schedule, (i + 0.5) * width) for i in range(buckets)]
