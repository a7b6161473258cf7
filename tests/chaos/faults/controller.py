"""A small contval controller for crash tests: injects faults, then dies as told.

python controller.py RUN_ID MODE ARG
  MODE hang:  FaultSession with a guard, pause PID ARG + a stress-ng cpu fault, print the
              ledger entries as JSON, then sleep until killed.
  MODE crash: no guard; pause PID ARG, print, then exit at once without reverting.
  MODE proxy: FaultSession with a guard, 300 ms latency on link `l` of the proxy whose
              control address is ARG; print, then sleep until killed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from contval.chaos.faults.cpu import CpuFault
from contval.chaos.faults.latency import LatencyFault
from contval.chaos.faults.pause import PauseFault
from contval.chaos.faults.toxic import ProxyLink
from contval.chaos.ledger import Ledger
from contval.chaos.proc import ProcessTarget
from contval.chaos.session import FaultSession


def main() -> None:
    run_id, mode, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    session = FaultSession(run_id, guard=mode != "crash").__enter__()
    if mode == "proxy":
        fault = LatencyFault(link=ProxyLink("l", arg), delay=0.3, lease=5.0)
        records = [session.inject("slow", fault)]
    else:
        pidfile = Path(os.environ["CONTVAL_STATE_DIR"]) / "paused.pid"
        pidfile.parent.mkdir(parents=True, exist_ok=True)
        pidfile.write_text(arg)
        records = [session.inject("freeze", PauseFault(target=ProcessTarget(pidfile=pidfile)))]
    if mode == "hang":
        records.append(session.inject("cpu", CpuFault(load=0.2, workers=1, duration=30)))
    entries = [e.undo for e in Ledger().entries(run_id)]
    print(json.dumps({"verified": [r.verified for r in records], "undo": entries}), flush=True)
    if mode == "crash":
        os._exit(0)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
