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


def shared_workers(caps: list[int], wanted: int) -> list[int]:
    """Workers for loads run side by side on `wanted` workers in all (a Ray cluster reserves a
    CPU per worker, so side-by-side workloads share its workers rather than each taking them
    all): each load its `caps` entry (what it uses alone) when they fit; otherwise one each and
    the rest in proportion to what each would use beyond one (largest remainders, earlier
    loads first on ties), never more than its cap. `ValueError` when `wanted` is fewer than
    the loads."""
    if len(caps) > wanted:
        raise ValueError(f"{len(caps)} loads side by side need {len(caps)} workers; {wanted} given")
    if sum(caps) <= wanted:
        return list(caps)
    extra = [cap - 1 for cap in caps]
    rest = wanted - len(caps)
    whole = sum(extra)
    parts = [rest * e // whole for e in extra]
    order = sorted(range(len(caps)), key=lambda i: (-(rest * extra[i] % whole), i))
    for i in order[: rest - sum(parts)]:
        parts[i] += 1
    return [1 + p for p in parts]
