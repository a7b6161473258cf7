"""Reading generated CI files in tests: steps by what they do, shell scripts to run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from contval.cli import app

runner = CliRunner()


def init(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["init", *args], input="")
    return result.exit_code, result.stdout, result.stderr


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def github_triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """`on:` is YAML 1.1's boolean true to PyYAML; GitHub reads it as the key "on"."""
    assert "on" not in workflow
    triggers = workflow[True]
    assert isinstance(triggers, dict)
    return triggers


def step_index(steps: list[dict[str, Any]], **match: str) -> int:
    """The index of the one step whose fields start with the given values."""
    found = [
        i
        for i, step in enumerate(steps)
        if all(str(step.get(key, "")).startswith(value) for key, value in match.items())
    ]
    assert len(found) == 1, (match, found)
    return found[0]


def fake_contval(bin_dir: Path, exit_code: int) -> Path:
    """A `contval` on PATH that records its arguments, one per line, and exits as told."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    record = bin_dir / "argv.txt"
    script = bin_dir / "contval"
    script.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\nmkdir -p contval-results\nexit {exit_code}\n'
    )
    script.chmod(0o755)
    return record
