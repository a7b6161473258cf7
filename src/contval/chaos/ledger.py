"""The on-disk ledger of applied faults: what is applied now, and how to undo it without us.

Every fault gets a JSON file here before it is applied and loses it only after its revert was
confirmed, so whatever a crash leaves behind is written down with its undo record. The undo
records are self-contained (no driver objects needed): the guard and `contval recover` revert
from the file alone. Each undo kind's revert is idempotent and PID-reuse safe.
"""

from __future__ import annotations

import json
import os
import signal
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from contval.chaos import proc
from contval.chaos.faults.base import FaultError
from contval.chaos.faults.netem import has_netem, run_tc
from contval.chaos.faults.proxy_client import ProxyClient, ProxyUnavailable


def default_dir() -> Path:
    """$CONTVAL_STATE_DIR/ledger, else ${XDG_STATE_HOME:-~/.local/state}/contval/ledger."""
    state = os.environ.get("CONTVAL_STATE_DIR")
    if state:
        return Path(state) / "ledger"
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "contval" / "ledger"


@dataclass(frozen=True)
class LedgerEntry:
    """One applied (or about to be applied) fault, as stored on disk."""

    id: str
    run_id: str
    controller_pid: int
    controller_starttime: int
    fault: str
    type: str
    target: str
    created_at: float
    undo: Mapping[str, Any]

    def controller_alive(self) -> bool:
        return proc.is_alive(proc.ProcessRef(self.controller_pid, self.controller_starttime))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LedgerEntry:
        return cls(
            id=str(data["id"]),
            run_id=str(data["run_id"]),
            controller_pid=int(data["controller_pid"]),
            controller_starttime=int(data.get("controller_starttime", -1)),
            fault=str(data["fault"]),
            type=str(data["type"]),
            target=str(data.get("target", "")),
            created_at=float(data["created_at"]),
            undo=dict(data["undo"]),
        )


@dataclass(frozen=True)
class RevertResult:
    """Whether an entry's fault is confirmed gone; detail says how, or how to clean by hand."""

    ok: bool
    detail: str
    entry: LedgerEntry | None = field(default=None, compare=False)


class Ledger:
    """A directory of entry files; all writes are atomic (temp file, fsync, rename)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.dir = directory if directory is not None else default_dir()

    def write(
        self, run_id: str, fault: str, type_name: str, target: str, undo: Mapping[str, Any]
    ) -> LedgerEntry:
        me = proc.ref_of(os.getpid())
        entry = LedgerEntry(
            id=f"{time.time_ns()}-{uuid.uuid4().hex[:8]}",
            run_id=run_id,
            controller_pid=me.pid,
            controller_starttime=me.starttime,
            fault=fault,
            type=type_name,
            target=target,
            created_at=time.time(),
            undo=dict(undo),
        )
        self._store(entry)
        return entry

    def update(self, entry: LedgerEntry, undo: Mapping[str, Any]) -> LedgerEntry:
        """Record what only inject() could learn (a child's PID) in the same entry."""
        updated = replace(entry, undo=dict(undo))
        self._store(updated)
        return updated

    def remove(self, entry: LedgerEntry) -> None:
        self._path(entry.id).unlink(missing_ok=True)

    def entries(self, run_id: str | None = None) -> list[LedgerEntry]:
        """Entries oldest first; unreadable files are skipped (see unreadable())."""
        found = []
        for path in sorted(self.dir.glob("*.json")) if self.dir.is_dir() else []:
            try:
                entry = LedgerEntry.from_json(json.loads(path.read_text()))
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if run_id is None or entry.run_id == run_id:
                found.append(entry)
        return sorted(found, key=lambda e: (e.created_at, e.id))

    def unreadable(self) -> list[Path]:
        """Entry files that cannot be parsed: they need a look by hand."""
        bad = []
        for path in sorted(self.dir.glob("*.json")) if self.dir.is_dir() else []:
            try:
                LedgerEntry.from_json(json.loads(path.read_text()))
            except (OSError, ValueError, KeyError, TypeError):
                bad.append(path)
        return bad

    def revert(self, entry: LedgerEntry) -> RevertResult:
        """revert_entry, and forget the entry once its fault is confirmed gone."""
        result = revert_entry(entry)
        if result.ok:
            self.remove(entry)
        return result

    def _path(self, entry_id: str) -> Path:
        return self.dir / f"{entry_id}.json"

    def _store(self, entry: LedgerEntry) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        final = self._path(entry.id)
        tmp = final.with_suffix(".tmp")
        with tmp.open("w") as out:
            json.dump(asdict(entry), out, indent=2, default=dict)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, final)


def revert_entry(entry: LedgerEntry) -> RevertResult:
    """Undo one entry's fault from its undo record alone; idempotent, never raises."""
    kind = str(entry.undo.get("kind"))
    handler = _HANDLERS.get(kind)
    if handler is None:
        return RevertResult(False, f"unknown undo kind {kind!r}: {manual_hint(entry)}", entry)
    try:
        ok, detail = handler(entry.undo)
    except (FaultError, OSError, ValueError, KeyError, TypeError) as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    if not ok:
        detail = f"{detail}; by hand: {manual_hint(entry)}"
    return RevertResult(ok, detail, entry)


def _revert_toxic(undo: Mapping[str, Any]) -> tuple[bool, str]:
    control, link, toxic = str(undo["control"]), str(undo["link"]), str(undo["toxic"])
    try:
        deleted = ProxyClient(control).delete(link, toxic)
    except ProxyUnavailable:
        # A toxic lives in the proxy's memory: no proxy, no toxic.
        return True, f"no proxy at {control}, so no toxic {toxic} on {link}"
    return True, f"toxic {toxic} on {link} {'deleted' if deleted else 'already gone'}"


def _revert_sigcont(undo: Mapping[str, Any]) -> tuple[bool, str]:
    ref = proc.ProcessRef(int(undo["pid"]), int(undo["starttime"]))
    if not proc.signal_if_same(ref, signal.SIGCONT):
        return True, f"PID {ref.pid} is gone or reused: nothing left stopped"
    proc.wait_until(lambda: proc.state_of(ref) != "T", 1.0)
    if proc.state_of(ref) == "T":
        return False, f"PID {ref.pid} is still stopped after SIGCONT"
    return True, f"SIGCONT sent to PID {ref.pid}: it runs again"


def _revert_kill(undo: Mapping[str, Any]) -> tuple[bool, str]:
    if undo.get("pid") is None:
        # Written before the child existed; a child spawned then dies with contval
        # (PR_SET_PDEATHSIG) and by its own --timeout.
        return True, "no stress-ng PID was recorded: the child, if any, ended with its owner"
    ref = proc.ProcessRef(int(undo["pid"]), int(undo["starttime"]))
    if proc.kill_group(ref):
        return True, f"no process left in stress-ng process group {ref.pid}"
    return False, f"process group {ref.pid} still has {proc.group_members(ref.pid)}"


def _revert_tc(undo: Mapping[str, Any]) -> tuple[bool, str]:
    dev, command = str(undo["dev"]), [str(part) for part in undo["command"]]
    if not has_netem(dev):
        return True, f"no netem qdisc on {dev}"
    result = run_tc(command)
    if has_netem(dev):
        return False, f"`{' '.join(command)}` failed: {result.stderr.strip()}"
    return True, f"netem qdisc removed from {dev}"


def _revert_noop(undo: Mapping[str, Any]) -> tuple[bool, str]:
    return True, str(undo.get("reason", "nothing to undo"))


_HANDLERS: dict[str, Callable[[Mapping[str, Any]], tuple[bool, str]]] = {
    "proxy-toxic": _revert_toxic,
    "sigcont": _revert_sigcont,
    "kill": _revert_kill,
    "tc": _revert_tc,
    "noop": _revert_noop,
}


def manual_hint(entry: LedgerEntry) -> str:
    """The shell command that cleans this fault by hand, for messages and exit code 4."""
    undo = entry.undo
    kind = undo.get("kind")
    if kind == "proxy-toxic":
        return (
            f"curl -X DELETE http://{undo['control']}/links/{undo['link']}/toxics/"
            f"{undo['toxic']} (or stop the proxy)"
        )
    if kind == "sigcont":
        return f"kill -CONT {undo['pid']}"
    if kind == "kill":
        return f"kill -KILL -- -{undo.get('pid')} (the stress-ng process group)"
    if kind == "tc":
        return " ".join(str(part) for part in undo["command"])
    return f"inspect and delete {entry.id}.json in the ledger"


def recover(all: bool = False, ledger: Ledger | None = None) -> list[RevertResult]:
    """Revert entries whose controller is dead (every entry with all=True), newest first."""
    ledger = ledger or Ledger()
    results = []
    for entry in reversed(ledger.entries()):
        if all or not entry.controller_alive():
            results.append(ledger.revert(entry))
    for path in ledger.unreadable():
        results.append(RevertResult(False, f"unreadable ledger entry {path}: inspect and delete"))
    return results
