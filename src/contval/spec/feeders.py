"""Data feeder files: checked at validation so a run never starts with a missing or headless CSV.

CI validates suites from pull requests, so a suite is untrusted input: a feeder must be a regular
file under the suite's directory (or the `--data-dir` given), never a symlink out of it, a
device, a FIFO or a file under /proc, and messages never echo more of it than a capped, escaped
header (a `csv: /proc/self/environ` once printed the CI's environment as "columns: …").
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Final

HEADER_BYTES: Final = 64 * 1024
"""The most of a feeder file read to find its header row at validation."""
_SYSTEM_DIRS: Final = (Path("/proc"), Path("/sys"), Path("/dev"))
_SHOWN_COLUMNS: Final = 10
_SHOWN_CHARS: Final = 40
_LABEL_CHARS: Final = 200


class FeederFileError(ValueError):
    """A feeder's file is missing, unreadable, outside its directory, or has no usable header."""


def feeder_path(path: Path, root: Path | None, label: str | None = None) -> Path:
    """`path` with symlinks resolved, refused unless it is a regular file under `root`.

    `label` is how messages name the file: what the user wrote, not the resolved path.
    """
    name = shown(label or str(path), _LABEL_CHARS)
    try:
        resolved = path.resolve()
        exists = resolved.exists()
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, a symlink loop
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise FeederFileError(f"invalid CSV file name {name}: {reason}") from None
    if any(resolved.is_relative_to(d) for d in _SYSTEM_DIRS):
        raise FeederFileError(f"refused: CSV file {name} is a system file, not data")
    if root is not None and not resolved.is_relative_to(root.resolve()):
        raise FeederFileError(
            f"refused: CSV file {name} is outside `{root}`; feeder files must live under the "
            "suite's directory (or the directory given with --data-dir)"
        )
    if not exists:
        raise FeederFileError(
            f"CSV file {name} does not exist (relative paths start at the suite file)"
        )
    return resolved


def open_feeder(path: Path, label: str | None = None) -> io.TextIOWrapper:
    """The file as text, opened without blocking (a FIFO never hangs us) and refused unless it
    is a regular file (a device or socket is not data)."""
    name = shown(label or str(path), _LABEL_CHARS)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise FeederFileError(f"refused: CSV file {name} is not a regular file")
        os.set_blocking(fd, True)
        raw = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def read_header(path: Path, label: str | None = None, root: Path | None = None) -> tuple[str, ...]:
    """The column names of the CSV at `path` (only the start of the file is read)."""
    name = shown(label or str(path), _LABEL_CHARS)
    resolved = feeder_path(path, root, label)
    try:
        with open_feeder(resolved, label) as handle:
            head = bytes(handle.buffer.read(HEADER_BYTES))
    except OSError as exc:
        raise FeederFileError(f"cannot read CSV file {name}: {exc.strerror or exc}") from None
    header = _first_row(head, name)
    columns = tuple(column.strip() for column in header)
    if not columns or not any(columns):
        raise FeederFileError(f"CSV file {name} has no header row")
    if "" in columns:
        raise FeederFileError(f"CSV file {name} has an empty column name in its header row")
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise FeederFileError(
            f"CSV file {name} repeats column {shown(duplicates[0])} in its header"
        )
    return columns


def _first_row(head: bytes, name: str) -> list[str]:
    if len(head) == HEADER_BYTES and b"\n" not in head:
        raise FeederFileError(
            f"CSV file {name} has no header row in its first {HEADER_BYTES // 1024} KiB"
        )
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        text = decoder.decode(head, final=len(head) < HEADER_BYTES)
    except UnicodeDecodeError:
        raise FeederFileError(f"CSV file {name} is not UTF-8 text") from None
    if "\x00" in text.split("\n", 1)[0]:
        raise FeederFileError(f"CSV file {name} is not text (its first line has a NUL byte)")
    try:
        return next(csv.reader(io.StringIO(text)), [])
    except csv.Error as exc:
        raise FeederFileError(f"cannot read CSV file {name}: {exc}") from None


def shown(text: str, limit: int = _SHOWN_CHARS) -> str:
    """Text from a file or the user, safe for a message: escaped, quoted, and cut short."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return "`" + "".join(_escape(c) for c in cut) + "`"


def _escape(char: str) -> str:
    """Printable characters as they are; controls, escapes and format marks as `\\xNN`."""
    if char == "`":
        return "\\x60"
    if char.isprintable():
        return char
    return ascii(char)[1:-1]


def shown_columns(columns: Iterable[str]) -> str:
    """A header's columns for a message: at most ten, each escaped and cut short."""
    names = list(columns)
    text = ", ".join(shown(c) for c in names[:_SHOWN_COLUMNS])
    more = len(names) - _SHOWN_COLUMNS
    return text + (f" and {more} more" if more > 0 else "")
