"""`python -m contval.chaos.recover [--all]`: revert whatever the ledger still holds.

Runs by hand after a crash and at the start of every run. Exit 0 when nothing is left
applied; 4 when some fault could not be confirmed reverted, naming it and the command that
cleans it by hand.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from contval.chaos.ledger import Ledger, recover
from contval.exitcodes import ExitCode


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contval.chaos.recover",
        description="Revert faults left in the ledger by a contval that died.",
    )
    parser.add_argument(
        "--all", action="store_true", help="also revert faults of runs that are still alive"
    )
    parser.add_argument("--ledger", type=Path, default=None, help="ledger directory")
    args = parser.parse_args(argv)
    ledger = Ledger(args.ledger)
    results = recover(all=args.all, ledger=ledger)
    if not results:
        print(f"nothing to recover in {ledger.dir}")
        return 0
    failed = 0
    for result in results:
        entry = result.entry
        what = (
            f"{entry.fault} ({entry.type} on {entry.target or '?'}, run {entry.run_id})"
            if entry
            else "?"
        )
        if result.ok:
            print(f"reverted {what}: {result.detail}")
        else:
            failed += 1
            print(f"NOT reverted {what}: {result.detail}", file=sys.stderr)
    if failed:
        print(f"{failed} fault(s) could not be confirmed reverted", file=sys.stderr)
        return int(ExitCode.FAULT_NOT_REVERTED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
