"""Write a run's reports (HTML, JUnit, Markdown) from its `result.json` document.

Every renderer is a pure function of the document, so a report re-made later from the history
store (`contval report RUN`) is byte-for-byte the one written when the run ended.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from contval.baseline.sqlite import StoreError
from contval.report.seconds import read_result

Document = Mapping[str, Any]
ALL_FORMATS: Final = ("html", "junit", "markdown")
FILE_NAMES: Final = {"html": "report.html", "junit": "junit.xml", "markdown": "summary.md"}


class ReportSourceError(Exception):
    """The run to report on could not be found or read."""


def _renderer(fmt: str) -> Callable[[Document], str]:
    if fmt == "html":
        from contval.report.html import render_html

        return render_html
    if fmt == "junit":
        from contval.report.junit import render_junit

        return render_junit
    from contval.report.markdown import render_markdown

    return render_markdown


def render(doc: Document, fmt: str) -> str:
    return _renderer(fmt)(doc)


def write_reports(
    doc: Document, out_dir: Path, formats: tuple[str, ...] = ALL_FORMATS
) -> list[Path]:
    """Render each format into `out_dir` (atomically: a reader never sees half a file)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = out_dir / FILE_NAMES[fmt]
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(render(doc, fmt), encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    return written


def load_document(run: str, store: str | None = None) -> dict[str, Any]:
    """`run` is a result.json, a directory holding one, or a run id in the history store."""
    path = Path(run)
    if path.is_dir():
        path = path / "result.json"
    if path.suffix == ".json" or path.exists():
        try:
            loaded: dict[str, Any] = read_result(path)
        except (OSError, ValueError) as exc:
            raise ReportSourceError(f"cannot read {path}: {exc}") from None
        if not isinstance(loaded, dict) or "scenarios" not in loaded:
            raise ReportSourceError(f"{path} is not a contval result.json")
        return loaded
    from contval.baseline.store import HistoryStore

    try:
        with HistoryStore(store) as history:
            return history.document(run)
    except StoreError as exc:
        raise ReportSourceError(str(exc)) from None
