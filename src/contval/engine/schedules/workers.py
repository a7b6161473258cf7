"""Splitting a whole-run quantity (VUs, a VU cap, an iteration count) across W workers.

One rule everywhere: worker w gets `n // W`, plus one if `w < n % W`. The parts sum to n, and as n
grows by one exactly one worker's part grows by one, so a ramp never moves users between workers.
"""

from __future__ import annotations


def check_worker(worker: int, workers: int) -> None:
    """Refuse a worker index outside [0, workers): a silent modulo would duplicate load."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if not 0 <= worker < workers:
        raise ValueError(f"worker must be in [0, {workers}), not {worker}")


def share(total: int, worker: int, workers: int) -> int:
    """Worker `worker`'s part of `total` (see the module docstring for why this rule)."""
    check_worker(worker, workers)
    whole, extra = divmod(total, workers)
    return whole + (1 if worker < extra else 0)
