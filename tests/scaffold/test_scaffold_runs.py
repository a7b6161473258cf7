"""The starter suite runs as written against a real HTTP server, and passes its gates."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from contval.cli import app

pytestmark = pytest.mark.slow


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """`python -m http.server` on a free loopback port; yields its base URL."""
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<h1>hello</h1>\n")
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "Serving HTTP on 127.0.0.1 port N ..." once it listens
        match = re.search(r"port (\d+)", line)
        assert match, line
        yield f"http://127.0.0.1:{match[1]}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_scaffolded_suite_runs_and_passes(tmp_path: Path, http_server: str) -> None:
    project = tmp_path / "project"
    result = CliRunner().invoke(app, ["init", str(project), "--target", http_server], input="")
    assert result.exit_code == 0, result.stderr
    suite_file = project / "contval.yaml"
    text = suite_file.read_text()
    assert "    duration: 1m\n" in text
    # Shorter, but still one full window of the `over 5s` safety brake.
    suite_file.write_text(text.replace("    duration: 1m\n", "    duration: 6s\n"))

    out = tmp_path / "out"
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "contval", "run", str(suite_file)),
            *("--out", str(out), "--no-history", "--workers", "1"),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads((out / "result.json").read_text())
    assert doc["verdict"] == "pass"
    assert doc["complete"] is True
    (scenario,) = doc["scenarios"]
    assert scenario["name"] == "normal"
    assert scenario["totals"]["requests"] > 0
    assert scenario["totals"]["errors"] == 0
    verdicts = {t["expression"]: t["verdict"] for t in scenario["thresholds"]}
    assert len(verdicts) == 6
    assert set(verdicts.values()) == {"pass"}, verdicts


def test_github_run_step_runs_the_suite_and_keeps_history(tmp_path: Path, http_server: str) -> None:
    """The workflow's own run step, in bash with the workflow's env: reports and history land
    where the upload and cache steps look for them."""
    project = tmp_path / "repo"
    result = CliRunner().invoke(
        app, ["init", str(project), "--ci", "github", "--target-url", http_server], input=""
    )
    assert result.exit_code == 0, result.stderr
    suite_file = project / "contval.yaml"
    suite_file.write_text(suite_file.read_text().replace("duration: 1m\n", "duration: 6s\n"))
    workflow = yaml.safe_load((project / ".github" / "workflows" / "contval.yml").read_text())
    steps = workflow["jobs"]["validate"]["steps"]
    (command,) = [s["run"] for s in steps if s.get("name") == "Run the suite"]
    (cache,) = [s["with"]["path"] for s in steps if s.get("uses") == "actions/cache/save@v4"]
    (reports,) = [s["with"]["path"] for s in steps if s.get("name") == "Upload the reports"]

    bin_dir = Path(sys.executable).parent  # the venv's, where `contval` is installed
    # The workflow's env wins over the test session's CONTVAL_STORE, as it does on a runner.
    env = {**os.environ, **workflow["env"], "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    summary = tmp_path / "step_summary.md"  # what the runner gives each step
    summary.write_text("")
    env["GITHUB_STEP_SUMMARY"] = str(summary)
    proc = subprocess.run(
        ["bash", "-e", "-c", command + " --workers 1"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = project / reports
    assert {p.name for p in results.iterdir()} >= {
        "result.json",
        "junit.xml",
        "report.html",
        "summary.md",
    }
    doc = json.loads((results / "result.json").read_text())
    assert (doc["verdict"], doc["env"]) == ("pass", "ci")
    assert doc["scenarios"][0]["totals"]["requests"] > 0
    assert summary.read_text() == (results / "summary.md").read_text()  # the job summary
    history = project / workflow["env"]["CONTVAL_STORE"]
    assert history.is_file()
    assert history.parent == project / cache  # the cache keeps the store's folder
