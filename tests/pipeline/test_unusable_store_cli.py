"""A history store or an output directory that cannot be used: one line naming the path and
the fix, exit 2, before any load, and the user's file left as it was (never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contval.baseline.sqlite import StoreUnusable
from contval.baseline.store import HistoryStore
from contval.cli import app
from contval.exitcodes import ExitCode
from tests.engine.target import Target
from tests.engine.test_run import constant_rate, one_step, write_suite

runner = CliRunner()
NOT_SQLITE = b"my notes, not a database\n" * 40


def cli(*args: str) -> tuple[int, str, BaseException | None]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    return result.exit_code, result.output, result.exception


def unusable_stores(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    directory = tmp_path / "a-dir"
    directory.mkdir()
    text = tmp_path / "notes.db"
    text.write_bytes(NOT_SQLITE)
    plain = tmp_path / "plain-file"
    plain.write_text("x")
    return {
        "directory": (
            directory,
            f"{directory} is a directory, not a history database: give --store (or "
            f"CONTVAL_STORE) a file path such as {directory / 'history.db'}",
        ),
        "not sqlite": (
            text,
            f"{text} is not a contval history database (file is not a database): move it "
            "aside, or give --store (or CONTVAL_STORE) another file",
        ),
        "parent is a file": (
            plain / "sub" / "history.db",
            f"cannot create {plain / 'sub' / 'history.db'}: {plain} is a file, not a "
            "directory; give --store (or CONTVAL_STORE) a path in a directory you can write",
        ),
    }


@pytest.mark.parametrize("case", ["directory", "not sqlite", "parent is a file"])
def test_opening_an_unusable_store_names_the_file_and_the_fix(tmp_path: Path, case: str) -> None:
    path, message = unusable_stores(tmp_path)[case]
    with pytest.raises(StoreUnusable) as raised:
        HistoryStore(path)
    assert str(raised.value) == message
    if case == "not sqlite":
        assert path.read_bytes() == NOT_SQLITE  # what the user stored there is untouched


@pytest.mark.parametrize("case", ["directory", "not sqlite", "parent is a file"])
def test_history_commands_report_an_unusable_store_in_one_line(tmp_path: Path, case: str) -> None:
    path, message = unusable_stores(tmp_path)[case]
    for command in (
        ["history", "main"],
        ["baseline", "list"],
        ["baseline", "show", "main"],
        ["compare", "r-a", "r-b"],
    ):
        code, out, exc = cli(*command, "--store", str(path))
        assert (code, out) == (ExitCode.INVALID_INPUT, f"error: history store: {message}\n")
        assert exc is None or isinstance(exc, SystemExit), command


@pytest.mark.parametrize("case", ["directory", "not sqlite", "parent is a file"])
def test_a_run_with_an_unusable_store_stops_before_its_load(
    tmp_path: Path, target: Target, case: str
) -> None:
    path, message = unusable_stores(tmp_path)[case]
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("50/s", "2s"))
    out_dir = tmp_path / "out"
    code, out, _ = cli("run", str(suite), "--out", str(out_dir), "--store", str(path))
    assert (code, out) == (ExitCode.INVALID_INPUT, f"error: history store: {message}\n")
    assert target.seen.requests == 0  # nothing was run
    assert not (out_dir / "result.json").exists()
    if case == "not sqlite":
        assert path.read_bytes() == NOT_SQLITE


def test_an_output_path_that_is_a_file_stops_a_run_and_a_report(
    tmp_path: Path, target: Target
) -> None:
    suite = write_suite(tmp_path, target.url, one_step("/ok"), constant_rate("50/s", "2s"))
    taken = tmp_path / "results"
    taken.write_text("keep me")
    store = str(tmp_path / "history.db")
    for out_dir in (taken, taken / "deeper"):
        code, out, _ = cli("run", str(suite), "--out", str(out_dir), "--store", store)
        assert (code, out) == (
            ExitCode.INVALID_INPUT,
            f"error: --out {out_dir}: cannot create the directory ({taken} is a file); "
            "give a directory\n",
        )
    assert target.seen.requests == 0 and taken.read_text() == "keep me"
    ok = tmp_path / "ok"
    code, out, _ = cli("run", str(suite), "--out", str(ok), "--store", store, "--allow-ungated")
    assert code == ExitCode.OK and target.seen.requests > 0
    code, out, _ = cli("report", str(ok / "result.json"), "--out", str(taken))
    assert (code, out) == (
        ExitCode.INVALID_INPUT,
        f"error: --out {taken}: cannot create the directory ({taken} is a file); "
        "give a directory\n",
    )
    assert taken.read_text() == "keep me"


def test_baseline_export_to_a_path_it_cannot_write(tmp_path: Path) -> None:
    from tests.pipeline.test_history_cli import fill

    fill(tmp_path, 3)
    store = str(tmp_path / "history.db")
    plain = tmp_path / "plain-file"
    plain.write_text("keep me")
    export = ("baseline", "export", "main", "--store", store, "--env", "test", "-o")
    code, out, _ = cli(*export, str(plain / "x.json"))
    assert (code, out) == (
        ExitCode.INVALID_INPUT,
        f"error: --output {plain / 'x.json'}: cannot write it ({plain} is a file)\n",
    )
    code, out, _ = cli(*export, str(tmp_path))
    assert (code, out) == (
        ExitCode.INVALID_INPUT,
        f"error: --output {tmp_path}: cannot write it (Is a directory)\n",
    )
    assert plain.read_text() == "keep me"
    fresh = tmp_path / "new" / "dir" / "baseline.json"  # missing directories are created
    code, out, _ = cli(*export, str(fresh))
    assert (code, out) == (0, f"wrote 3 baseline run(s) to {fresh}\n")
    assert len(json.loads(fresh.read_text())["runs"]) == 3


def test_a_store_that_fails_after_it_opened_is_one_line(tmp_path: Path) -> None:
    """A damaged history (a table gone) opens, then fails on its first read: the real
    entry point (`contval`, not the test runner's app) prints one line, exit 2."""
    import sqlite3
    import subprocess
    import sys

    from tests.pipeline.test_history_cli import fill

    fill(tmp_path, 2)
    store = tmp_path / "history.db"
    with sqlite3.connect(store) as db:
        db.execute("DROP TABLE windows")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "contval",
            "history",
            "main",
            "--store",
            str(store),
            "--env",
            "test",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (ExitCode.INVALID_INPUT, "")
    assert (
        done.stderr == "error: history store: the history database failed: no such table: windows\n"
    )
