"""Data feeder files: checked at validation so a run never starts with a missing or headless CSV."""

from __future__ import annotations

import csv
from pathlib import Path


class FeederFileError(ValueError):
    """A feeder's file is missing, unreadable, or has no usable header row."""


def read_header(path: Path, label: str | None = None) -> tuple[str, ...]:
    """The column names of the CSV at `path` (only the first row is read).

    `label` is how messages name the file: what the user wrote, not the resolved path.
    """
    name = label or str(path)
    if not path.is_file():
        raise FeederFileError(
            f"CSV file `{name}` does not exist (relative paths start at the suite file)"
        )
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FeederFileError(f"cannot read CSV file `{name}`: {exc}") from exc
    columns = tuple(name.strip() for name in header or ())
    if not columns or not any(columns):
        raise FeederFileError(f"CSV file `{name}` has no header row")
    if "" in columns:
        raise FeederFileError(f"CSV file `{name}` has an empty column name in its header row")
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise FeederFileError(f"CSV file `{name}` repeats column `{duplicates[0]}` in its header")
    return columns
