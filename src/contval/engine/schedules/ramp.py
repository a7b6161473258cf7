"""A piecewise-linear function of run time, built from `start` and stages `{to, over}`.

Both ramping executors move linearly between stage targets; sharing the breakpoints keeps their
profiles, their printed tables and their sampling identical.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ramp:
    """Breakpoints `(times[i], values[i])`, times strictly increasing from 0 to the duration."""

    times: tuple[float, ...]
    values: tuple[float, ...]

    @classmethod
    def from_stages(cls, start: float, stages: Iterable[tuple[float, float]]) -> Ramp:
        """`stages` are `(to, over)` pairs, as in the suite file (`over` > 0)."""
        times, values = [0.0], [float(start)]
        for to, over in stages:
            if over <= 0:
                raise ValueError(f"a stage lasts a positive time, not {over}")
            times.append(times[-1] + over)
            values.append(float(to))
        return cls(tuple(times), tuple(values))

    @property
    def duration(self) -> float:
        return self.times[-1]

    def value_at(self, t: float) -> float:
        """The value at `t`: exact at breakpoints, linear between, 0 outside [0, duration]."""
        if t < 0 or t > self.duration:
            return 0.0
        i = bisect_right(self.times, t) - 1
        if i >= len(self.times) - 1:
            return self.values[-1]
        t0, t1 = self.times[i], self.times[i + 1]
        v0, v1 = self.values[i], self.values[i + 1]
        return v0 + (v1 - v0) * (t - t0) / (t1 - t0)

    def points(self) -> tuple[tuple[float, float], ...]:
        return tuple(zip(self.times, self.values, strict=True))
