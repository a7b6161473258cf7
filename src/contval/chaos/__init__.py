"""Chaos under load: faults on a timeline, injected while the load runs, always rolled back.

`contval.chaos` owns everything that breaks things on purpose, and everything that un-breaks
them: the fault drivers (one module per fault type in `faults/`, each with inject, verify and
revert), the fault proxy (`proxy/`, a standing process that applies network toxics to declared
links under renewable leases), the pure timeline of a scenario's faults (`timeline`), the on-disk
ledger of applied faults (`ledger`), and the guard that reverts them if the controller dies
(`guard`). It never generates load and never judges results: the engine knows no faults, and
thresholds read fault windows only as data.
"""
