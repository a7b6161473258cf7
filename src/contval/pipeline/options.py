"""What a run was asked to do, and the interrupt state its signal handlers share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from contval.pipeline.gate import GateOptions
from contval.spec import Suite

if TYPE_CHECKING:
    from contval.engine.controller import Controller
    from contval.pipeline.chaos import ChaosThread


@dataclass(frozen=True)
class RunOptions:
    suite_path: Path
    suite: Suite
    scenarios: tuple[str, ...]
    out_dir: Path
    workers: int
    overrides: tuple[tuple[str, str], ...] = ()
    target_overrides: tuple[tuple[str, str], ...] = ()
    seed: int | None = None
    grace: float = 30.0
    gate: GateOptions = field(default_factory=GateOptions)
    data_dir: Path | None = None
    debug_http: int = 0
    """`--debug-http N`: the first worker prints its first N request/response pairs to stderr."""
    """`--data-dir`: where feeder files live (read once by the controller, shipped to workers)."""
    cluster: str | None = None
    """`--cluster`: run the workers as Ray actors on this cluster (auto, HOST:PORT, ray://...);
    None runs them as local processes."""
    workers_per_node: int | None = None
    """`--workers-per-node`: with `--cluster`, this many workers on each node (default: spread)."""


@dataclass
class Interrupt:
    """Set by SIGINT/SIGTERM: stop the load and revert faults, keep what was measured."""

    reason: str | None = None
    controller: Controller | None = None
    chaos: ChaosThread | None = None
