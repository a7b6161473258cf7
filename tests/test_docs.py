"""The repository stands alone: its documents link only to files inside it, and those exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from contval.spec import SuiteInvalid, load_suite_text

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")
# Names of files that live outside the repository (a build machine's notes, absolute paths).
OUTSIDE = re.compile(r"DESIGN\.md|ANCHORS\.md|/work/|/shared/|/root/|/home/")


def _documents() -> list[Path]:
    skip = {".venv", ".git", "run", "node_modules", ".mypy_cache", ".pytest_cache"}
    return sorted(p for p in ROOT.rglob("*.md") if not skip & set(p.relative_to(ROOT).parts))


def test_documents_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in _documents()}
    assert {"README.md", "docs/http.md", "docs/suite.md", "docs/baselines.md"} <= names


def test_no_document_names_files_outside_the_repository() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in _documents()
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []


def test_relative_links_resolve_inside_the_repository() -> None:
    broken = []
    for doc in _documents():
        for target in LINK.findall(doc.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue  # a URL or an anchor in the same page
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert broken == []


FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)


def blocks(doc: Path, language: str) -> list[tuple[int, str]]:
    """(line, text) of every fenced block of `language` in `doc`."""
    text = doc.read_text()
    return [
        (text.count("\n", 0, m.start()) + 1, m.group(2))
        for m in FENCE.finditer(text)
        if m.group(1) == language
    ]


BASE_SUITE = """\
version: 1
name: docs
targets: {shop: 'http://127.0.0.1:8080'}
flows:
  browse: {target: shop, steps: [{name: home, request: GET /}]}
workloads:
  steady: {executor: constant-vus, vus: 1, duration: 1s, mix: {browse: 1}}
scenarios:
  smoke: {workload: steady}
"""


def _merged(fragment: dict[str, object]) -> str:
    """`BASE_SUITE` with each top-level mapping of `fragment` merged in, key by key."""
    suite = yaml.safe_load(BASE_SUITE)
    for key, value in fragment.items():
        if isinstance(value, dict) and isinstance(suite.get(key), dict):
            suite[key].update(value)
        else:
            suite[key] = value
    return yaml.safe_dump(suite, sort_keys=False)


FRAGMENT_PAGES = ("docs/coming-from-k6.md",)
"""Pages whose every YAML block is a suite fragment: merged into `BASE_SUITE`, it must load.
The files they name (`users.csv`, `signing.py`) are made next to the suite as the page shows."""


@pytest.mark.parametrize("page", FRAGMENT_PAGES)
def test_every_yaml_block_of_a_page_is_a_suite_that_loads(page: str, tmp_path: Path) -> None:
    found = blocks(ROOT / page, "yaml")
    assert len(found) >= 5
    (tmp_path / "users.csv").write_text("email,password\nann@example.com,pw\n")
    for line, code in blocks(ROOT / page, "python"):
        name = code.splitlines()[0].removeprefix("# ").strip()
        assert name.endswith(".py"), f"{page}:{line}: a python block starts with `# FILE.py`"
        (tmp_path / name).write_text(code)
    environ = {name: "x" for name in ("SHOP_USER", "SHOP_PASSWORD", "SHOP_REGION")}
    problems = []
    for line, code in found:
        try:
            load_suite_text(_merged(yaml.safe_load(code)), tmp_path / "suite.yaml", environ=environ)
        except SuiteInvalid as exc:
            problems.append(f"{page}:{line}: " + "; ".join(e.message for e in exc.errors))
    assert problems == []
