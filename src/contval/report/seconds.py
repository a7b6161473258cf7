"""The per-second log beside `result.json`: what keeps a killed run's results.

`result.json` is written whole before a scenario's load starts (the scenario `running`,
`complete: false`) and again when it ends; in between, every merged second is appended to
`result.seconds.jsonl` as one JSON line and flushed, so a run killed at any moment loses at
most the second in progress, and the cost of a second never grows with the run's length (no
rewrite of a growing document). The final write folds the seconds into `result.json`; a
reader of an unfinished run folds them in itself (`read_result`). Layout in docs/result.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from contval.metrics import Series, Snapshot

SECONDS_NAME = "result.seconds.jsonl"


def seconds_path(result_path: Path) -> Path:
    """Where the per-second log of `result_path` lives (beside it)."""
    return result_path.with_name(SECONDS_NAME)


class SecondsLog:
    """Appends one scenario's seconds; a new scenario starts the file afresh (the previous
    one's seconds are in `result.json` by then)."""

    def __init__(
        self,
        path: Path,
        scenario: str,
        index: int,
        kinds: Mapping[str, str],
        order: Mapping[str, Sequence[str]],
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle: IO[str] = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed later)
        self._write(
            {"scenario": scenario, "index": index, "kinds": dict(kinds), "order": dict(order)}
        )
        self.started = False

    def start(self, started_at: float) -> None:
        """The load's common start (wall clock), once known."""
        self.started = True
        self._write({"started_at": started_at})

    def second(self, row: Mapping[str, Any], snapshot: Snapshot) -> None:
        """One merged second: its row of `series` and the snapshot the totals come from."""
        self._write({"row": row, "snapshot": snapshot.to_dict()})

    def close(self) -> None:
        self._handle.close()

    def _write(self, line: Mapping[str, Any]) -> None:
        self._handle.write(json.dumps(line, separators=(",", ":"), allow_nan=False) + "\n")
        self._handle.flush()  # in the kernel's hands: a killed process loses nothing written


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    """The log's complete lines; a line cut short by a kill is skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    for raw in text.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict):
            yield line


def fold_seconds(doc: dict[str, Any], path: Path) -> dict[str, Any]:
    """`doc` with the seconds of its unfinished scenario folded in from the log at `path`:
    the per-second series, per-flow series, totals and flow tables as far as the run got.
    Thresholds are not judged (a killed run has no verdict); the scenario stays `running`,
    `complete: false`. A finished document, or a log of another scenario, is left alone."""
    from contval.report.result import FlowSeries, flows_dict, iso, totals_dict

    lines = list(_lines(path))
    if not lines or doc.get("complete") is not False:
        return doc
    head = lines[0]
    scenarios = doc.get("scenarios")
    index = head.get("index")
    if not isinstance(scenarios, list) or not isinstance(index, int):
        return doc
    if not 0 <= index < len(scenarios) or not isinstance(scenarios[index], dict):
        return doc
    entry = scenarios[index]
    if entry.get("name") != head.get("scenario") or entry.get("verdict") != "running":
        return doc
    rows: list[Any] = []
    series = Series()
    flow_series = FlowSeries()
    for line in lines[1:]:
        if "started_at" in line:
            entry["started_at"] = iso(float(line["started_at"]))
        elif "snapshot" in line:
            snapshot = Snapshot.from_dict(line["snapshot"])
            rows.append(line["row"])
            series.add(snapshot)
            flow_series.add(snapshot)
    entry.update(
        duration_s=len(rows),
        totals=totals_dict(series, len(rows), 0),
        flows=flows_dict(series, head.get("kinds") or {}, head.get("order") or {}),
        series=rows,
        flow_series=flow_series.to_dict(list(head.get("order") or {})),
    )
    return doc


def read_result(path: Path) -> dict[str, Any]:
    """A `result.json` as far as its run got: a finished run's document as written, an
    unfinished one's with the seconds of its running scenario folded in."""
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, dict):
        return loaded
    log = seconds_path(path)
    return fold_seconds(loaded, log) if log.exists() else loaded
