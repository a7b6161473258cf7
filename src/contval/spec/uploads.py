"""Files a `multipart:` body sends: read once when the suite is loaded, shipped with it.

Workers never read files (see the feeders), so an upload's bytes live in the loaded suite. A
suite is untrusted input (CI validates pull requests), so the rules are the feeders': a regular
file under the suite's directory (or `--data-dir`), never a system file or a symlink out of it,
and at most `MAX_UPLOAD` bytes; messages name the file as the user wrote it, never its content.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

MAX_UPLOAD: Final = 10 * 1024 * 1024
"""The largest file a multipart body may send (it is held in memory by every worker)."""
_SYSTEM_DIRS: Final = (Path("/proc"), Path("/sys"), Path("/dev"))


def read_upload(path: Path, context: Mapping[str, Any] | None) -> bytes:
    """The bytes of `path` (relative to the data directory); `ValueError` saying why not."""
    context = context or {}
    root = context.get("data_dir") or context.get("base_dir")
    shown = repr(str(path)[:200])
    full = path if root is None or path.is_absolute() else Path(root) / path
    try:
        resolved = full.resolve()
    except (OSError, ValueError) as exc:
        raise ValueError(f"invalid upload file name {shown}: {exc}") from None
    if any(resolved.is_relative_to(d) for d in _SYSTEM_DIRS):
        raise ValueError(f"refused: upload file {shown} is a system file, not data")
    if root is not None and not resolved.is_relative_to(Path(root).resolve()):
        raise ValueError(
            f"refused: upload file {shown} is outside `{root}`; files must live under the "
            "suite's directory (or the directory given with --data-dir)"
        )
    try:
        fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        reason = "does not exist" if isinstance(exc, FileNotFoundError) else exc.strerror
        raise ValueError(
            f"upload file {shown} {reason} (relative paths start at the suite file)"
        ) from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"refused: upload file {shown} is not a regular file")
        if info.st_size > MAX_UPLOAD:
            raise ValueError(
                f"upload file {shown} has {info.st_size} bytes; at most {MAX_UPLOAD} (10 MiB)"
            )
        return file.read(MAX_UPLOAD + 1)[:MAX_UPLOAD]
