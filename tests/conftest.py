"""Test-wide settings: runs started by tests keep their history out of the working tree."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.target import Target


@pytest.fixture(autouse=True, scope="session")
def _history_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("history") / "history.db"
    old = os.environ.get("CONTVAL_STORE")
    os.environ["CONTVAL_STORE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("CONTVAL_STORE", None)
    else:
        os.environ["CONTVAL_STORE"] = old


@pytest.fixture
def target() -> Iterator[Target]:
    """A small HTTP target on a loopback port (tests/engine/target.py), stopped afterwards."""
    server = Target().start()
    yield server
    server.stop()
