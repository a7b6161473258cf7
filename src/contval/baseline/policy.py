"""Which runs join a rolling baseline: the refresh rule, in one place (pure).

A rolling baseline is the last N *accepted* runs. Letting every run in would teach the
baseline whatever a slow creep does; letting only `pass` runs in would freeze it on a noisy
scenario whose comparisons are often `inconclusive` (the noise is wider than the tolerance can
resolve), so the rule is:

* a run whose scenario verdict is not `pass` (a failed threshold, a regression, an abort, an
  invalid or incomplete run) never joins;
* a `pass`, `improvement` or `no_baseline` gate outcome joins (the last: how a baseline starts);
* an `inconclusive` run joins only when every inconclusive comparison's *estimate* is inside
  its tolerance on the bad side: noise that cannot be resolved, not a shift. A run whose
  estimate is beyond the tolerance stays out, so a creep stops being learnt the moment it
  reaches the tolerance, and it is flagged once the noise allows (docs/baselines.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from contval.baseline.compare import bad_sign

JOINS = frozenset({"pass", "improvement", "no_baseline"})


def admits(verdict: str, outcome: str, comparisons: Iterable[Mapping[str, Any]]) -> bool:
    """True when a run with this final `verdict` and gate `outcome` joins rolling baselines."""
    if verdict != "pass":
        return False
    if outcome in JOINS:
        return True
    if outcome != "inconclusive":
        return False
    return all(inside(c) for c in comparisons if c["verdict"] == "inconclusive")


def inside(comparison: Mapping[str, Any]) -> bool:
    """The comparison's estimate is no worse than its tolerance (an improvement is inside)."""
    shift, tolerance = comparison.get("shift"), comparison.get("tolerance")
    if shift is None or tolerance is None:
        return False
    return bool(bad_sign(str(comparison["metric"])) * shift <= abs(tolerance))
