"""Paths the user names for contval to write (results, the history database)."""

from __future__ import annotations

from pathlib import Path


def file_in_the_way(directory: Path) -> Path | None:
    """The first of `directory` and its parents that exists but is not a directory: what
    stops `directory` being created (None when nothing does)."""
    return next((p for p in (directory, *directory.parents) if p.exists() and not p.is_dir()), None)
