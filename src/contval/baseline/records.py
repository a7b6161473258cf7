"""The plain data the history store keeps: a run's metadata, its windows, and a baseline.

Frozen dataclasses with explicit dict forms, so the same shapes cross the SQLite boundary, the
JSON export kept in git, and the statistics code without anyone depending on the schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from contval.metrics.hdr import Histogram
from contval.metrics.rates import per_second

Phase = Literal["before", "during", "after"]
BaselineMode = Literal["rolling", "pinned"]


@dataclass(frozen=True, slots=True)
class WindowRecord:
    """One (flow, step) over the seconds [t0, t1) of a run; step "" is the whole flow.

    `phases` maps each fault of a chaos scenario to the phase the window lies in (a window
    never straddles a fault's edge), so each phase is compared with the same phase of the
    baseline. Histograms stay HDR-encoded: exact, small, and merged without approximation.
    """

    flow: str
    step: str
    t0: int
    t1: int
    requests: int = 0
    errors: int = 0
    iterations: int = 0
    latency: str | None = None
    duration: str | None = None
    phases: Mapping[str, Phase] = field(default_factory=dict)
    dropped: int = 0  # open model: scheduled iterations that never started
    late: int = 0  # open model: iterations that started late

    @property
    def seconds(self) -> int:
        return self.t1 - self.t0

    @property
    def error_rate(self) -> float | None:
        """Errors per request; None without requests (no data is not zero errors)."""
        return self.errors / self.requests if self.requests else None

    @property
    def rps(self) -> float:
        """Requests per second: windows cut at fault edges may be shorter than 10 s."""
        return per_second(self.requests, self.seconds) or 0.0

    def latency_percentile(self, pct: float) -> int | None:
        """The window's request latency at `pct` (0..100) in µs; None without latencies."""
        return None if self.latency is None else Histogram.decode(self.latency).percentile(pct)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "t0": self.t0,
            "t1": self.t1,
            "requests": self.requests,
            "errors": self.errors,
            "iterations": self.iterations,
            "latency": self.latency,
            "duration": self.duration,
            "phases": dict(sorted(self.phases.items())),
            "dropped": self.dropped,
            "late": self.late,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowRecord:
        return cls(
            flow=str(data["flow"]),
            step=str(data["step"]),
            t0=int(data["t0"]),
            t1=int(data["t1"]),
            requests=int(data.get("requests", 0)),
            errors=int(data.get("errors", 0)),
            iterations=int(data.get("iterations", 0)),
            latency=data.get("latency"),
            duration=data.get("duration"),
            phases=dict(data.get("phases") or {}),
            dropped=int(data.get("dropped", 0)),
            late=int(data.get("late", 0)),
        )


@dataclass(frozen=True, slots=True)
class SignalWindow:
    """One server-side signal over the seconds [t0, t1) of a run, on the same grid as the
    request windows: the mean and the peak of its seconds with data (`seconds` of them; 0
    and None values when it had none), and the window's phase around each fault."""

    signal: str
    t0: int
    t1: int
    seconds: int = 0
    mean: float | None = None
    peak: float | None = None
    phases: Mapping[str, Phase] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "t0": self.t0,
            "t1": self.t1,
            "seconds": self.seconds,
            "mean": self.mean,
            "peak": self.peak,
            "phases": dict(sorted(self.phases.items())),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignalWindow:
        mean, peak = data.get("mean"), data.get("peak")
        return cls(
            signal=str(data["signal"]),
            t0=int(data["t0"]),
            t1=int(data["t1"]),
            seconds=int(data.get("seconds", 0)),
            mean=None if mean is None else float(mean),
            peak=None if peak is None else float(peak),
            phases=dict(data.get("phases") or {}),
        )


@dataclass(frozen=True, slots=True)
class RunMeta:
    """What identifies and judges one scenario run; `id` and `created_at` are the store's.

    `started_at` and `created_at` are ISO 8601 strings in UTC so that their text order is
    their time order (the store sorts on them). `accepted` lets a person keep a passing but
    unrepresentative run out of rolling baselines; `pinned` mirrors the baselines table.
    `workload` names one workload of a scenario that ran several side by side (`alongside`),
    measured alone and compared with that workload's own baseline; None is the scenario as a
    whole (every run recorded before workloads had baselines of their own).
    """

    suite: str
    scenario: str
    fingerprint: str
    started_at: str
    env: str = "local"
    label: str | None = None
    verdict: str = "pass"
    duration_s: float = 0.0
    complete: bool = True
    id: str | None = None
    created_at: str | None = None
    accepted: bool = True
    pinned: bool = False
    inconclusive: tuple[str, ...] = ()  # comparisons (`comparison_key`) that were inconclusive
    workload: str | None = None

    @property
    def key(self) -> str:
        """`scenario`, or `scenario/workload` for a workload's own run: what `contval baseline`
        and `contval history` take (names never contain `/`)."""
        return self.scenario if self.workload is None else f"{self.scenario}/{self.workload}"

    def with_id(self, run_id: str, created_at: str) -> RunMeta:
        return replace(self, id=run_id, created_at=created_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "suite": self.suite,
            "scenario": self.scenario,
            "env": self.env,
            "fingerprint": self.fingerprint,
            "label": self.label,
            "verdict": self.verdict,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "complete": self.complete,
            "created_at": self.created_at,
            "accepted": self.accepted,
            "pinned": self.pinned,
            "inconclusive": list(self.inconclusive),
            "workload": self.workload,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunMeta:
        return cls(
            suite=str(data["suite"]),
            scenario=str(data["scenario"]),
            fingerprint=str(data["fingerprint"]),
            started_at=str(data["started_at"]),
            env=str(data.get("env", "local")),
            label=data.get("label"),
            verdict=str(data.get("verdict", "pass")),
            duration_s=float(data.get("duration_s", 0.0)),
            complete=bool(data.get("complete", True)),
            id=data.get("id"),
            created_at=data.get("created_at"),
            accepted=bool(data.get("accepted", True)),
            pinned=bool(data.get("pinned", False)),
            inconclusive=tuple(data.get("inconclusive") or ()),
            workload=data.get("workload") or None,
        )


@dataclass(frozen=True, slots=True)
class Baseline:
    """The runs a scenario is compared with, and how they were chosen.

    `mismatched` lists pinned runs left out because their fingerprint differs from the
    current run's: unlike runs are never compared, and a verdict should say why its pinned
    baseline shrank rather than silently using fewer runs.
    """

    mode: BaselineMode
    runs: tuple[RunMeta, ...]
    mismatched: tuple[str, ...] = ()

    @property
    def run_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.runs if r.id is not None)
