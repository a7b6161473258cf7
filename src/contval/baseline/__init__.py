"""Baselines: the history of every scenario run, and what the current run is compared with.

Owns the history store (SQLite by default: runs, their 10-second windows per flow and step and
per server-side signal, pinned and rolling baselines per suite, scenario and environment), the
fingerprint that keeps unlike runs apart, cutting a run into windows, and the statistical
comparison of a run with its baseline. Never renders anything: reports read what this package
returns.
"""

from contval.baseline.fingerprint import fingerprint
from contval.baseline.records import Baseline, RunMeta, SignalWindow, WindowRecord
from contval.baseline.sqlite import StoreBusy, StoreError
from contval.baseline.store import HistoryStore, UnknownRun, default_path
from contval.baseline.windows import signal_windows_of, windows_of

__all__ = [
    "Baseline",
    "HistoryStore",
    "RunMeta",
    "SignalWindow",
    "StoreBusy",
    "StoreError",
    "UnknownRun",
    "WindowRecord",
    "default_path",
    "fingerprint",
    "signal_windows_of",
    "windows_of",
]
